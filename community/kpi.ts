import { DT, SLOTS } from '../env/index.js';
import { clearSlot, MECHANISMS, newClearing, type Mechanism } from './market.js';

/**
 * # KPIs of a neighbourhood (docs/community-agents.md, "KPIs")
 *
 * Pure functions of played community days: each home's flows (import, export, consumption) and
 * its PV; everything else (the feeder flow, the clearing of every market) is recomputed here, so a
 * MILP schedule and an env trajectory are measured by the same code. A CommunityDayLog fits
 * `KpiDay` as it is.
 *
 * Windows are in HOURS, not steps: a window of `windowHours` covers windowHours·4 slots of 15 min
 * (24 h = 96 slots). CityLearn's "daily" KPIs use 24 steps, which at 15-minute steps cover 6 h,
 * not a day. Windows never straddle two played days (the days are not consecutive), so
 * `windowHours` must divide 24, or be a multiple of 24 dividing the played hours. A windowed KPI
 * is the mean over the windows of the window's figure:
 *
 * | KPI | in a window |
 * | --- | --- |
 * | peak | max_t of the import (the feeder: max(G_t, 0), G_t = Σ_i net_i,t) |
 * | load factor | mean ÷ peak of the import (windows without import are left out) |
 * | ramping up / down | Σ of the positive / the magnitude of the negative slot-to-slot changes of the flow (kW) |
 *
 * Self-sufficiency = 1 − grid import ÷ consumption (the share of the load met by PV, the home's own
 * or its neighbours'); self-consumption = 1 − grid export ÷ PV (the share of the PV used inside the
 * community). For the community these are physical (the feeder's import and export); for a home
 * they are what its market assigns it (boughtGridKw, soldGridKw of the clearing), so under `none`
 * a home's neighbours count for nothing. A ratio with a zero denominator is NaN.
 *
 * Bills: the flows of a schedule do not depend on the market (a home's actions fix its net), so
 * each home's bill under every mechanism is the same flows re-cleared with `clearSlot`. A home's
 * saving is its bill under `none` minus its bill under the community's market (≥ 0: every price
 * lies in [λs, λb]); the Gini coefficient of the savings says how evenly the market shares them.
 */

export interface HomeFlows {
  importKw: ArrayLike<number>;
  exportKw: ArrayLike<number>;
  /** Consumption without PV (env/score.ts L_t). */
  loadKw: ArrayLike<number>;
}

/** One played community day: home i's day (its PV) and flows, file order. */
export interface KpiDay {
  days: readonly { pvKw: ArrayLike<number> }[];
  homes: readonly HomeFlows[];
}

/** What the KPIs need of a Community (a Community fits it). */
export interface KpiMarket {
  market: Mechanism;
  buyPriceKwh: ArrayLike<number>;
  sellPriceKwh: number;
}

/** Slots of a window of `hours` (15-minute slots); refuses a window that is not whole slots. */
export function windowSlots(hours: number): number {
  const w = hours / DT;
  if (!(hours > 0) || !Number.isInteger(w)) throw new Error(`windowHours must be a positive multiple of 0.25 h, got ${hours}`);
  return w;
}

/** Checks that windows of `w` slots tile `length` slots of whole days without straddling two. */
function checkWindows(length: number, w: number): void {
  const fits = w <= SLOTS ? SLOTS % w === 0 : w % SLOTS === 0 && length % w === 0;
  if (!fits || length % w !== 0) throw new Error(`windowHours ${w * DT} must divide 24 h, or be a multiple of 24 h dividing the ${(length * DT).toFixed(0)} h played`);
}

/** The statistic `f(series, start, end)` of each window, averaged over the windows where it is finite. */
function perWindow(series: ArrayLike<number>, windowHours: number, f: (x: ArrayLike<number>, a: number, b: number) => number): number {
  const w = windowSlots(windowHours);
  checkWindows(series.length, w);
  let sum = 0;
  let count = 0;
  for (let a = 0; a < series.length; a += w) {
    const v = f(series, a, a + w);
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }
  return count ? sum / count : NaN;
}

const maxOf = (x: ArrayLike<number>, a: number, b: number) => {
  let m = -Infinity;
  for (let t = a; t < b; t++) if (x[t] > m) m = x[t];
  return m;
};

/** Mean over windows of the window's peak of `importKw` (a series of imports ≥ 0). */
export function windowPeak(importKw: ArrayLike<number>, windowHours = 24): number {
  return perWindow(importKw, windowHours, maxOf);
}

/** Mean over windows of mean ÷ peak of `importKw`; windows without import are left out. */
export function loadFactor(importKw: ArrayLike<number>, windowHours = 24): number {
  return perWindow(importKw, windowHours, (x, a, b) => {
    let sum = 0;
    for (let t = a; t < b; t++) sum += x[t];
    const peak = maxOf(x, a, b);
    return peak > 0 ? sum / (b - a) / peak : NaN;
  });
}

