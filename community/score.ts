import { DT, evShortfallTerm, peakTerm, pwlSquare, slotRescoin, SLOTS, type Day, type DayLog, type ScoreParts, type Scenario } from '../env/index.js';
import type { Community } from './community.js';
import { clearSlot, newClearing } from './market.js';

/**
 * # The score of a community day (docs/community.md, "Score"): ONE definition for the env, the MILP
 * and the KPIs.
 *
 * Home i's J_i is the single-home J (env/score.ts) with the grid bill of each slot, slotCost, replaced
 * by its market payment payment_i,t·Δt (community/market.ts clearSlot of the slot's net loads). Its
 * peak term, F.O.2, RESCoin and EV shortfall are its own, unchanged. The feeder flow is
 * G_t = Σ_i net_i,t (physical, whatever the market) and the operator is paid
 * O = peakEurPerKwDay · max(0, max_t G_t). The community J = Σ_i J_i + O.
 *
 * Under `none` a payment is λb·imp − λs·exp, the very product slotCost takes, so J_i is the
 * single-home J bit for bit.
 */

export interface CommunityHomeSummary extends ScoreParts {
  /** The home's id in the community file. */
  id: string;
  /** The seed of the home's Day (so that a CommunityInfo is also a single-home StepInfo). */
  seed: number;
  // ScoreParts' `cost` is the market bill Σ_t payment_i,t·Δt, €.
  /** What the same flows cost under `none` (each home alone with the grid), €. */
  gridCost: number;
  p2pBoughtKwh: number;
  p2pSoldKwh: number;
  /** Fallbacks the controller applied over the day (0 when the flows came without them). */
  violations: number;
}

export interface CommunityDaySummary {
  /** The seed the days were drawn from (−1: days given, not drawn). */
  seed: number;
  /** The community J, €: Σ_i J_i + O. */
  score: number;
  /** O = peakEurPerKwDay · max(0, feederPeakKw), €. */
  operatorCost: number;
  /** max_t G_t, kW (negative on a day the community exports in every slot). */
  feederPeakKw: number;
  /** Σ_t max(0, G_t − feederKw)·Δt over the slots where G_t passed the feeder by more than LIMIT_TOL, kWh. */
  feederExcessKwh: number;
  homes: CommunityHomeSummary[];
}

/** Everything that happened in a community day (the env's trajectory()). */
export interface CommunityDayLog {
  seed: number;
  days: Day[];
  homes: DayLog[];
  /** The clearing prices of each slot, €/kWh. */
  buyPrice: Float64Array;
  sellPrice: Float64Array;
  /** [i * 96 + t], kW. */
  boughtP2pKw: Float64Array;
  soldP2pKw: Float64Array;
  boughtGridKw: Float64Array;
  soldGridKw: Float64Array;
  /** [i * 96 + t]: € of the slot, payment·Δt. */
  paymentEur: Float64Array;
  /** G_t = Σ_i net_i,t, kW. */
  feederKw: Float64Array;
  operatorRewards: Float64Array;
  /** The forced excess reported at slot t (infos' feederExcessKw: the forced loads over the feeder), kW. */
  feederExcessKw: Float64Array;
  summary?: CommunityDaySummary;
}

export interface CommunityFlows {
  importKw: ArrayLike<number>[];
  exportKw: ArrayLike<number>[];
  loadKw: ArrayLike<number>[];
  /** Per home the SoC at the start of each slot (97 entries; only [96] is read); needed for a home with an EV. */
  socKwh: ArrayLike<number>[];
  /** Per home its fallbacks over the day (default 0). */
  violations?: ArrayLike<number>;
  /** The seed to report (default −1). */
  seed?: number;
}

/** Tolerance of the feeder check, kW (the homes' limit checks use the same). */
export const FEEDER_TOL = 1e-6;

/**
 * The part of J_i that slot t adds, apart from the peak: the market payment (€ of the slot) in place
 * of slotCost, then w·φ(L − q) − v·RSC_t, summed in env/score.ts slotTerm's order.
 */
export function marketSlotTerm(s: Scenario, day: Day, t: number, paymentEur: number, exportKw: number, loadKw: number): number {
  return paymentEur + s.objective.fo2Weight * pwlSquare(loadKw - day.meanLoadKw, s.objective.fo2BreakpointsKw) - s.rescoin.valueEur * slotRescoin(s, day.pvKw[t], exportKw);
}

/** O(P) = peakEurPerKwDay · max(0, P): the operator's term for a feeder peak P, €. */
export function operatorTerm(c: Community, feederPeakKw: number): number {
  return c.peakEurPerKwDay * Math.max(0, feederPeakKw);
}

