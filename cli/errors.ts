/**
 * A bad flag value, or flags that do not go together: the user's to fix. `main` prints
 * `rescoin <command>: --flag: message` and exits 2. The libraries never name flags: their errors
 * name fields and values, and the commands translate them here.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  /** Every flag the error is about; `flag` is the first. */
  readonly flags: readonly string[];

  constructor(flags: string | readonly string[], message: string) {
    super(message);
    this.flags = typeof flags === 'string' ? [flags] : flags;
  }

  /** The flag the error is about, as typed: `--days`. */
  get flag(): string {
    return this.flags[0];
  }
}

