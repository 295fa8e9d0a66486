import { DT, evShortfallPrice, SLOTS, type Day, type EvDay, type EvSpec, type Scenario } from '../env/index.js';
import type { LinearModel } from './lp.js';

/**
 * The EV's columns and rows in the day's MILP (the shape and its reasons are in milp.ts): integer
 * charge steps per home slot, with V2H discharge steps and a mode binary, the SoC rows with the
 * efficiencies, the day's floor curve and the capacity as bounds (after a trip: lowered by the
 * deficit at arrival), and the shortfall at midnight: exactly the env's mask and score.
 */

export interface EvColumns {
  ev: { spec: EvSpec; day: EvDay } | null;
  /** Per slot: the charge-steps column, or null when the EV is away (or there is none). */
  charge: (number | null)[];
  /** Per slot: the discharge-steps column (V2H only). */
  discharge: (number | null)[];
  /** Per slot: the mode binary, 1 = may charge, 0 = may discharge (V2H only). */
  mode: (number | null)[];
}

/**
 * The most the car can come back below the evening floor: it leaves with at least the target, so
 * it is back with at least target − trip (0 without a trip).
 */
function maxDeficit(d: EvDay): number {
  return d.trip ? Math.max(0, d.floorKwh[d.arrival] - (d.targetKwh - d.tripKwh)) : 0;
}

/** A lower bound on the SoC at the start of slot k that holds for every schedule (the deficit at its largest). */
export function hardFloorKwh(spec: EvSpec, d: EvDay, k: number): number {
  return d.trip && k > d.arrival ? Math.max(spec.socMinKwh, d.floorKwh[k] - maxDeficit(d)) : d.floorKwh[k];
}

/**
 * The evening after a trip and the soft midnight requirement, as the env has them (core.ts,
 * score.ts): the deficit δ = max(0, floor_a − soc_a) at the arrival (one binary: b = 1 when the
 * car is back below the floor), the floor lowered by δ from then on, and a shortfall column
 * σ ≥ soc0 − soc_96, σ ≥ 0, at the env's price per kWh, whatever the objective.
 */
function addEvening(m: LinearModel, s: Scenario, spec: EvSpec, d: EvDay, socCols: number[]): void {
  const sigma = m.addCol('ev_shortfall', 0, Infinity, evShortfallPrice(s));
  m.addRow('ev_shortfall_def', [[sigma, 1], [socCols[SLOTS], 1]], d.soc0Kwh, Infinity);
  // Cuts for the LP relaxation: from slot k on the fastest level adds at most `reach` by midnight,
  // so soc_k + σ ≥ soc0 − reach (implied by the rows above: no schedule is lost).
  const step = spec.chargeSteps * spec.chargeStepKw * spec.chargeEfficiency * DT;
  let reach = 0;
  for (let k = SLOTS - 1; k >= (d.trip ? d.arrival : 1); k--) {
    reach += d.home[k] ? step : 0;
    if (d.soc0Kwh - reach > spec.socMinKwh) m.addRow(`ev_shortfall_cut_${k}`, [[sigma, 1], [socCols[k], 1]], d.soc0Kwh - reach, Infinity);
  }
  const top = maxDeficit(d);
  if (!(top > 0)) return;
  const a = d.arrival;
  const fa = d.floorKwh[a];
  const delta = m.addCol('ev_deficit', 0, top);
  const below = m.addCol('ev_deficit_below', 0, 1, 0, true);
  // The car leaves with at most the capacity, so it is back with at most capacity − trip: the
  // smallest big-M for "not below ⇒ δ = 0" (a larger one let the LP relaxation lower the evening
  // floor by most of `top` at a tiny fraction of `below`, and slowed V2H days by 10×).
  const big = Math.max(0, spec.capacityKwh - d.tripKwh - fa);
  m.addRow('ev_deficit_lo', [[delta, 1], [socCols[a], 1]], fa, Infinity);
  m.addRow('ev_deficit_on', [[delta, 1], [below, -top]], -Infinity, 0);
  m.addRow('ev_deficit_off', [[delta, 1], [socCols[a], 1], [below, big]], -Infinity, fa + big);
  // The two sides of the disjunction on the SoC itself: below ⇒ soc_a ≤ fa, not below ⇒ soc_a ≥ fa
  // (implied for integer `below`; they tighten the relaxation).
  m.addRow('ev_deficit_side_hi', [[socCols[a], 1], [below, big]], -Infinity, fa + big);
  m.addRow('ev_deficit_side_lo', [[socCols[a], 1], [below, top]], fa, Infinity);
  for (let k = a + 1; k <= SLOTS; k++) if (d.floorKwh[k] > spec.socMinKwh) m.addRow(`ev_evening_floor_${k}`, [[socCols[k], 1], [delta, 1]], d.floorKwh[k], Infinity);
}

