import {
  DT,
  LIMIT_TOL,
  pwlSquare,
  pwlSquareLines,
  scoreDay,
  SLOTS,
  type Day,
  type Policy,
  type Scenario,
  type ScoreParts,
  type StepInfo,
} from '../env/index.js';
import { LinearModel, lpName, solve, type SolveOptions, type SolveStatus } from './lp.js';

/**
 * The exact MILP of one day (perfect foresight), minimising the environment's score J
 * (env/score.ts) under the environment's rules, so that J* bounds what any policy can reach.
 *
 * Shape, and why:
 * - Non-interruptible request: one start binary per feasible start slot and Σ starts = 1 (eq. 7);
 *   the load is a sum over starts, so no big-M links a start to its running slots.
 * - Interruptible request with a flat profile: one run binary per window slot, Σ runs = cycle
 *   length (eq. 9). With a non-flat profile the k-th run draws cycle[k], as in the env: binaries
 *   y[t][k] ("run cycle slot k at t"), each k once, at most one k per slot, k after k − 1; only
 *   the (t, k) pairs that leave room for the slots before and after k exist.
 * - Identical requests (same profile, kind and window) are ordered by the weighted sum of their run
 *   slots: swapping two schedules swaps the sums, so an optimum survives and the symmetric copies go.
 * - EV: an integer number of charge steps per home slot (and, with V2H, of discharge steps, with a
 *   mode binary that forbids export while discharging), SoC rows with the efficiencies, the day's
 *   floor curve and the capacity as bounds: exactly the env's mask.
 * - The consumption L_t gets its own column, so the F.O.2 epigraph rows z_t ≥ a·(L_t − q) + b stay
 *   short; the peak is a min-max column; the RESCoin peak bonus is r ≤ peak_ref − peak, r ≥ 0.
 * - Import and export are separate columns without a binary: the scenario check makes importing to
 *   export cost strictly more than it earns, so an optimum never does both.
 */

export interface MilpSchedule {
  /** runs[i]: slots appliance i runs (empty when not requested). */
  runs: number[][];
  /** EV action index per slot (0 idle, 1…K charge, K+1…K+M discharge), and its grid-side kW. */
  evAction: Int32Array;
  evKw: Float64Array;
  importKw: Float64Array;
  exportKw: Float64Array;
  loadKw: Float64Array;
}

export interface MilpResult {
  status: SolveStatus;
  /** HiGHS's status word. */
  detail: string;
  /** J* (€): the solver's objective when it minimised J, else J of the schedule it found. */
  score: number;
  /** The solver's objective: J, the energy cost or the peak, as DayModelOptions.objective asked. */
  objective: number;
  /** The schedule's parts, scored by the environment's own function (score.ts). */
  parts: ScoreParts;
  mipGap: number;
  solveMs: number;
  buildMs: number;
  schedule: MilpSchedule;
  cols: number;
  rows: number;
}

export class InfeasibleDayError extends Error {
  override name = 'InfeasibleDayError';
}

interface Built {
  model: LinearModel;
  decode: (values: Float64Array) => MilpSchedule;
}

/** Options of the day model: the objective can be replaced, for the Pareto front. */
export interface DayModelOptions {
  /**
   * What to minimise: the env's score J (default), the energy cost Σ (C·imp − g·exp)·Δt (ties to
   * the lower peak), or the import peak alone (the two ends of the Pareto front).
   */
  objective?: 'score' | 'cost' | 'peak';
  /** Cap on the import in every slot, kW (the ε of the ε-constraint front); default the contract. */
  peakCapKw?: number;
}

