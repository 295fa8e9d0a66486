/**
 * An error for the user, not a bug: a refused transaction, an unknown account, a missing or
 * unsafe key file, a damaged ledger. The message names the field or file and the value.
 */
export class LedgerError extends Error {
  override name = 'LedgerError';

  /**
   * @param field the input the error is about, when the caller gave it (`dir`, `name`, `from`, `to`,
   *   `report`, `policy`): the message then starts with `field: `, and a command line can name its
   *   own flag for the field instead (cli/).
   */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** The message without its `field: ` prefix. */
  get detail(): string {
    const prefix = `${this.field}: `;
    return this.field !== undefined && this.message.startsWith(prefix) ? this.message.slice(prefix.length) : this.message;
  }
}
