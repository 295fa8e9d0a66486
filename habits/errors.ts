/** A bad input row: every message names the file, the 1-based line, the column and the raw value, so a user can find it. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${file}:${line}: column ${column}: got "${value}"; ${expected}`);
    this.name = 'InputError';
  }
}