/** Check what can be named before solving: the activity whose window cannot hold its cycle. */
function precheck(s: Scenario, day: Day): void {
  for (const r of day.requests) {
    if (!r) continue;
    const a = s.appliances[r.appliance];
    const len = r.deadline - r.release + 1;
    if (r.release < 0 || r.deadline >= SLOTS || len < a.cycleKw.length)
      throw new InfeasibleDayError(`infeasible day: ${a.id} needs ${a.cycleKw.length} slots but its window [${r.release}, ${r.deadline}] has ${Math.max(0, len)}`);
  }
  if (day.ev && s.ev && day.ev.floorKwh[0] > day.ev.soc0Kwh + LIMIT_TOL)
    throw new InfeasibleDayError(`infeasible day: the EV starts at ${day.ev.soc0Kwh.toFixed(3)} kWh but needs ${day.ev.floorKwh[0].toFixed(3)} kWh to reach its target under the contract`);
}

export function buildDayModel(s: Scenario, day: Day, opts: DayModelOptions = {}): Built {
  precheck(s, day);
  const m = new LinearModel();
  const objective = opts.objective ?? 'score';
  const importCap = Math.min(s.grid.contractKw, opts.peakCapKw ?? Infinity);
  const nApp = s.appliances.length;
  // Appliance power terms per slot: load[t] = list of (column, kW).
  const load: [number, number][][] = Array.from({ length: SLOTS }, () => []);
  const decoders: ((v: Float64Array) => number[])[] = [];
  /** Per appliance: the (slot, kW) of each of its columns, to list what L_t can be. */
  const loadOwner = new Map<number, [number, number][]>();
  const draw = (i: number, t: number, col: number, kw: number) => {
    load[t].push([col, kw]);
    if (!loadOwner.has(i)) loadOwner.set(i, []);
    loadOwner.get(i)!.push([t, kw]);
  };
  const orderKey: [number, number][][] = []; // per appliance: Σ t·(run at t) as terms

  for (let i = 0; i < nApp; i++) {
    const r = day.requests[i];
    const a = s.appliances[i];
    if (!r) {
      decoders.push(() => []);
      orderKey.push([]);
      continue;
    }
    const cycle = a.cycleKw;
    const n = cycle.length;
    const key: [number, number][] = [];
    if (a.kind === 'non-interruptible') {
      const starts: [number, number][] = [];
      for (let st = r.release; st + n - 1 <= r.deadline; st++) {
        const z = m.addCol(`${a.id}_start_${st}`, 0, 1, 0, true);
        starts.push([z, st]);
        key.push([z, st]);
        for (let k = 0; k < n; k++) draw(i, st + k, z, cycle[k]);
      }
      m.addRow(`${a.id}_once`, starts.map(([z]) => [z, 1]), 1, 1);
      decoders.push((v) => {
        const chosen = starts.find(([z]) => v[z] > 0.5);
        return chosen ? Array.from({ length: n }, (_, k) => chosen[1] + k) : [];
      });
    } else if (cycle.every((kw) => kw === cycle[0])) {
      const runs: [number, number][] = [];
      for (let t = r.release; t <= r.deadline; t++) {
        const x = m.addCol(`${a.id}_run_${t}`, 0, 1, 0, true);
        runs.push([x, t]);
        key.push([x, t]);
        draw(i, t, x, cycle[0]);
      }
      m.addRow(`${a.id}_cycle`, runs.map(([x]) => [x, 1]), n, n);
      decoders.push((v) => runs.filter(([x]) => v[x] > 0.5).map(([, t]) => t));
    } else {
      // y[t][k]: run cycle slot k at t. Slot k needs k slots before it and n − 1 − k after it.
      const y = new Map<string, number>();
      const at = (t: number, k: number) => y.get(`${t},${k}`);
      for (let t = r.release; t <= r.deadline; t++)
        for (let k = Math.max(0, n - 1 - (r.deadline - t)); k <= Math.min(n - 1, t - r.release); k++) {
          const c = m.addCol(`${a.id}_run_${t}_${k}`, 0, 1, 0, true);
          y.set(`${t},${k}`, c);
          key.push([c, t]);
          draw(i, t, c, cycle[k]);
        }
      for (let k = 0; k < n; k++) {
        const once: [number, number][] = [];
        for (let t = r.release; t <= r.deadline; t++) if (at(t, k) !== undefined) once.push([at(t, k)!, 1]);
        m.addRow(`${a.id}_slot_${k}`, once, 1, 1);
      }
      for (let t = r.release; t <= r.deadline; t++) {
        const here: [number, number][] = [];
        for (let k = 0; k < n; k++) if (at(t, k) !== undefined) here.push([at(t, k)!, 1]);
        if (here.length > 1) m.addRow(`${a.id}_one_at_${t}`, here, 0, 1);
      }
      // Cycle slot k by t needs cycle slot k − 1 strictly before t.
      for (let k = 1; k < n; k++)
        for (let t = r.release; t <= r.deadline; t++) {
          const terms: [number, number][] = [];
          for (let u = r.release; u <= t; u++) if (at(u, k) !== undefined) terms.push([at(u, k)!, 1]);
          for (let u = r.release; u < t; u++) if (at(u, k - 1) !== undefined) terms.push([at(u, k - 1)!, -1]);
          if (terms.some(([, v]) => v > 0)) m.addRow(`${a.id}_order_${k}_${t}`, terms, -Infinity, 0);
        }
      decoders.push((v) => {
        const out: number[] = [];
        for (const [name, c] of y) if (v[c] > 0.5) out.push(Number(name.split(',')[0]));
        return out.sort((p, q) => p - q);
      });
    }
    orderKey.push(key);
  }
  // Symmetry: identical requests are ordered.
  for (let i = 0; i < nApp; i++)
    for (let j = i + 1; j < nApp; j++) {
      const ri = day.requests[i];
      const rj = day.requests[j];
      const ai = s.appliances[i];
      const aj = s.appliances[j];
      if (!ri || !rj || ai.kind !== aj.kind || ri.release !== rj.release || ri.deadline !== rj.deadline) continue;
      if (ai.cycleKw.length !== aj.cycleKw.length || ai.cycleKw.some((kw, k) => kw !== aj.cycleKw[k])) continue;
      m.addRow(`sym_${ai.id}_${aj.id}`, [...orderKey[i], ...orderKey[j].map(([c, t]) => [c, -t] as [number, number])], -Infinity, 0);
    }

  // EV.
  const price = s.priceKwh;
  const evCharge: (number | null)[] = new Array(SLOTS).fill(null);
  const evDischarge: (number | null)[] = new Array(SLOTS).fill(null);
  const evMode: (number | null)[] = new Array(SLOTS).fill(null);
  const ev = s.ev && day.ev ? { spec: s.ev, day: day.ev } : null;
  if (ev) {
    const { spec, day: d } = ev;
    const v2h = spec.v2h && spec.dischargeSteps > 0;
    let prev: number | null = null; // SoC column at the start of the slot (null: the constant soc0)
    for (let t = 0; t < SLOTS; t++) {
      const terms: [number, number][] = [];
      if (d.home[t]) {
        const nC = m.addCol(`ev_charge_${t}`, 0, spec.chargeSteps, 0, true);
        evCharge[t] = nC;
        terms.push([nC, -spec.chargeStepKw * spec.chargeEfficiency * DT]);
        if (v2h) {
          const nD = m.addCol(`ev_discharge_${t}`, 0, spec.dischargeSteps, 0, true);
          const mode = m.addCol(`ev_mode_${t}`, 0, 1, 0, true);
          evDischarge[t] = nD;
          evMode[t] = mode;
          terms.push([nD, (spec.dischargeStepKw / spec.dischargeEfficiency) * DT]);
          m.addRow(`ev_mode_charge_${t}`, [[nC, 1], [mode, -spec.chargeSteps]], -Infinity, 0);
          m.addRow(`ev_mode_discharge_${t}`, [[nD, 1], [mode, spec.dischargeSteps]], -Infinity, spec.dischargeSteps);
        }
      }
      // SoC at the start of slot t + 1: the env's mask holds it between the floor and the capacity.
      const lo = d.home[t] ? d.floorKwh[t + 1] : 0;
      const hi = d.home[t] ? spec.capacityKwh : Infinity;
      const soc = m.addCol(`ev_soc_${t + 1}`, lo, hi);
      const trip = d.trip && t + 1 === d.arrival ? d.tripKwh : 0;
      const rhs = (prev === null ? d.soc0Kwh : 0) - trip;
      m.addRow(`ev_soc_step_${t}`, [[soc, 1], ...(prev === null ? [] : [[prev, -1] as [number, number]]), ...terms], rhs, rhs);
      prev = soc;
    }
  }

  // EV symmetry: in a run of consecutive slots that no request window touches and whose price, PV
  // and fixed load are equal, swapping two slots' charge levels changes nothing in J or in the
  // contract. Without V2H the SoC only rises within the run, so charging the larger levels first
  // keeps every SoC between the floor (higher prefixes) and the capacity (never above the run's end
  // SoC): n_t ≥ n_{t+1} keeps an optimum and removes the permutations.
  if (ev && !ev.spec.v2h) {
    const free = (t: number) => ev.day.home[t] === 1 && load[t].length === 0 && evCharge[t] !== null;
    const same = (t: number, u: number) => day.baseKw[t] === day.baseKw[u] && day.pvKw[t] === day.pvKw[u] && price[t] === price[u];
    for (let t = 0; t + 1 < SLOTS; t++)
      if (free(t) && free(t + 1) && same(t, t + 1)) m.addRow(`ev_sym_${t}`, [[evCharge[t]!, 1], [evCharge[t + 1]!, -1]], 0, Infinity);
  }

  /**
   * Peak tightening. In the LP relaxation the EV charges a fraction of a step in many slots, which
   * hides the peak that any real schedule has. For each stay at home (before the trip, after it,
   * or the whole day) an integer κ ≤ K bounds the steps of every slot of the stay, and
   * peak ≥ min over the stay of (fixed load − PV) + step·κ. With κ = the largest step count the
   * schedule uses, every integer schedule satisfies both (the slot that uses κ steps charges, so it
   * discharges nothing), so no schedule is lost; branching on κ alone then lifts the bound.
   */
  const addEvPeakSteps = (peak: number) => {
    const { spec } = ev!;
    const stays: number[][] = [];
    let cur: number[] = [];
    for (let t = 0; t < SLOTS; t++) {
      if (evCharge[t] !== null) cur.push(t);
      else if (cur.length) {
        stays.push(cur);
        cur = [];
      }
    }
    if (cur.length) stays.push(cur);
    stays.forEach((stay, k) => {
      const kappa = m.addCol(`ev_peak_steps_${k}`, 0, spec.chargeSteps, 0, true);
      for (const t of stay) m.addRow(`ev_peak_steps_${k}_${t}`, [[evCharge[t]!, 1], [kappa, -1]], -Infinity, 0);
      const low = Math.min(...stay.map((t) => day.baseKw[t] - day.pvKw[t]));
      m.addRow(`ev_peak_${k}`, [[peak, 1], [kappa, -spec.chargeStepKw]], low, Infinity);
    });
  };

  /** The sorted distinct values L_t can take, or null when there are too many to list. */
  const perSlotChoices: Map<number, Set<number>>[] = Array.from({ length: SLOTS }, () => new Map());
  for (const [i, terms] of loadOwner.entries())
    for (const [t, kw] of terms) {
      const set = perSlotChoices[t].get(i) ?? new Set<number>([0]);
      set.add(kw);
      perSlotChoices[t].set(i, set);
    }
  const achievableLoads = (t: number): number[] | null => {
    let sums = new Set<number>([day.baseKw[t]]);
    const options: number[][] = [...perSlotChoices[t].values()].map((set) => [...set]);
    if (ev && ev.day.home[t]) {
      const lv = [0];
      for (let k = 1; k <= ev.spec.chargeSteps; k++) lv.push(k * ev.spec.chargeStepKw);
      if (ev.spec.v2h) for (let k = 1; k <= ev.spec.dischargeSteps; k++) lv.push(-k * ev.spec.dischargeStepKw);
      options.push(lv);
    }
    for (const opt of options) {
      const next = new Set<number>();
      for (const a of sums) for (const b of opt) next.add(Math.round((a + b) * 1e9) / 1e9);
      if (next.size > 4096) return null;
      sums = next;
    }
    return [...sums].sort((a, b) => a - b);
  };

  // Grid, consumption, objective.
  const imp: number[] = [];
  const exp: number[] = [];
  const L: number[] = [];
  const g = s.tariff.feedInEurPerKwh;
  const v = s.rescoin.valueEur;
  const rr = s.rescoin;
  for (let t = 0; t < SLOTS; t++) {
    imp.push(m.addCol(`import_${t}`, 0, importCap, objective === 'peak' ? 0 : price[t] * DT));
    const expCost = objective === 'peak' ? 0 : objective === 'cost' ? -g * DT : (-g + v * (rr.perKwhSelfConsumed - rr.perKwhExported)) * DT;
    exp.push(m.addCol(`export_${t}`, 0, day.pvKw[t], expCost));
    L.push(m.addCol(`load_${t}`, -Infinity, Infinity));
    const ch = evCharge[t];
    const dis = evDischarge[t];
    const terms: [number, number][] = [[L[t], 1], ...load[t].map(([c, kw]) => [c, -kw] as [number, number])];
    if (ch !== null) terms.push([ch, -ev!.spec.chargeStepKw]);
    if (dis !== null) terms.push([dis, ev!.spec.dischargeStepKw]);
    m.addRow(`load_def_${t}`, terms, day.baseKw[t], day.baseKw[t]);
    m.addRow(`balance_${t}`, [[imp[t], 1], [exp[t], -1], [L[t], -1]], -day.pvKw[t], -day.pvKw[t]);
    // V2H never exports: in discharge mode (mode = 0) export is 0.
    if (evMode[t] !== null) m.addRow(`ev_no_export_${t}`, [[exp[t], 1], [evMode[t]!, -day.pvKw[t]]], -Infinity, 0);
  }
  if (objective === 'peak' || objective === 'cost') {
    // Cost alone is augmented by 1e-4 € per kW of peak (above the MIP gap), so that among equally cheap
    // schedules the lowest peak wins and the front holds only efficient points.
    const peak = m.addCol('peak', 0, importCap, objective === 'peak' ? 1 : 1e-4);
    for (let t = 0; t < SLOTS; t++) m.addRow(`peak_${t}`, [[peak, 1], [imp[t], -1]], 0, Infinity);
    if (ev) addEvPeakSteps(peak);
  } else if (objective === 'score') {
    const w = s.objective.fo2Weight;
    if (w > 0) {
      const lines = pwlSquareLines(s.objective.fo2BreakpointsKw);
      const bp = s.objective.fo2BreakpointsKw;
      const q = day.meanLoadKw;
      for (let t = 0; t < SLOTS; t++) {
        const z = m.addCol(`fo2_${t}`, -Infinity, Infinity, w);
        const values = achievableLoads(t);
        if (!values) {
          lines.forEach((ln, j) => m.addRow(`fo2_${t}_${j}`, [[z, 1], [L[t], -ln.slope]], ln.intercept - ln.slope * q, Infinity));
          continue;
        }
        // L_t only takes the values some schedule gives it; through those points the secants of φ
        // are exact for every integer solution and as tight as can be for fractional ones (the
        // convex hull), with fewer rows than φ's own pieces.
        for (const ln of hullLines(values.map((v) => [v, pwlSquare(v - q, bp)]))) m.addRow(`fo2_${t}_${ln.from}`, [[z, 1], [L[t], -ln.slope]], ln.intercept, Infinity);
      }
    }
    const lambda = s.objective.peakEurPerKw;
    const bonus = v * rr.perKwPeakReduction;
    if (lambda > 0 || bonus > 0) {
      const peak = m.addCol('peak', 0, s.grid.contractKw, lambda);
      for (let t = 0; t < SLOTS; t++) m.addRow(`peak_${t}`, [[peak, 1], [imp[t], -1]], 0, Infinity);
      if (ev) addEvPeakSteps(peak);
      if (bonus > 0 && day.referencePeakKw > 0) {
        const below = m.addCol('peak_below_reference', 0, day.referencePeakKw, -bonus);
        m.addRow('peak_bonus', [[below, 1], [peak, 1]], -Infinity, day.referencePeakKw);
      }
    }
    // The PV part of RESCoin that no decision changes: −v·r_self·Σ pv·Δt.
    let pvKwh = 0;
    for (let t = 0; t < SLOTS; t++) pvKwh += day.pvKw[t] * DT;
    m.offset = -v * rr.perKwhSelfConsumed * pvKwh;
  }

  const decode = (values: Float64Array): MilpSchedule => {
    const runs = decoders.map((dec) => dec(values));
    const evAction = new Int32Array(SLOTS);
    const evKw = new Float64Array(SLOTS);
    if (ev)
      for (let t = 0; t < SLOTS; t++) {
        const c = evCharge[t] === null ? 0 : Math.round(values[evCharge[t]!]);
        const d = evDischarge[t] === null ? 0 : Math.round(values[evDischarge[t]!]);
        evAction[t] = c > 0 ? c : d > 0 ? ev.spec.chargeSteps + d : 0;
        evKw[t] = c * ev.spec.chargeStepKw - d * ev.spec.dischargeStepKw;
      }
    // Flows recomputed from the decisions, as the env computes them.
    const importKw = new Float64Array(SLOTS);
    const exportKw = new Float64Array(SLOTS);
    const loadKw = new Float64Array(SLOTS);
    for (let t = 0; t < SLOTS; t++) loadKw[t] = day.baseKw[t] + evKw[t];
    runs.forEach((slots, i) => slots.forEach((t, k) => (loadKw[t] += s.appliances[i].cycleKw[k])));
    for (let t = 0; t < SLOTS; t++) {
      const net = loadKw[t] - day.pvKw[t];
      importKw[t] = net > 0 ? net : 0;
      exportKw[t] = net < 0 ? -net : 0;
    }
    return { runs, evAction, evKw, importKw, exportKw, loadKw };
  };
  return { model: m, decode };
}

