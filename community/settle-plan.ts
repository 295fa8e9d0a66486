import { DT, SLOTS } from '../env/index.js';
import { MICRO_PER_RSC, toMicroRsc } from '../ledger/index.js';

/**
 * The arithmetic of settling a community day on the ledger (docs/community-settlement.md), pure:
 * each home's bill split into its grid part and its internal part, the internal parts in µRSC
 * rounded so that they sum to exactly 0, and the pairwise transfers from net payers to net
 * receivers. community/settle.ts turns the result into signed transactions.
 */

/** What the split needs of a CommunityDayLog (community-api.md): per home and slot, [i*96+t]. */
export interface MarketFlows {
  /** € of the slot the home pays the market (< 0: it is paid). */
  paymentEur: ArrayLike<number>;
  boughtGridKw: ArrayLike<number>;
  soldGridKw: ArrayLike<number>;
}

export interface BillParts {
  /** Σ_t paymentEur: the home's market bill, €. */
  billEur: number;
  /** Σ_t (λb·boughtGrid − λs·soldGrid)·Δt: what its grid share costs at the grid's prices, €. */
  gridEur: number;
  /** billEur − gridEur: what it pays its neighbours (> 0) or gets from them (< 0), €. */
  internalEur: number;
}

/**
 * Each home's bill, grid part and internal part over the day. The grid part is the energy the market
 * assigns to the grid priced at the grid's prices, so the internal parts of a slot sum to 0 whenever
 * the market's payments sum to the community's grid bill (the budget balance of market.ts).
 */
export function billParts(n: number, flows: MarketFlows, buyPriceKwh: ArrayLike<number>, sellPriceKwh: number): BillParts[] {
  for (const k of ['paymentEur', 'boughtGridKw', 'soldGridKw'] as const)
    if (flows[k].length !== n * SLOTS) throw new Error(`settle: ${k} has ${flows[k].length} values, expected ${n} homes × ${SLOTS} slots = ${n * SLOTS}`);
  const out: BillParts[] = [];
  for (let i = 0; i < n; i++) {
    let bill = 0;
    let grid = 0;
    let internal = 0;
    for (let t = 0; t < SLOTS; t++) {
      const k = i * SLOTS + t;
      const pay = flows.paymentEur[k];
      const g = (buyPriceKwh[t] * flows.boughtGridKw[k] - sellPriceKwh * flows.soldGridKw[k]) * DT;
      if (!Number.isFinite(pay) || !Number.isFinite(g)) throw new Error(`settle: home ${i} slot ${t}: paymentEur ${pay}, grid part ${g}: expected finite numbers`);
      bill += pay;
      grid += g;
      // Summed per slot, not as bill − grid at the end, so the slot's budget balance carries over.
      internal += pay - g;
    }
    out.push({ billEur: bill, gridEur: grid, internalEur: internal });
  }
  return out;
}

/** € to µRSC at valueEur € per RSC, by the ledger's one conversion (toMicroRsc). */
export function eurToMicroRsc(eur: number, valueEur: number): number {
  return toMicroRsc(eur / valueEur);
}

/** µRSC back to € at valueEur € per RSC. */
export function microRscToEur(micro: number, valueEur: number): number {
  return (micro / MICRO_PER_RSC) * valueEur;
}

/**
 * The internal parts (€) as integers of µRSC that sum to exactly 0. Each home starts from its own
 * rounded amount (toMicroRsc); the residual r = Σ rounded (|r| ≤ n/2) is removed one µRSC at a time
 * from the homes whose rounding moved furthest in r's direction, ties to the lower index (largest
 * remainder, Hamilton's method). So each home is within 1 µRSC of its exact amount, and equals its
 * own rounding unless it absorbed a unit. Throws when the parts do not balance (> 1 µRSC).
 */
export function internalMicroRsc(internalEur: readonly number[], valueEur: number): number[] {
  if (!(valueEur > 0) || !Number.isFinite(valueEur)) throw new Error(`settle: rescoin.valueEur must be > 0 to convert € into RSC, got ${valueEur}`);
  const exact = internalEur.map((e) => (e / valueEur) * MICRO_PER_RSC);
  const rounded = internalEur.map((e) => eurToMicroRsc(e, valueEur));
  const imbalance = exact.reduce((a, b) => a + b, 0);
  if (Math.abs(imbalance) > 1) throw new Error(`settle: the homes' internal parts sum to ${imbalance.toFixed(3)} µRSC, not 0: the market does not balance its budget (or the log is not one community day)`);
  let residual = rounded.reduce((a, b) => a + b, 0);
  if (residual === 0) return rounded;
  const dir = Math.sign(residual);
  // Homes by how far rounding moved them in the residual's direction, most first; ties by index.
  const order = rounded.map((_, i) => i).sort((a, b) => dir * (rounded[b] - exact[b]) - dir * (rounded[a] - exact[a]) || a - b);
  for (const i of order) {
    if (residual === 0) break;
    rounded[i] -= dir;
    residual -= dir;
  }
  if (residual !== 0) throw new Error(`settle: a rounding residual of ${residual} µRSC is left (more than one per home)`);
  return rounded;
}

export interface PlannedTransfer {
  /** Home indices. */
  from: number;
  to: number;
  /** µRSC, > 0. */
  amount: number;
}

/**
 * Pairwise transfers that settle the internal parts: net payers (micro > 0) pay net receivers
 * (micro < 0), pro rata. Payers go in index order; each splits its amount over the receivers in
 * proportion to what they are still owed, by largest remainder (ties to the lower index), in exact
 * integer arithmetic. Every payer pays exactly its amount and every receiver gets exactly its own;
 * one transfer per (payer, receiver) pair with an amount > 0, in payer then receiver order.
 */
export function pairwiseTransfers(micro: readonly number[]): PlannedTransfer[] {
  for (const [i, m] of micro.entries()) if (!Number.isSafeInteger(m)) throw new Error(`settle: internal part of home ${i} must be an integer of µRSC, got ${m}`);
  const total = micro.reduce((a, b) => a + b, 0);
  if (total !== 0) throw new Error(`settle: internal parts sum to ${total} µRSC; transfers need them to sum to 0`);
  const receivers = micro.flatMap((m, j) => (m < 0 ? [j] : []));
  const owed = receivers.map((j) => BigInt(-micro[j]));
  let left = owed.reduce((a, b) => a + b, 0n);
  const out: PlannedTransfer[] = [];
  micro.forEach((m, i) => {
    if (m <= 0) return;
    const x = BigInt(m);
    const shares = owed.map((r) => (x * r) / left);
    const rems = owed.map((r) => (x * r) % left);
    let extra = x - shares.reduce((a, b) => a + b, 0n);
    const byRem = owed.map((_, k) => k).sort((a, b) => (rems[b] > rems[a] ? 1 : rems[b] < rems[a] ? -1 : a - b));
    // The extra units go to non-zero remainders only (there are more of those than units), and a
    // receiver with a remainder was owed more than its floor: nobody gets more than it is owed.
    for (const k of byRem) {
      if (extra === 0n) break;
      shares[k] += 1n;
      extra -= 1n;
    }
    shares.forEach((s, k) => {
      if (s === 0n) return;
      owed[k] -= s;
      out.push({ from: i, to: receivers[k], amount: Number(s) });
    });
    left -= x;
  });
  return out;
}
