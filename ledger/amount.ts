/**
 * Amounts on the ledger are integers of micro-RSC (µRSC): 1 RSC = 1,000,000 µRSC. Integers keep
 * every balance exact (a sum of floats drifts, and "sum of balances = sum of mints" must hold to the
 * last unit), and JSON carries them without loss up to Number.MAX_SAFE_INTEGER µRSC (≈ 9·10⁹ RSC).
 */

export const MICRO_PER_RSC = 1_000_000;

/** The largest amount or balance the ledger holds, µRSC. */
export const MAX_MICRO_RSC = Number.MAX_SAFE_INTEGER;

/**
 * RSC (a float: the environment's `info.day.rescoin`, the MILP's `parts.rescoin`, a CLI amount) to
 * the ledger's integer µRSC, rounded to the nearest µRSC (halves away from zero).
 *
 * This is the one conversion: the evaluation's payouts, `ledger mint`, `ledger transfer` and the
 * tests all call it, so a day's payout is one number in the environment, the MILP and the ledger.
 * x·10⁶ is within one ulp of the exact product, so any amount written with ≤ 6 decimals converts
 * exactly. Throws on NaN, ±∞ and amounts beyond MAX_MICRO_RSC.
 */
export function toMicroRsc(rsc: number): number {
  if (!Number.isFinite(rsc)) throw new RangeError(`amount must be a finite number of RSC, got ${rsc}`);
  const micro = Math.sign(rsc) * Math.round(Math.abs(rsc) * MICRO_PER_RSC);
  if (Math.abs(micro) > MAX_MICRO_RSC) throw new RangeError(`amount ${rsc} RSC is beyond the ledger's largest amount (${MAX_MICRO_RSC} µRSC)`);
  return micro === 0 ? 0 : micro;
}

/** µRSC as an exact decimal RSC string ("12.5", "0.000001"), with integer arithmetic only. */
export function formatRsc(micro: number): string {
  if (!Number.isSafeInteger(micro)) throw new RangeError(`µRSC must be a safe integer, got ${micro}`);
  const sign = micro < 0 ? '-' : '';
  const abs = Math.abs(micro);
  const whole = Math.floor(abs / MICRO_PER_RSC);
  const frac = String(abs % MICRO_PER_RSC).padStart(6, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}
