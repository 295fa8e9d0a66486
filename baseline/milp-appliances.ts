import { SLOTS, type ApplianceSpec, type Day, type Request, type Scenario } from '../env/index.js';
import type { LinearModel } from './lp.js';

/**
 * The appliance columns of the day's MILP (the shape and its reasons are in milp.ts). Each request
 * adds its binaries and the rows that make them one cycle; the columns' power is returned per slot,
 * for the consumption rows and for listing what L_t can be.
 */

/** (column, coefficient) pairs of a row or a sum. */
type Terms = [number, number][];

/** Record that column `col` draws `kw` at slot `t`. */
type Draw = (t: number, col: number, kw: number) => void;

/** What one request adds: how to read its run slots back, and Σ t·(run at t) for symmetry rows. */
interface RequestColumns {
  decode: (v: Float64Array) => number[];
  key: Terms;
}

export interface ApplianceColumns {
  /** load[t]: the (column, kW) terms that slot t's appliance power is made of. */
  load: Terms[];
  /** Per appliance index: the (slot, kW) of each of its columns. */
  loadOwner: Map<number, [number, number][]>;
  /** Per appliance: the slots it runs in a solution (empty when not requested). */
  decoders: ((v: Float64Array) => number[])[];
}

/** Non-interruptible: one start binary per feasible start and Σ starts = 1 (eq. 7), no big-M. */
function addNonInterruptible(m: LinearModel, a: ApplianceSpec, r: Request, draw: Draw): RequestColumns {
  const cycle = a.cycleKw;
  const n = cycle.length;
  const starts: [number, number][] = [];
  const key: Terms = [];
  for (let st = r.release; st + n - 1 <= r.deadline; st++) {
    const z = m.addCol(`${a.id}_start_${st}`, 0, 1, 0, true);
    starts.push([z, st]);
    key.push([z, st]);
    for (let k = 0; k < n; k++) draw(st + k, z, cycle[k]);
  }
  m.addRow(`${a.id}_once`, starts.map(([z]) => [z, 1]), 1, 1);
  const decode = (v: Float64Array) => {
    const chosen = starts.find(([z]) => v[z] > 0.5);
    return chosen ? Array.from({ length: n }, (_, k) => chosen[1] + k) : [];
  };
  return { decode, key };
}

/** Interruptible with a flat profile: one run binary per window slot, Σ runs = cycle length (eq. 9). */
function addFlatInterruptible(m: LinearModel, a: ApplianceSpec, r: Request, draw: Draw): RequestColumns {
  const n = a.cycleKw.length;
  const runs: [number, number][] = [];
  const key: Terms = [];
  for (let t = r.release; t <= r.deadline; t++) {
    const x = m.addCol(`${a.id}_run_${t}`, 0, 1, 0, true);
    runs.push([x, t]);
    key.push([x, t]);
    draw(t, x, a.cycleKw[0]);
  }
  m.addRow(`${a.id}_cycle`, runs.map(([x]) => [x, 1]), n, n);
  return { decode: (v) => runs.filter(([x]) => v[x] > 0.5).map(([, t]) => t), key };
}

/**
 * Interruptible with a non-flat profile: the k-th run draws cycle[k], as in the env, so the binary
 * y[t][k] means "run cycle slot k at t". Slot k needs k slots before it and n − 1 − k after it, so
 * only those pairs exist.
 */
function addProfileInterruptible(m: LinearModel, a: ApplianceSpec, r: Request, draw: Draw): RequestColumns {
  const cycle = a.cycleKw;
  const n = cycle.length;
  const key: Terms = [];
  const y = new Map<string, number>();
  const at = (t: number, k: number) => y.get(`${t},${k}`);
  for (let t = r.release; t <= r.deadline; t++)
    for (let k = Math.max(0, n - 1 - (r.deadline - t)); k <= Math.min(n - 1, t - r.release); k++) {
      const c = m.addCol(`${a.id}_run_${t}_${k}`, 0, 1, 0, true);
      y.set(`${t},${k}`, c);
      key.push([c, t]);
      draw(t, c, cycle[k]);
    }
  for (let k = 0; k < n; k++) {
    const once: Terms = [];
    for (let t = r.release; t <= r.deadline; t++) if (at(t, k) !== undefined) once.push([at(t, k)!, 1]);
    m.addRow(`${a.id}_slot_${k}`, once, 1, 1);
  }
  for (let t = r.release; t <= r.deadline; t++) {
    const here: Terms = [];
    for (let k = 0; k < n; k++) if (at(t, k) !== undefined) here.push([at(t, k)!, 1]);
    if (here.length > 1) m.addRow(`${a.id}_one_at_${t}`, here, 0, 1);
  }
  // Cycle slot k by t needs cycle slot k − 1 strictly before t.
  for (let k = 1; k < n; k++)
    for (let t = r.release; t <= r.deadline; t++) {
      const terms: Terms = [];
      for (let u = r.release; u <= t; u++) if (at(u, k) !== undefined) terms.push([at(u, k)!, 1]);
      for (let u = r.release; u < t; u++) if (at(u, k - 1) !== undefined) terms.push([at(u, k - 1)!, -1]);
      if (terms.some(([, v]) => v > 0)) m.addRow(`${a.id}_order_${k}_${t}`, terms, -Infinity, 0);
    }
  const decode = (v: Float64Array) => {
    const out: number[] = [];
    for (const [name, c] of y) if (v[c] > 0.5) out.push(Number(name.split(',')[0]));
    return out.sort((p, q) => p - q);
  };
  return { decode, key };
}

function addRequest(m: LinearModel, a: ApplianceSpec, r: Request, draw: Draw): RequestColumns {
  if (a.kind === 'non-interruptible') return addNonInterruptible(m, a, r, draw);
  if (a.cycleKw.every((kw) => kw === a.cycleKw[0])) return addFlatInterruptible(m, a, r, draw);
  return addProfileInterruptible(m, a, r, draw);
}

/**
 * Identical requests (same profile, kind and window) are ordered by the weighted sum of their run
 * slots: swapping two schedules swaps the sums, so an optimum survives and the symmetric copies go.
 */
function addSymmetryRows(m: LinearModel, s: Scenario, day: Day, orderKey: Terms[]): void {
  const nApp = s.appliances.length;
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
}

/** Add every request's columns and rows, then the symmetry rows between identical requests. */
export function addApplianceColumns(m: LinearModel, s: Scenario, day: Day): ApplianceColumns {
  const load: Terms[] = Array.from({ length: SLOTS }, () => []);
  const loadOwner = new Map<number, [number, number][]>();
  const decoders: ((v: Float64Array) => number[])[] = [];
  const orderKey: Terms[] = [];
  s.appliances.forEach((a, i) => {
    const r = day.requests[i];
    if (!r) {
      decoders.push(() => []);
      orderKey.push([]);
      return;
    }
    const draw: Draw = (t, col, kw) => {
      load[t].push([col, kw]);
      if (!loadOwner.has(i)) loadOwner.set(i, []);
      loadOwner.get(i)!.push([t, kw]);
    };
    const { decode, key } = addRequest(m, a, r, draw);
    decoders.push(decode);
    orderKey.push(key);
  });
  addSymmetryRows(m, s, day, orderKey);
  return { load, loadOwner, decoders };
}