/** Score a community day from its flows; clears every slot itself with the community's market. */
export function scoreCommunityDay(c: Community, days: readonly Day[], flows: CommunityFlows): CommunityDaySummary {
  const n = c.homes.length;
  if (days.length !== n) throw new Error(`scoreCommunityDay: ${days.length} days for ${n} homes; expected one Day per home (drawCommunityDay)`);
  for (const key of ['importKw', 'exportKw', 'loadKw', 'socKwh'] as const) {
    if (flows[key].length !== n) throw new Error(`scoreCommunityDay: flows.${key} has ${flows[key].length} homes, expected ${n}`);
  }
  const net = new Float64Array(n);
  const clearing = newClearing(n);
  const terms = new Float64Array(n);
  const bill = new Float64Array(n);
  const gridCost = new Float64Array(n);
  const bought = new Float64Array(n);
  const sold = new Float64Array(n);
  let peakG = -Infinity;
  let excess = 0;
  for (let t = 0; t < SLOTS; t++) {
    let g = 0;
    for (let i = 0; i < n; i++) {
      net[i] = flows.importKw[i][t] - flows.exportKw[i][t];
      g += net[i];
    }
    if (g > peakG) peakG = g;
    if (g > c.feederKw + FEEDER_TOL) excess += (g - c.feederKw) * DT;
    clearSlot(c.market, net, c.buyPriceKwh[t], c.sellPriceKwh, clearing);
    for (let i = 0; i < n; i++) {
      const s = c.homes[i].scenario;
      const pay = clearing.paymentEurPerH[i] * DT;
      terms[i] += marketSlotTerm(s, days[i], t, pay, flows.exportKw[i][t], flows.loadKw[i][t]);
      bill[i] += pay;
      gridCost[i] += (s.priceKwh[t] * flows.importKw[i][t] - s.tariff.feedInEurPerKwh * flows.exportKw[i][t]) * DT;
      bought[i] += clearing.boughtP2pKw[i] * DT;
      sold[i] += clearing.soldP2pKw[i] * DT;
    }
  }
  const homes = c.homes.map((h, i) => homeSummary(h.id, h.scenario, days[i], flows, i, terms[i], bill[i], gridCost[i], bought[i], sold[i]));
  return finishCommunity(c, homes, peakG, excess, flows.seed ?? -1);
}

function homeSummary(id: string, s: Scenario, day: Day, f: CommunityFlows, i: number, slotTerms: number, bill: number, gridCost: number, bought: number, sold: number): CommunityHomeSummary {
  const imp = f.importKw[i];
  const exp = f.exportKw[i];
  let importKwh = 0;
  let exportKwh = 0;
  let fo2 = 0;
  let rscEnergy = 0;
  let peakKw = 0;
  for (let t = 0; t < SLOTS; t++) {
    importKwh += imp[t] * DT;
    exportKwh += exp[t] * DT;
    fo2 += s.objective.fo2Weight * pwlSquare(f.loadKw[i][t] - day.meanLoadKw, s.objective.fo2BreakpointsKw);
    rscEnergy += slotRescoin(s, day.pvKw[t], exp[t]);
    if (imp[t] > peakKw) peakKw = imp[t];
  }
  if (s.ev && day.ev && !(f.socKwh[i].length > SLOTS)) throw new Error(`scoreCommunityDay: flows.socKwh[${i}] needs 97 entries (its end SoC is in J), got ${f.socKwh[i].length}`);
  const endSocKwh = s.ev && day.ev ? f.socKwh[i][SLOTS] : NaN;
  return finishHome(id, s, day, { slotTerms, bill, gridCost, bought, sold, importKwh, exportKwh, fo2, rscEnergy, peakKw, endSocKwh, violations: f.violations ? f.violations[i] : 0 });
}

/** A home's day summed over its slots (each sum in slot order): what its summary is made of. */
export interface HomeDaySums {
  /** Σ_t marketSlotTerm. */
  slotTerms: number;
  /** Σ_t payment·Δt, €. */
  bill: number;
  gridCost: number;
  bought: number;
  sold: number;
  importKwh: number;
  exportKwh: number;
  /** Σ_t w·φ(L − q), €. */
  fo2: number;
  /** Σ_t slotRescoin, RSC. */
  rscEnergy: number;
  peakKw: number;
  /** The SoC at the end of the day (read only for a home with an EV), kWh. */
  endSocKwh: number;
  violations: number;
}

/** A home's summary from its day's sums (scoreCommunityDay's, or the core's running sums: community/day-sums.ts). */
export function finishHome(id: string, s: Scenario, day: Day, m: HomeDaySums): CommunityHomeSummary {
  const { peakKw, importKwh } = m;
  const shortfallCost = s.ev && day.ev ? evShortfallTerm(s, day, m.endSocKwh) : 0;
  const rescoin = m.rscEnergy + s.rescoin.perKwPeakReduction * Math.max(0, day.referencePeakKw - peakKw);
  const meanImport = importKwh / (SLOTS * DT);
  return {
    id,
    seed: day.seed,
    score: m.slotTerms + peakTerm(s, day, peakKw) + shortfallCost,
    cost: m.bill,
    gridCost: m.gridCost,
    peakCost: s.objective.peakEurPerKw * peakKw,
    fo2Cost: m.fo2,
    shortfallCost,
    rescoin,
    rescoinValue: s.rescoin.valueEur * rescoin,
    importKwh,
    exportKwh: m.exportKwh,
    peakKw,
    par: meanImport > 0 ? peakKw / meanImport : 0,
    p2pBoughtKwh: m.bought,
    p2pSoldKwh: m.sold,
    violations: m.violations,
  };
}

/** The community's summary from its homes' summaries and the feeder's day. */
export function finishCommunity(c: Community, homes: CommunityHomeSummary[], feederPeakKw: number, feederExcessKwh: number, seed: number): CommunityDaySummary {
  const operatorCost = operatorTerm(c, feederPeakKw);
  let score = 0;
  for (const h of homes) score += h.score;
  return { seed, score: score + operatorCost, operatorCost, feederPeakKw, feederExcessKwh, homes };
}
