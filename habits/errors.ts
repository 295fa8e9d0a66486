/** STUB until the importers land (h14-import). */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: column ${column}: got "${value}"; ${reason}`);
  }
}
