import { DT, LIMIT_TOL, pwlSquare, pwlSquareLines, SLOTS, type Day, type Scenario } from '../env/index.js';
import { LinearModel } from './lp.js';
import { addApplianceColumns } from './milp-appliances.js';
import { addEvColumns, addEvPeakSteps, addEvSymmetry, decodeEv, evLevelsKw, evPeakFloorKw, type EvColumns } from './milp-ev.js';

/**
 * Building the day's MILP: the appliance and EV columns (milp-appliances.ts, milp-ev.ts), then the
 * grid, the consumption and the objective here. The shape and its reasons are in milp.ts.
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
  /** SoC at the start of each slot (97 entries; [96] ends the day, for the shortfall), with an EV. */
  socKwh?: Float64Array;
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
  /**
   * Add the valid lower bound on the peak from the charge steps the SoC rows force (milp-ev.ts
   * evPeakFloorKw; default true). It changes no integer schedule's J, only the speed; false is
   * there to test exactly that.
   */
  evPeakFloor?: boolean;
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

/**
 * The sorted distinct values L_t can take at each slot (a function of t), or null at a slot where
 * there are too many to list.
 */
function loadChoices(day: Day, loadOwner: Map<number, [number, number][]>, evc: EvColumns): (t: number) => number[] | null {
  const perSlotChoices: Map<number, Set<number>>[] = Array.from({ length: SLOTS }, () => new Map());
  for (const [i, terms] of loadOwner.entries())
    for (const [t, kw] of terms) {
      const set = perSlotChoices[t].get(i) ?? new Set<number>([0]);
      set.add(kw);
      perSlotChoices[t].set(i, set);
    }
  const { ev } = evc;
  return (t) => {
    let sums = new Set<number>([day.baseKw[t]]);
    const options: number[][] = [...perSlotChoices[t].values()].map((set) => [...set]);
    if (ev && ev.day.home[t]) options.push(evLevelsKw(ev.spec));
    for (const opt of options) {
      const next = new Set<number>();
      for (const a of sums) for (const b of opt) next.add(Math.round((a + b) * 1e9) / 1e9);
      if (next.size > 4096) return null;
      sums = next;
    }
    return [...sums].sort((a, b) => a - b);
  };
}

/** The import peak as a min-max column over every slot's import, with the EV's κ tightening. */
function addPeak(m: LinearModel, day: Day, evc: EvColumns, imp: number[], ub: number, cost: number, floorCut: boolean): number {
  const peak = m.addCol('peak', 0, ub, cost);
  for (let t = 0; t < SLOTS; t++) m.addRow(`peak_${t}`, [[peak, 1], [imp[t], -1]], 0, Infinity);
  if (evc.ev) {
    addEvPeakSteps(m, day, evc, peak);
    const floor = floorCut ? evPeakFloorKw(day, evc) : 0;
    if (floor > 0) m.addRow('ev_peak_floor', [[peak, 1]], floor, Infinity);
  }
  return peak;
}

/** F.O.2: w·Σ_t z_t with z_t ≥ each secant of φ(L_t − q) through the loads slot t can reach. */
function addFo2(m: LinearModel, s: Scenario, day: Day, L: number[], choices: (t: number) => number[] | null): void {
  const w = s.objective.fo2Weight;
  const lines = pwlSquareLines(s.objective.fo2BreakpointsKw);
  const bp = s.objective.fo2BreakpointsKw;
  const q = day.meanLoadKw;
  for (let t = 0; t < SLOTS; t++) {
    const z = m.addCol(`fo2_${t}`, -Infinity, Infinity, w);
    const values = choices(t);
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

export function buildDayModel(s: Scenario, day: Day, opts: DayModelOptions = {}): Built {
  precheck(s, day);
  const m = new LinearModel();
  const objective = opts.objective ?? 'score';
  const importCap = Math.min(s.grid.contractKw, opts.peakCapKw ?? Infinity);
  const { load, loadOwner, decoders } = addApplianceColumns(m, s, day);
  const evc = addEvColumns(m, s, day);
  addEvSymmetry(m, s, day, evc, load);
  const { ev, charge: evCharge, discharge: evDischarge, mode: evMode } = evc;

  // Grid, consumption, objective.
  const price = s.priceKwh;
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
    addPeak(m, day, evc, imp, importCap, objective === 'peak' ? 1 : 1e-4, opts.evPeakFloor !== false);
  } else if (objective === 'score') {
    if (s.objective.fo2Weight > 0) addFo2(m, s, day, L, loadChoices(day, loadOwner, evc));
    const lambda = s.objective.peakEurPerKw;
    const bonus = v * rr.perKwPeakReduction;
    if (lambda > 0 || bonus > 0) {
      const peak = addPeak(m, day, evc, imp, s.grid.contractKw, lambda, opts.evPeakFloor !== false);
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
    const { evAction, evKw, socKwh } = decodeEv(evc, values);
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
    return { runs, evAction, evKw, importKw, exportKw, loadKw, socKwh };
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
