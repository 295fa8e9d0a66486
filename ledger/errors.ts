/**
 * An error for the user, not a bug: a refused transaction, an unknown account, a missing or
 * unsafe key file, a damaged ledger. The message names the field or file and the value.
 */
export class LedgerError extends Error {
  override name = 'LedgerError';
}
