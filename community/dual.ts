import { DT, SLOTS, type Day } from '../env/index.js';
import { LinearModel, solve, type SolveOptions } from '../baseline/lp.js';
import type { Community } from './community.js';
import { feederFlow, ownOptima } from './milp.js';
import { addHome, buildCommunityModel, isNetting, priceHome, type HomeBlock } from './milp-model.js';

/**
 * A Lagrangian lower bound on the community optimum J*, solved home by home: for communities too
 * large for the exact MILP (milp.ts). The coupling rows of the cooperative model (milp-model.ts)
 * are relaxed with multipliers, in € per kW of net import in slot t:
 *
 * - the feeder limit Σ_i net_i,t ≤ F with μ_t ≥ 0;
 * - the community peak P ≥ Σ_i net_i,t with ν_t ≥ 0; P then costs (peakEurPerKwDay − Σν)·P, which
 *   is bounded below on P ≥ 0 only when Σν ≤ peakEurPerKwDay, and is 0 at P = 0 then;
 * - under a netting market, the split Gimp_t − Gexp_t = Σ_i net_i,t with π_t (€ per kW, the
 *   price times Δt); Gimp and Gexp then cost (λb·Δt − π_t) and (π_t − λs·Δt) per kW, bounded below
 *   only for λs·Δt ≤ π_t ≤ λb·Δt, and 0 there.
 *
 * What is left separates: each home's own MILP with its net priced at y_t = π_t + μ_t + ν_t (plus
 * its own λb/λs under `none`), and the dual function is Σ_i min_i(y) − F·Σ_t μ_t. For every
 * multiplier in that set it is ≤ J* (weak duality), and each min_i enters by HiGHS's proven dual
 * bound, so a home solve stopped by its time limit only lowers it. The multipliers move by
 * projected subgradient steps (Polyak's step toward a target, halved when the bound stops
 * rising); no randomness is involved, so with the default iteration bound the same call gives the
 * same bound bit for bit (a `budgetSec` trades that for time).
 */

/** Up to this many homes the bound starts from the community LP's duals by default. */
export const LP_START_HOMES = 100;

export interface LagrangianOptions extends SolveOptions {
  /** Subgradient iterations (each solves every home once). Default 12. */
  iterations?: number;
  /** Stop starting new iterations after this many seconds in all (default: no limit). */
  budgetSec?: number;
  /** A known community J to aim the steps at (e.g. a schedule's); default the own optima together's when they hold the feeder. */
  targetEur?: number;
  /**
   * Start from the duals of the community model's LP relaxation: the dual value there is at least
   * the LP bound, since each home's MILP is at least its relaxation. False starts from the own
   * optima. Default: true up to LP_START_HOMES homes, whose LP (about 600 columns a home) HiGHS
   * solves at once in seconds; false above, where the one LP would hold the whole community.
   */
  lpStart?: boolean;
}

export interface LagrangianResult {
  /** The best dual value: a valid lower bound on J*, €. */
  bound: number;
  /** The dual value at each iteration. */
  history: number[];
  iterations: number;
  /** Whether every home solve behind `bound` was proven optimal (else their dual bounds were used). */
  allOptimal: boolean;
  /** The multipliers at the best iteration, € per kW: netting price π_t (0 under none), feeder μ_t, peak ν_t. */
  price: Float64Array;
  feeder: Float64Array;
  peak: Float64Array;
  /** The own optima played together, the start of the steps. */
  ownScore: number;
  ownFeasible: boolean;
  solveMs: number;
}

interface Multipliers {
  price: Float64Array;
  feeder: Float64Array;
  peak: Float64Array;
}

/**
 * The multipliers of the LP relaxation of the cooperative model: the duals of its grid split rows
 * (π), community peak rows (ν) and feeder flow rows (the whole price y of a kW of net, so
 * μ = y − π − ν), projected onto the set where the dual function is finite.
 */
