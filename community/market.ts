/**
 * # The P2P markets of the neighbourhood (docs/community.md, "Markets")
 *
 * Each mechanism is a pure function of one slot's net loads (kW, > 0 imports, < 0 exports) and the
 * grid's two prices λb (import) ≥ λs (feed-in). Every buyer pays ONE price and every seller gets
 * ONE price, so a home's bill is price · net whoever it trades with. With D = Σ max(net, 0) (TBP)
 * and S = Σ max(−net, 0) (TSP):
 *
 * - `none`: no market. Each home meets the grid alone: buyers pay λb, sellers get λs, and the
 *   community exchanges D in and S out (no netting).
 * - `bill-sharing` (rescoin's definition): the community nets first, so it imports D − S or
 *   exports S − D. The side that meets the grid shares the community's grid bill in proportion to
 *   its volume; the other side trades at its own grid price.
 *     D > S: sellers get λs, buyers pay (λb·(D−S) + λs·S) / D.
 *     S > D: buyers pay λb, sellers get (λs·(S−D) + λb·D) / S.
 *     D = S > 0: the two rules have different limits (λs for both, or λb for both); we take their
 *       midpoint, (λb+λs)/2 for both, so neither side takes all the gain of a balanced slot.
 *     D = S = 0: λb and λs, what a lone marginal buyer or seller would get.
 * - `mid-market` (Long et al. 2017, net form): P_mm = (λb+λs)/2 for the P2P part, the grid price
 *   for the rest of the long side.
 *     D > S: sellers get P_mm, buyers pay (P_mm·S + λb·(D−S)) / D.
 *     S > D: buyers pay P_mm, sellers get (P_mm·D + λs·(S−D)) / S.
 *     D = S > 0: P_mm for both; D = S = 0: λb and λs (as bill sharing).
 * - `sdr` (Liu et al. 2017, IEEE TPWRS 32(5)): SDR = S / D.
 *     0 ≤ SDR < 1: P_sell = λb·λs / ((λb−λs)·SDR + λs), P_buy = P_sell·SDR + λb·(1−SDR).
 *     SDR ≥ 1 (and D = 0): both λs. At λs = 0, SDR = 0 the 0/0 takes its limit λb.
 *   The formula has a pole inside [0, 1) when λs < 0, so `sdr` needs λs ≥ 0.
 *
 * Volumes of the netting mechanisms: the short side trades all of its net with peers; each home of
 * the long side trades the share short/long of its net with peers and the rest with the grid.
 * Every internal price lies in [λs, λb], so no home pays more than under `none`, and the payments
 * sum to what the community pays the grid (λb·import − λs·export): a market only redistributes.
 *
 * Hot path (1,000 homes × 96 slots per community-day): two passes over the array, no allocation
 * when `out` is given, validation by plain comparisons (zod would allocate per call).
 */

export type Mechanism = 'none' | 'bill-sharing' | 'mid-market' | 'sdr';
export const MECHANISMS: readonly Mechanism[] = Object.freeze(['none', 'bill-sharing', 'mid-market', 'sdr'] as const);

export interface Clearing {
  /** Per home (same order as netKw), kW over the slot, all ≥ 0. */
  boughtP2pKw: Float64Array;
  boughtGridKw: Float64Array;
  soldP2pKw: Float64Array;
  soldGridKw: Float64Array;
  /** €/kWh a home pays for each kWh it buys (buyers) / receives for each kWh it sells (sellers); 0-volume side: the price it would get. */
  buyPrice: number;
  sellPrice: number;
  /** Per home € per hour: price·net (buyers pay buyPrice·netKw, sellers get sellPrice·(−netKw)); multiply by Δt for € of the slot. */
  paymentEurPerH: Float64Array;
  /**
   * The community's exchange with the grid, kW (never both > 0 when the community nets; under
   * `none` each home is billed alone, so these are D and S), and what it pays the grid, € per hour.
   */
  gridImportKw: number;
  gridExportKw: number;
  gridPaymentEurPerH: number;
  /** Totals: TBP (Σ positive net), TSP (Σ −negative net). */
  demandKw: number;
  supplyKw: number;
}

/** A zeroed clearing for n homes, to pass as `out` slot after slot. */
export function newClearing(n: number): Clearing {
  if (!Number.isInteger(n) || n < 0) throw new Error(`newClearing: n must be a non-negative integer, got ${n}`);
  return {
    boughtP2pKw: new Float64Array(n),
    boughtGridKw: new Float64Array(n),
    soldP2pKw: new Float64Array(n),
    soldGridKw: new Float64Array(n),
    buyPrice: 0,
    sellPrice: 0,
    paymentEurPerH: new Float64Array(n),
    gridImportKw: 0,
    gridExportKw: 0,
    gridPaymentEurPerH: 0,
    demandKw: 0,
    supplyKw: 0,
  };
}

/** Keeps a rounded price inside [λs, λb], so "no home pays more than under none" holds exactly. */
function clampPrice(p: number, lb: number, ls: number): number {
  return p > lb ? lb : p < ls ? ls : p;
}