/** Mean over windows of Σ positive (up) and Σ |negative| (down) slot-to-slot changes of `flowKw`, kW. */
export function ramping(flowKw: ArrayLike<number>, windowHours = 24): { up: number; down: number } {
  const side = (sign: 1 | -1) =>
    perWindow(flowKw, windowHours, (x, a, b) => {
      let s = 0;
      for (let t = a + 1; t < b; t++) {
        const d = (x[t] - x[t - 1]) * sign;
        if (d > 0) s += d;
      }
      return s;
    });
  return { up: side(1), down: side(-1) };
}

/** 1 − grid import ÷ consumption (NaN without consumption). */
export function selfSufficiency(gridImportKwh: number, consumptionKwh: number): number {
  return consumptionKwh > 0 ? 1 - gridImportKwh / consumptionKwh : NaN;
}

/** 1 − grid export ÷ PV (NaN without PV). */
export function selfConsumption(gridExportKwh: number, pvKwh: number): number {
  return pvKwh > 0 ? 1 - gridExportKwh / pvKwh : NaN;
}

/**
 * Gini coefficient Σ_i Σ_j |x_i − x_j| / (2·n²·mean) of non-negative values: 0 when all are
 * equal (or all 0), (n − 1)/n when one holds everything.
 */
export function gini(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (const [i, x] of xs.entries()) {
    if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`gini: values must be finite and ≥ 0, got ${x} at ${i}`);
    sum += x;
  }
  if (sum === 0) return 0;
  let diff = 0;
  for (const a of xs) for (const b of xs) diff += Math.abs(a - b);
  return diff / (2 * xs.length * sum);
}

/**
 * The value of cooperation: J of the homes' own optima played together minus the community
 * optimum J*. ≥ 0 up to the solvers' gaps, which is why it is not clamped.
 */
export function valueOfCooperation(ownOptimaJ: number, jStar: number): number {
  return ownOptimaJ - jStar;
}

/** Saving of each home: its bill under `none` minus under the market; tiny negatives from rounding are 0. */
export function savings(billNone: readonly number[], billMarket: readonly number[]): number[] {
  return billNone.map((b, i) => {
    const s = b - billMarket[i];
    return s < 0 && s > -1e-9 ? 0 : s;
  });
}

/** The net load of each home at slot t. */
function netsAt(homes: readonly HomeFlows[], t: number, out: Float64Array): Float64Array {
  for (let i = 0; i < homes.length; i++) out[i] = homes[i].importKw[t] - homes[i].exportKw[t];
  return out;
}

/** Per home, summed over the days: the bill (€) under `mechanism`, and what it buys and sells from peers and the grid (kWh). */
export interface Cleared {
  billEur: number[];
  p2pBoughtKwh: number[];
  p2pSoldKwh: number[];
  gridBoughtKwh: number[];
  gridSoldKwh: number[];
}

/** The days' flows cleared slot by slot under `mechanism` at the community's grid prices. */
export function clearDays(c: KpiMarket, logs: readonly KpiDay[], mechanism: Mechanism): Cleared {
  const n = logs[0]?.homes.length ?? 0;
  const z = () => new Array<number>(n).fill(0);
  const r: Cleared = { billEur: z(), p2pBoughtKwh: z(), p2pSoldKwh: z(), gridBoughtKwh: z(), gridSoldKwh: z() };
  const nets = new Float64Array(n);
  const out = newClearing(n);
  for (const log of logs) {
    if (log.homes.length !== n) throw new Error(`clearDays: every day needs ${n} homes, got ${log.homes.length}`);
    for (let t = 0; t < SLOTS; t++) {
      const k = clearSlot(mechanism, netsAt(log.homes, t, nets), c.buyPriceKwh[t], c.sellPriceKwh, out);
      for (let i = 0; i < n; i++) {
        r.billEur[i] += k.paymentEurPerH[i] * DT;
        r.p2pBoughtKwh[i] += k.boughtP2pKw[i] * DT;
        r.p2pSoldKwh[i] += k.soldP2pKw[i] * DT;
        r.gridBoughtKwh[i] += k.boughtGridKw[i] * DT;
        r.gridSoldKwh[i] += k.soldGridKw[i] * DT;
      }
    }
  }
  return r;
}

/** The feeder flow G_t = Σ_i net_i,t of the days, back to back (96 per day). */
export function feederSeries(logs: readonly KpiDay[]): Float64Array {
  const g = new Float64Array(logs.length * SLOTS);
  logs.forEach((log, d) => {
    for (const h of log.homes) for (let t = 0; t < SLOTS; t++) g[d * SLOTS + t] += h.importKw[t] - h.exportKw[t];
  });
  return g;
}