async function lpStart(c: Community, days: readonly Day[], opts: SolveOptions): Promise<Multipliers> {
  const { model } = buildCommunityModel(c, days);
  for (const col of model.cols) col.integer = false;
  const res = await solve(model, opts);
  if (res.status !== 'optimal') throw new Error(`lagrangianBound: the community's LP relaxation ended ${res.status} (${res.detail})`);
  const row = new Map(model.rows.map((r, k) => [r.name, k]));
  const dual = (name: string) => (row.has(name) ? res.rowDual[row.get(name)!] : 0);
  const z: Multipliers = { price: new Float64Array(SLOTS), feeder: new Float64Array(SLOTS), peak: new Float64Array(SLOTS) };
  for (let t = 0; t < SLOTS; t++) {
    if (isNetting(c)) z.price[t] = Math.min(c.buyPriceKwh[t] * DT, Math.max(c.sellPriceKwh * DT, dual(`grid_net_${t}`)));
    z.peak[t] = dual(`feeder_peak_${t}`);
    z.feeder[t] = Math.max(0, dual(`feeder_def_${t}`) - z.price[t] - z.peak[t]);
  }
  projectCappedSimplex(z.peak, c.peakEurPerKwDay);
  return z;
}

/** A start without the LP: the netting price at λb where the own optima import as a community, λs where they export, the whole peak price on their feeder peak's slot. */
function ownStart(c: Community, g: Float64Array): Multipliers {
  const z: Multipliers = { price: new Float64Array(SLOTS), feeder: new Float64Array(SLOTS), peak: new Float64Array(SLOTS) };
  let argmax = 0;
  for (let t = 0; t < SLOTS; t++) {
    if (isNetting(c)) z.price[t] = g[t] > 0 ? c.buyPriceKwh[t] * DT : c.sellPriceKwh * DT;
    if (g[t] > g[argmax]) argmax = t;
  }
  z.peak[argmax] = c.peakEurPerKwDay;
  return z;
}

/** Project ν onto { ν ≥ 0, Σν ≤ cap }: clip, and if the sum is over, onto the simplex's face. */
export function projectCappedSimplex(v: Float64Array, cap: number): void {
  let sum = 0;
  for (let t = 0; t < v.length; t++) sum += (v[t] = Math.max(0, v[t]));
  if (sum <= cap) return;
  // The Euclidean projection onto { ν ≥ 0, Σν = cap }: subtract the threshold θ that makes the
  // positive parts sum to cap (sort, then find θ).
  const s = Float64Array.from(v).sort().reverse();
  let acc = 0;
  let theta = 0;
  for (let k = 0; k < s.length; k++) {
    acc += s[k];
    const th = (acc - cap) / (k + 1);
    if (k + 1 === s.length || s[k + 1] <= th) {
      theta = th;
      break;
    }
  }
  for (let t = 0; t < v.length; t++) v[t] = Math.max(0, v[t] - theta);
}