/** Sets out.buyPrice and out.sellPrice for the slot's totals (no object returned: no allocation). */
function setPrices(mechanism: Mechanism, d: number, s: number, lb: number, ls: number, out: Clearing): void {
  if (mechanism === 'sdr') {
    if (s >= d) {
      out.buyPrice = ls;
      out.sellPrice = ls;
      return;
    }
    const sdr = s / d;
    const denom = (lb - ls) * sdr + ls;
    const sell = denom === 0 ? lb : clampPrice((lb * ls) / denom, lb, ls);
    out.sellPrice = sell;
    out.buyPrice = clampPrice(sell * sdr + lb * (1 - sdr), lb, ls);
    return;
  }
  if (mechanism === 'none' || (d === 0 && s === 0)) {
    out.buyPrice = lb;
    out.sellPrice = ls;
    return;
  }
  const mid = (lb + ls) / 2;
  if (d === s) {
    out.buyPrice = mid;
    out.sellPrice = mid;
  } else if (d > s) {
    // The sellers' price covers the P2P part; the buyers' price covers that and the grid import.
    const sell = mechanism === 'bill-sharing' ? ls : mid;
    out.sellPrice = sell;
    out.buyPrice = clampPrice((sell * s + lb * (d - s)) / d, lb, ls);
  } else {
    const buy = mechanism === 'bill-sharing' ? lb : mid;
    out.buyPrice = buy;
    out.sellPrice = clampPrice((buy * d + ls * (s - d)) / s, lb, ls);
  }
}

function checkArgs(mechanism: Mechanism, n: number, lb: number, ls: number, out: Clearing): void {
  if (mechanism !== 'none' && mechanism !== 'bill-sharing' && mechanism !== 'mid-market' && mechanism !== 'sdr') {
    throw new Error(`clearSlot: mechanism must be one of ${MECHANISMS.join(', ')}, got ${String(mechanism)}`);
  }
  if (!Number.isFinite(lb)) throw new Error(`clearSlot: buyPrice must be finite, got ${lb}`);
  if (!Number.isFinite(ls)) throw new Error(`clearSlot: sellPrice must be finite, got ${ls}`);
  if (ls > lb) throw new Error(`clearSlot: sellPrice must be ≤ buyPrice, got sellPrice ${ls} > buyPrice ${lb}`);
  if (mechanism === 'sdr' && ls < 0) throw new Error(`clearSlot: sdr needs sellPrice ≥ 0, got ${ls}`);
  if (out.paymentEurPerH.length !== n || out.boughtP2pKw.length !== n || out.boughtGridKw.length !== n || out.soldP2pKw.length !== n || out.soldGridKw.length !== n) {
    throw new Error(`clearSlot: out was made for ${out.paymentEurPerH.length} homes, got ${n} net loads`);
  }
}

/**
 * Clears one slot. netKw[i] > 0: home i imports (buys) that power, < 0 exports (sells).
 * buyPrice = λb (grid import price), sellPrice = λs (feed-in price), λs ≤ λb. Fills and returns
 * `out` (a new clearing if none is given).
 */
export function clearSlot(mechanism: Mechanism, netKw: ArrayLike<number>, buyPrice: number, sellPrice: number, out?: Clearing): Clearing {
  const n = netKw.length;
  const c = out ?? newClearing(n);
  const lb = buyPrice;
  const ls = sellPrice;
  checkArgs(mechanism, n, lb, ls, c);

  let d = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = netKw[i];
    if (x > 0) d += x;
    else if (x < 0) s -= x;
    else if (x !== 0) throw new Error(`clearSlot: netKw[${i}] must be finite, got ${x}`);
  }
  // A sum turns infinite if and only if some net is ±Infinity (or the nets overflow).
  if (!Number.isFinite(d) || !Number.isFinite(s)) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(netKw[i])) throw new Error(`clearSlot: netKw[${i}] must be finite, got ${netKw[i]}`);
    throw new Error(`clearSlot: the total net load overflows (demand ${d}, supply ${s})`);
  }
  setPrices(mechanism, d, s, lb, ls, c);
  c.demandKw = d;
  c.supplyKw = s;

  const netting = mechanism !== 'none';
  // Share of each long-side home's net traded with peers; the short side trades all with peers.
  const buyerP2p = !netting ? 0 : d > s ? s / d : 1;
  const sellerP2p = !netting ? 0 : s > d ? d / s : 1;
  const bp = c.buyPrice;
  const sp = c.sellPrice;
  for (let i = 0; i < n; i++) {
    const x = netKw[i];
    if (x > 0) {
      const p2p = buyerP2p === 1 ? x : x * buyerP2p;
      c.boughtP2pKw[i] = p2p;
      c.boughtGridKw[i] = x - p2p;
      c.soldP2pKw[i] = 0;
      c.soldGridKw[i] = 0;
      c.paymentEurPerH[i] = bp * x;
    } else if (x < 0) {
      const p2p = sellerP2p === 1 ? -x : -x * sellerP2p;
      c.boughtP2pKw[i] = 0;
      c.boughtGridKw[i] = 0;
      c.soldP2pKw[i] = p2p;
      c.soldGridKw[i] = -x - p2p;
      c.paymentEurPerH[i] = sp * x;
    } else {
      c.boughtP2pKw[i] = 0;
      c.boughtGridKw[i] = 0;
      c.soldP2pKw[i] = 0;
      c.soldGridKw[i] = 0;
      c.paymentEurPerH[i] = 0;
    }
  }

  const imp = netting ? (d > s ? d - s : 0) : d;
  const exp = netting ? (s > d ? s - d : 0) : s;
  c.gridImportKw = imp;
  c.gridExportKw = exp;
  c.gridPaymentEurPerH = lb * imp - ls * exp;
  return c;
}