/**
 * The lower envelope through points on a convex curve, as lines y ≥ slope·x + intercept: one per
 * run of collinear neighbours; a single point gives a flat line at its value.
 */
export function hullLines(points: [number, number][]): { slope: number; intercept: number; from: number }[] {
  if (points.length === 1) return [{ slope: 0, intercept: points[0][1], from: 0 }];
  const out: { slope: number; intercept: number; from: number }[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [x0, y0] = points[k];
    const [x1, y1] = points[k + 1];
    const slope = (y1 - y0) / (x1 - x0);
    const last = out[out.length - 1];
    if (last && Math.abs(last.slope - slope) <= 1e-9 * Math.max(1, Math.abs(slope))) continue;
    out.push({ slope, intercept: y0 - slope * x0, from: k });
  }
  return out;
}

/** Solve one day to proven optimality (or say why not). */
export async function solveDay(s: Scenario, day: Day, opts: SolveOptions & DayModelOptions = {}): Promise<MilpResult> {
  const t0 = performance.now();
  const { model, decode } = buildDayModel(s, day, opts);
  const buildMs = performance.now() - t0;
  const res = await solve(model, opts);
  if (res.status === 'infeasible') throw new InfeasibleDayError(`infeasible day (seed ${day.seed}): ${await explainInfeasible(s, day, res.conflict)}`);
  if (res.status === 'error') throw new Error(`HiGHS could not solve day ${day.seed}: ${res.detail}`);
  if (res.status === 'time-limit' && !res.hasSolution)
    throw new Error(`day ${day.seed}: the time limit (${opts.timeLimitSec ?? 60} s) ran out before HiGHS found any schedule`);
  const schedule = decode(res.values);
  const parts = scoreDay(s, day, schedule);
  return {
    status: res.status,
    detail: res.detail,
    score: (opts.objective ?? 'score') === 'score' ? res.objective : parts.score,
    objective: res.objective,
    parts,
    mipGap: res.mipGap,
    solveMs: res.solveMs,
    buildMs,
    schedule,
    cols: model.cols.length,
    rows: model.rows.length,
  };
}