/** The Lagrangian dual bound on the community day's J* (see the module comment). */
export async function lagrangianBound(c: Community, days: readonly Day[], opts: LagrangianOptions = {}): Promise<LagrangianResult> {
  const t0 = performance.now();
  const iterations = opts.iterations ?? 12;
  const netting = isNetting(c);
  const own = await ownOptima(c, days, opts);
  const homes = c.homes.map((h, i) => {
    const m = new LinearModel();
    return { m, block: addHome(m, h.scenario, days[i], '') as HomeBlock };
  });

  const z = (opts.lpStart ?? c.homes.length <= LP_START_HOMES) ? await lpStart(c, days, opts) : ownStart(c, own.feederKw);

  const history: number[] = [];
  let best = -Infinity;
  let bestZ: Multipliers = copy(z);
  let bestOptimal = false;
  let theta = 0.5;
  let stall = 0;
  for (let k = 0; k < iterations; k++) {
    if (opts.budgetSec !== undefined && k > 0 && performance.now() - t0 > opts.budgetSec * 1000) break;
    const y = new Float64Array(SLOTS);
    for (let t = 0; t < SLOTS; t++) y[t] = z.price[t] + z.feeder[t] + z.peak[t];
    let value = 0;
    let optimal = true;
    const schedules = [];
    for (const { m, block } of homes) {
      priceHome(m, c, block, y);
      const res = await solve(m, opts);
      if (!res.hasSolution || !Number.isFinite(res.dualBound)) throw new Error(`lagrangianBound: a home's priced MILP ended ${res.status} (${res.detail}) without a bound`);
      value += res.dualBound;
      optimal &&= res.status === 'optimal';
      schedules.push(block.decode(res.values));
    }
    for (let t = 0; t < SLOTS; t++) value -= c.feederKw * z.feeder[t];
    history.push(value);
    if (value > best + 1e-12) {
      best = value;
      bestZ = copy(z);
      bestOptimal = optimal;
      stall = 0;
    } else if (++stall >= 2) {
      theta /= 2;
      stall = 0;
    }
    const g = feederFlow(schedules);
    const sub = subgradient(c, z, g, netting);
    const norm = sub.reduce((a, s) => a + dot(s, s), 0);
    if (norm < 1e-18) break; // the homes' optimum is feasible and priced right: the bound is J*
    const target = opts.targetEur ?? (own.feasible ? own.score : best + 0.05 * Math.abs(best) + 0.01);
    const step = (theta * Math.max(target - value, 0.001 * Math.abs(best) + 1e-4)) / norm;
    for (let t = 0; t < SLOTS; t++) {
      if (netting) z.price[t] = Math.min(c.buyPriceKwh[t] * DT, Math.max(c.sellPriceKwh * DT, z.price[t] + step * sub[0][t]));
      z.feeder[t] = Math.max(0, z.feeder[t] + step * sub[1][t]);
      z.peak[t] += step * sub[2][t];
    }
    projectCappedSimplex(z.peak, c.peakEurPerKwDay);
  }
  return {
    bound: best,
    history,
    iterations: history.length,
    allOptimal: bestOptimal,
    ...bestZ,
    ownScore: own.score,
    ownFeasible: own.feasible,
    solveMs: performance.now() - t0,
  };
}

/**
 * A subgradient of the dual function at z, given the homes' feeder flow g: per multiplier, the
 * relaxed row's slack at the minimisers (the grid split and the peak column chosen at their best
 * for the step: Gimp = g⁺ when π is at λb, Gexp = g⁻ when at λs; P = max g when Σν is at its cap).
 */
function subgradient(c: Community, z: Multipliers, g: Float64Array, netting: boolean): [Float64Array, Float64Array, Float64Array] {
  const sp = new Float64Array(SLOTS);
  const sf = new Float64Array(SLOTS);
  const sn = new Float64Array(SLOTS);
  let sumPeak = 0;
  let gMax = 0;
  for (let t = 0; t < SLOTS; t++) {
    sumPeak += z.peak[t];
    gMax = Math.max(gMax, g[t]);
  }
  const pHat = sumPeak >= c.peakEurPerKwDay - 1e-12 ? gMax : 0;
  for (let t = 0; t < SLOTS; t++) {
    if (netting) {
      const atHi = z.price[t] >= c.buyPriceKwh[t] * DT - 1e-15;
      const atLo = z.price[t] <= c.sellPriceKwh * DT + 1e-15;
      const gi = atHi ? Math.max(g[t], 0) : 0;
      const ge = atLo ? Math.max(-g[t], 0) : 0;
      sp[t] = g[t] - gi + ge;
    }
    sf[t] = g[t] - c.feederKw;
    sn[t] = g[t] - pHat;
  }
  // A multiplier at 0 whose row is slack cannot move down: leave it out of the norm.
  for (let t = 0; t < SLOTS; t++) if (z.feeder[t] <= 0 && sf[t] < 0) sf[t] = 0;
  return [sp, sf, sn];
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, t) => s + x * b[t], 0);
const copy = (z: Multipliers): Multipliers => ({ price: Float64Array.from(z.price), feeder: Float64Array.from(z.feeder), peak: Float64Array.from(z.peak) });