export function addEvColumns(m: LinearModel, s: Scenario, day: Day): EvColumns {
  const charge: (number | null)[] = new Array(SLOTS).fill(null);
  const discharge: (number | null)[] = new Array(SLOTS).fill(null);
  const mode: (number | null)[] = new Array(SLOTS).fill(null);
  const ev = s.ev && day.ev ? { spec: s.ev, day: day.ev } : null;
  if (!ev) return { ev, charge, discharge, mode };
  const { spec, day: d } = ev;
  const v2h = spec.v2h && spec.dischargeSteps > 0;
  let prev: number | null = null; // SoC column at the start of the slot (null: the constant soc0)
  const socCols: number[] = [-1]; // socCols[k]: the SoC column at the start of slot k (k ≥ 1)
  for (let t = 0; t < SLOTS; t++) {
    const terms: [number, number][] = [];
    if (d.home[t]) {
      const nC = m.addCol(`ev_charge_${t}`, 0, spec.chargeSteps, 0, true);
      charge[t] = nC;
      terms.push([nC, -spec.chargeStepKw * spec.chargeEfficiency * DT]);
      if (v2h) {
        const nD = m.addCol(`ev_discharge_${t}`, 0, spec.dischargeSteps, 0, true);
        const md = m.addCol(`ev_mode_${t}`, 0, 1, 0, true);
        discharge[t] = nD;
        mode[t] = md;
        terms.push([nD, (spec.dischargeStepKw / spec.dischargeEfficiency) * DT]);
        m.addRow(`ev_mode_charge_${t}`, [[nC, 1], [md, -spec.chargeSteps]], -Infinity, 0);
        m.addRow(`ev_mode_discharge_${t}`, [[nD, 1], [md, spec.dischargeSteps]], -Infinity, spec.dischargeSteps);
      }
    }
    // SoC at the start of slot t + 1: the env's mask holds it between the floor and the capacity.
    const lo = d.home[t] ? hardFloorKwh(spec, d, t + 1) : 0;
    const hi = d.home[t] ? spec.capacityKwh : Infinity;
    const soc = m.addCol(`ev_soc_${t + 1}`, lo, hi);
    const trip = d.trip && t + 1 === d.arrival ? d.tripKwh : 0;
    const rhs = (prev === null ? d.soc0Kwh : 0) - trip;
    m.addRow(`ev_soc_step_${t}`, [[soc, 1], ...(prev === null ? [] : [[prev, -1] as [number, number]]), ...terms], rhs, rhs);
    prev = soc;
    socCols.push(soc);
  }
  addEvening(m, s, spec, d, socCols);
  return { ev, charge, discharge, mode };
}

/**
 * EV symmetry: in a run of consecutive slots that no request window touches and whose price, PV
 * and fixed load are equal, swapping two slots' actions changes nothing in J or in the contract,
 * and only the SoC between them. The floor never falls within a stay (core.ts) and the capacity is
 * constant, so for the SoC s before a pair of gains g, g' (s + g + g' feasible):
 * - both ≥ 0: the larger first gives s + max ≥ either order's middle and ≤ s + g + g' ≤ capacity;
 * - a charge and a discharge: the discharge first gives s + min, between s + g + g' (≥ the floor
 *   of the later slot, so of this one) and s (≤ capacity).
 * Idle slots can take mode 1 (it only forbids discharging), so the key n_t + (K + 1)·(1 − mode_t)
 * (discharges K + 1, charges n, idle 0) may fall along the run: adjacent swaps sort any optimum
 * that way, keeping it feasible and optimal. Without V2H this is n_t ≥ n_{t+1}.
 */
export function addEvSymmetry(m: LinearModel, s: Scenario, day: Day, evc: EvColumns, load: [number, number][][]): void {
  const { ev, charge, mode } = evc;
  if (!ev) return;
  const price = s.priceKwh;
  const big = ev.spec.chargeSteps + 1;
  const free = (t: number) => ev.day.home[t] === 1 && load[t].length === 0 && charge[t] !== null;
  const same = (t: number, u: number) => day.baseKw[t] === day.baseKw[u] && day.pvKw[t] === day.pvKw[u] && price[t] === price[u];
  const key = (t: number, sign: number): [number, number][] => (mode[t] === null ? [[charge[t]!, sign]] : [[charge[t]!, sign], [mode[t]!, -big * sign]]);
  for (let t = 0; t + 1 < SLOTS; t++)
    if (free(t) && free(t + 1) && same(t, t + 1)) m.addRow(`ev_sym_${t}`, [...key(t, 1), ...key(t + 1, -1)], 0, Infinity);
}

/**
 * Peak tightening. In the LP relaxation the EV charges a fraction of a step in many slots, which
 * hides the peak that any real schedule has. For each stay at home (before the trip, after it,
 * or the whole day) an integer κ ≤ K bounds the steps of every slot of the stay, and
 * peak ≥ min over the stay of (fixed load − PV) + step·κ. With κ = the largest step count the
 * schedule uses, every integer schedule satisfies both (the slot that uses κ steps charges, so it
 * discharges nothing), so no schedule is lost; branching on κ alone then lifts the bound.
 */