/**
 * Name what makes a day infeasible: from HiGHS's irreducible subsystem when it gives one, else by
 * re-solving without the contract limit and then without one request at a time.
 */
async function explainInfeasible(s: Scenario, day: Day, conflict: string[]): Promise<string> {
  if (conflict.length) return explainConflict(s, conflict);
  const feasible = async (sc: Scenario, d: Day) => {
    try {
      return (await solve(buildDayModel(sc, d, { objective: 'cost' }).model, { timeLimitSec: 10 })).status !== 'infeasible';
    } catch {
      return false;
    }
  };
  const culprits: string[] = [];
  if (await feasible({ ...s, grid: { ...s.grid, contractKw: 1e6 } }, day)) culprits.push(`the ${s.grid.contractKw} kW contract limit`);
  for (let i = 0; i < day.requests.length; i++) {
    if (!day.requests[i]) continue;
    const without = { ...day, requests: day.requests.map((r, j) => (j === i ? null : r)) };
    if (await feasible(s, without)) culprits.push(s.appliances[i].id);
  }
  return culprits.length ? `conflict between ${culprits.join(', ')}` : 'no schedule meets every rule';
}

/** Name the activities in an infeasible subsystem. */
function explainConflict(s: Scenario, names: string[]): string {
  const ids = new Set<string>();
  for (const n of names) {
    const app = s.appliances.find((a) => n.startsWith(`${lpName(a.id)}_`));
    if (app) ids.add(app.id);
    else if (n.startsWith('ev_')) ids.add('the EV');
    else if (n.startsWith('import_')) ids.add('the contract limit');
  }
  return ids.size ? `conflict between ${[...ids].join(', ')}` : `no schedule meets every rule (${names.slice(0, 6).join(', ') || 'no subsystem found'})`;
}