/** Home i's net flow of the days, back to back. */
export function homeSeries(logs: readonly KpiDay[], i: number): Float64Array {
  const x = new Float64Array(logs.length * SLOTS);
  logs.forEach((log, d) => {
    for (let t = 0; t < SLOTS; t++) x[d * SLOTS + t] = log.homes[i].importKw[t] - log.homes[i].exportKw[t];
  });
  return x;
}

const importOf = (flow: Float64Array) => flow.map((x) => (x > 0 ? x : 0));

/** The KPIs of one flow (a home's net, or the feeder's G): per-window figures, as the doc comment says. */
export interface FlowKpis {
  /** Mean over windows of the window's peak import, kW. */
  peakKw: number;
  /** The highest import over all days, kW. */
  maxPeakKw: number;
  loadFactor: number;
  rampUpKw: number;
  rampDownKw: number;
  selfSufficiency: number;
  selfConsumption: number;
  /** Per day: energy bought from / sold to peers (for the community: the P2P volume), kWh. */
  p2pBoughtKwh: number;
  p2pSoldKwh: number;
  /** Per day: the bill under each mechanism, €. */
  billEur: Record<Mechanism, number>;
  /** Per day: bill under none − bill under the community's market, €. */
  savingEur: number;
}

export interface CommunityKpis extends FlowKpis {
  /** Gini coefficient of the homes' savings (0: shared evenly). */
  giniSavings: number;
}

export interface KpiResult {
  windowHours: number;
  days: number;
  market: Mechanism;
  community: CommunityKpis;
  homes: FlowKpis[];
}

function flowKpis(flow: Float64Array, windowHours: number): Pick<FlowKpis, 'peakKw' | 'maxPeakKw' | 'loadFactor' | 'rampUpKw' | 'rampDownKw'> {
  const imp = importOf(flow);
  const r = ramping(flow, windowHours);
  return { peakKw: windowPeak(imp, windowHours), maxPeakKw: Math.max(0, ...imp), loadFactor: loadFactor(imp, windowHours), rampUpKw: r.up, rampDownKw: r.down };
}

const kwh = (x: ArrayLike<number>) => {
  let s = 0;
  for (let t = 0; t < x.length; t++) s += x[t] * DT;
  return s;
};

/** Every KPI per home and for the community, over the played days (energies and bills per day). */
export function communityKpis(c: KpiMarket, logs: readonly KpiDay[], windowHours = 24): KpiResult {
  if (logs.length === 0) throw new Error('communityKpis: no days');
  const n = logs[0].homes.length;
  const D = logs.length;
  const cleared = Object.fromEntries(MECHANISMS.map((m) => [m, clearDays(c, logs, m)])) as Record<Mechanism, Cleared>;
  const own = cleared[c.market];
  const saving = savings(cleared.none.billEur, own.billEur);
  const billOf = (i: number | null) => Object.fromEntries(MECHANISMS.map((m) => [m, (i === null ? cleared[m].billEur.reduce((a, b) => a + b, 0) : cleared[m].billEur[i]) / D])) as Record<Mechanism, number>;
  const sumOver = (f: (log: KpiDay, i: number) => number, i: number) => logs.reduce((s, log) => s + f(log, i), 0);
  let load = 0;
  let pv = 0;
  const homes: FlowKpis[] = [];
  for (let i = 0; i < n; i++) {
    const loadI = sumOver((log, k) => kwh(log.homes[k].loadKw), i);
    const pvI = sumOver((log, k) => kwh(log.days[k].pvKw), i);
    load += loadI;
    pv += pvI;
    homes.push({
      ...flowKpis(homeSeries(logs, i), windowHours),
      selfSufficiency: selfSufficiency(own.gridBoughtKwh[i], loadI),
      selfConsumption: selfConsumption(own.gridSoldKwh[i], pvI),
      p2pBoughtKwh: own.p2pBoughtKwh[i] / D,
      p2pSoldKwh: own.p2pSoldKwh[i] / D,
      billEur: billOf(i),
      savingEur: saving[i] / D,
    });
  }
  const g = feederSeries(logs);
  let gImp = 0;
  let gExp = 0;
  for (const x of g) {
    if (x > 0) gImp += x * DT;
    else gExp -= x * DT;
  }
  const p2p = own.p2pBoughtKwh.reduce((a, b) => a + b, 0) / D;
  const community: CommunityKpis = {
    ...flowKpis(g, windowHours),
    selfSufficiency: selfSufficiency(gImp, load),
    selfConsumption: selfConsumption(gExp, pv),
    p2pBoughtKwh: p2p,
    p2pSoldKwh: own.p2pSoldKwh.reduce((a, b) => a + b, 0) / D,
    billEur: billOf(null),
    savingEur: saving.reduce((a, b) => a + b, 0) / D,
    giniSavings: gini(saving),
  };
  return { windowHours, days: D, market: c.market, community, homes };
}