export function addEvPeakSteps(m: LinearModel, day: Day, evc: EvColumns, peak: number): void {
  const { spec } = evc.ev!;
  const charge = evc.charge;
  const stays: number[][] = [];
  let cur: number[] = [];
  for (let t = 0; t < SLOTS; t++) {
    if (charge[t] !== null) cur.push(t);
    else if (cur.length) {
      stays.push(cur);
      cur = [];
    }
  }
  if (cur.length) stays.push(cur);
  stays.forEach((stay, k) => {
    const kappa = m.addCol(`ev_peak_steps_${k}`, 0, spec.chargeSteps, 0, true);
    for (const t of stay) m.addRow(`ev_peak_steps_${k}_${t}`, [[charge[t]!, 1], [kappa, -1]], -Infinity, 0);
    const low = Math.min(...stay.map((t) => day.baseKw[t] - day.pvKw[t]));
    m.addRow(`ev_peak_${k}`, [[peak, 1], [kappa, -spec.chargeStepKw]], low, Infinity);
  });
}

/**
 * A constant lower bound on the import peak from the EV's energy alone, the strong form of the κ
 * tightening above. By the end of each home slot t the SoC rows force at least N_t whole charge
 * steps in the home slots u ≤ t (discharging only adds to the need). A slot u that charges n steps
 * imports at least base_u − pv_u + n·step (appliances draw ≥ 0, export ≥ 0), so the peak is at least
 * the smallest P at which the slots u ≤ t can hold N_t steps with each n_u ≤ min(K, ⌊(P − c_u)/step⌋).
 * Every integer schedule satisfies it; the LP relaxation, which spreads fractions of a step over
 * the night, does not, and this closed most of the root gap on the paper's apartment.
 */
export function evPeakFloorKw(day: Day, evc: EvColumns): number {
  if (!evc.ev) return 0;
  const { spec, day: d } = evc.ev;
  const stepKwh = spec.chargeStepKw * spec.chargeEfficiency * DT;
  if (!(stepKwh > 0)) return 0;
  let floor = 0;
  const levels: number[] = []; // c_u + k·step for every home slot u ≤ t and k ≤ K, kept sorted lazily
  for (let t = 0; t < SLOTS; t++) {
    if (!d.home[t]) continue;
    const c = day.baseKw[t] - day.pvKw[t];
    for (let k = 1; k <= spec.chargeSteps; k++) levels.push(c + k * spec.chargeStepKw);
    const trip = d.trip && t + 1 >= d.arrival ? d.tripKwh : 0;
    // Rounded down by a hair so that float noise never asks for a step the SoC row does not.
    const need = Math.ceil((hardFloorKwh(spec, d, t + 1) - d.soc0Kwh + trip) / stepKwh - 1e-6);
    if (need <= 0) continue;
    if (need > levels.length) continue; // infeasible; the SoC rows say so by name
    // With the levels sorted, the need-th smallest is the least P that holds `need` steps (a slot's
    // k-th step costs more than its (k−1)-th, so the smallest levels form a prefix per slot).
    const sorted = [...levels].sort((a, b) => a - b);
    floor = Math.max(floor, sorted[need - 1]);
  }
  return floor;
}

/** The EV's grid-side kW levels at a slot it is home: idle, each charge step, each V2H discharge step. */
export function evLevelsKw(spec: EvSpec): number[] {
  const lv = [0];
  for (let k = 1; k <= spec.chargeSteps; k++) lv.push(k * spec.chargeStepKw);
  if (spec.v2h) for (let k = 1; k <= spec.dischargeSteps; k++) lv.push(-k * spec.dischargeStepKw);
  return lv;
}

/** The SoC at the start of each slot (97 entries) of a schedule, computed as the env computes it. */
function socTrajectory(spec: EvSpec, d: EvDay, evKw: Float64Array): Float64Array {
  const soc = new Float64Array(SLOTS + 1);
  let x = d.soc0Kwh;
  for (let t = 0; t < SLOTS; t++) {
    if (d.trip && t === d.arrival) x -= d.tripKwh;
    soc[t] = x;
    const kw = evKw[t];
    if (d.home[t]) x = Math.min(spec.capacityKwh, Math.max(0, kw >= 0 ? x + kw * spec.chargeEfficiency * DT : x + (kw / spec.dischargeEfficiency) * DT));
  }
  soc[SLOTS] = x;
  return soc;
}

/** The EV's action index, grid-side kW per slot and SoC trajectory of a solution (0 idle, 1…K charge, K+1…K+M discharge). */
export function decodeEv(evc: EvColumns, values: Float64Array): { evAction: Int32Array; evKw: Float64Array; socKwh: Float64Array | undefined } {
  const evAction = new Int32Array(SLOTS);
  const evKw = new Float64Array(SLOTS);
  const { ev, charge, discharge } = evc;
  if (ev)
    for (let t = 0; t < SLOTS; t++) {
      const c = charge[t] === null ? 0 : Math.round(values[charge[t]!]);
      const d = discharge[t] === null ? 0 : Math.round(values[discharge[t]!]);
      evAction[t] = c > 0 ? c : d > 0 ? ev.spec.chargeSteps + d : 0;
      evKw[t] = c * ev.spec.chargeStepKw - d * ev.spec.dischargeStepKw;
    }
  return { evAction, evKw, socKwh: ev ? socTrajectory(ev.spec, ev.day, evKw) : undefined };
}