/** The env actions of a schedule: actions[t] has one entry per component. */
export function scheduleActions(s: Scenario, schedule: MilpSchedule): Int32Array[] {
  const nComp = s.appliances.length + (s.ev ? 1 : 0);
  const actions = Array.from({ length: SLOTS }, () => new Int32Array(nComp));
  schedule.runs.forEach((slots, i) => slots.forEach((t) => (actions[t][i] = 1)));
  if (s.ev) for (let t = 0; t < SLOTS; t++) actions[t][s.appliances.length] = schedule.evAction[t];
  return actions;
}

/**
 * The MILP as a policy (perfect foresight): at reset it solves the whole day, then plays the
 * schedule. `last` holds the solve of the current day; a time-limited solve is played but its
 * status says so.
 */
export function milpPolicy(s: Scenario, opts: SolveOptions = {}): Policy & { last: MilpResult | null } {
  let actions: Int32Array[] = [];
  const policy = {
    name: 'milp',
    foresight: true,
    last: null as MilpResult | null,
    async reset(_info: StepInfo, day?: Day) {
      if (!day) throw new Error('the milp policy needs the whole day: play it with playDay() (foresight)');
      policy.last = await solveDay(s, day, opts);
      actions = scheduleActions(s, policy.last.schedule);
    },
    act(_obs: Float32Array, info: StepInfo) {
      if (!policy.last) throw new Error('milp policy: act() before reset()');
      return actions[info.slot];
    },
  };
  return policy;
}

export { type SolveOptions } from './lp.js';
