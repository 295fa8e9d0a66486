import { evShortfallPrice, type Scenario } from './scenario.js';
import type { Day } from './day.js';
import { DT, SLOTS } from './time.js';

/**
 * The one score of a day (DESIGN.md, "Objective, reward and the MILP: one function"). To minimise:
 *
 *   J = Σ_t (C_t·imp_t − g·exp_t)·Δt  +  λ·peak  +  w·Σ_t φ(L_t − q)  −  v·RSC  +  S
 *
 *   imp_t, exp_t  grid import / export in slot t (kW), never both > 0
 *   peak          max_t imp_t (kW)
 *   L_t           the home's consumption: fixed loads + appliances + EV charge − EV discharge (kW);
 *                 PV is not in it, as in the paper's eq. (4), so the F.O.2 term rewards a flat
 *                 consumption and never a curtailed PV
 *   q             the day's mean consumption, fixed at reset (eq. 5): fixed loads + requested cycles
 *                 + the EV energy the trip needs, over 24 h (Day.meanLoadKw)
 *   φ             piecewise-linear interpolation of x² at the scenario's breakpoints, extended
 *                 linearly outside them: convex, so an LP represents it exactly as a max of lines
 *   S             EV shortfall: p_s·max(0, soc0 − soc_end), p_s = evShortfallPrice (scenario.ts)
 *   RSC           RESCoin of the day = Σ_t (r_self·(pv_t − exp_t) + r_exp·exp_t)·Δt
 *                                      + r_peak·max(0, peak_ref − peak)
 *
 * The environment pays it slot by slot (`slotTerm` plus the change of `peakTerm`), the MILP
 * minimises it, the ledger mints its RSC: all three call the functions below.
 */

export interface DayFlows {
  importKw: ArrayLike<number>;
  exportKw: ArrayLike<number>;
  /** L_t: consumption without PV, kW. */
  loadKw: ArrayLike<number>;
  /** SoC at the start of each slot (97 entries: socKwh[96] ends the day); needed with an EV. */
  socKwh?: ArrayLike<number>;
}

export interface ScoreParts {
  /** J, €, to minimise. */
  score: number;
  /** Σ (C·imp − g·exp)·Δt, €. */
  cost: number;
  /** λ·peak, €. */
  peakCost: number;
  /** w·Σ φ(L − q), €. */
  fo2Cost: number;
  /** S: what the EV's end-of-day shortfall under its SoC of 00:00 costs, €. */
  shortfallCost: number;
  /** RESCoin minted for the day, RSC. */
  rescoin: number;
  /** v·RSC, €. */
  rescoinValue: number;
  importKwh: number;
  exportKwh: number;
  peakKw: number;
  /** Peak-to-average ratio of the grid import (eq. 1); 0 on a day without import. */
  par: number;
}

/** φ(x): the PWL interpolation of x² at `bp` (increasing), extended linearly outside. */
export function pwlSquare(x: number, bp: ArrayLike<number>): number {
  const n = bp.length;
  let i = 0;
  if (x >= bp[n - 1]) i = n - 2;
  else if (x > bp[0]) while (x > bp[i + 1]) i++;
  const a = bp[i];
  const b = bp[i + 1];
  // The secant of x² through (a, a²) and (b, b²) is (a + b)·x − a·b.
  return (a + b) * x - a * b;
}

/** The secants of φ as lines y = slope·x + intercept; φ(x) = max over them (convexity). */
export function pwlSquareLines(bp: ArrayLike<number>): { slope: number; intercept: number }[] {
  const lines = [];
  for (let i = 0; i + 1 < bp.length; i++) lines.push({ slope: bp[i] + bp[i + 1], intercept: -bp[i] * bp[i + 1] });
  return lines;
}

/** RSC per slot from energy (PV used in the home and PV exported). */
export function slotRescoin(s: Scenario, pvKw: number, exportKw: number): number {
  return (s.rescoin.perKwhSelfConsumed * (pvKw - exportKw) + s.rescoin.perKwhExported * exportKw) * DT;
}

/** Energy cost (€) of one slot. */
export function slotCost(s: Scenario, t: number, importKw: number, exportKw: number): number {
  return (s.priceKwh[t] * importKw - s.tariff.feedInEurPerKwh * exportKw) * DT;
}

/** The part of J that slot t adds, apart from the peak: cost + w·φ(L − q) − v·RSC_energy. */
export function slotTerm(s: Scenario, day: Day, t: number, importKw: number, exportKw: number, loadKw: number): number {
  return (
    slotCost(s, t, importKw, exportKw) +
    s.objective.fo2Weight * pwlSquare(loadKw - day.meanLoadKw, s.objective.fo2BreakpointsKw) -
    s.rescoin.valueEur * slotRescoin(s, day.pvKw[t], exportKw)
  );
}

/** f(peak) = λ·peak − v·r_peak·max(0, peak_ref − peak): the peak's part of J. */
export function peakTerm(s: Scenario, day: Day, peakKw: number): number {
  return s.objective.peakEurPerKw * peakKw - s.rescoin.valueEur * s.rescoin.perKwPeakReduction * Math.max(0, day.referencePeakKw - peakKw);
}

/** S: the soft midnight requirement, paid on the last slot (0 without an EV). */
export function evShortfallTerm(s: Scenario, day: Day, socEndKwh: number): number {
  if (!s.ev || !day.ev) return 0;
  return evShortfallPrice(s) * Math.max(0, day.ev.soc0Kwh - socEndKwh);
}

/** Score a whole day from its flows. */
export function scoreDay(s: Scenario, day: Day, flows: DayFlows): ScoreParts {
  let cost = 0;
  let fo2 = 0;
  let rscEnergy = 0;
  let importKwh = 0;
  let exportKwh = 0;
  let peakKw = 0;
  let slotTerms = 0;
  for (let t = 0; t < SLOTS; t++) {
    const imp = flows.importKw[t];
    const exp = flows.exportKw[t];
    cost += slotCost(s, t, imp, exp);
    fo2 += s.objective.fo2Weight * pwlSquare(flows.loadKw[t] - day.meanLoadKw, s.objective.fo2BreakpointsKw);
    rscEnergy += slotRescoin(s, day.pvKw[t], exp);
    slotTerms += slotTerm(s, day, t, imp, exp, flows.loadKw[t]);
    importKwh += imp * DT;
    exportKwh += exp * DT;
    if (imp > peakKw) peakKw = imp;
  }
  const rescoin = rscEnergy + s.rescoin.perKwPeakReduction * Math.max(0, day.referencePeakKw - peakKw);
  const meanImport = importKwh / (SLOTS * DT);
  if (s.ev && day.ev && !flows.socKwh) throw new Error('scoreDay: flows.socKwh is missing, but the day has an EV (its end SoC is in J)');
  const shortfallCost = flows.socKwh ? evShortfallTerm(s, day, flows.socKwh[SLOTS]) : 0;
  return {
    score: slotTerms + peakTerm(s, day, peakKw) + shortfallCost,
    shortfallCost,
    cost,
    peakCost: s.objective.peakEurPerKw * peakKw,
    fo2Cost: fo2,
    rescoin,
    rescoinValue: s.rescoin.valueEur * rescoin,
    importKwh,
    exportKwh,
    peakKw,
    par: meanImport > 0 ? peakKw / meanImport : 0,
  };
}
