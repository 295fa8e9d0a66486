import * as highsModule from 'highs';
import type { Highs } from 'highs';

/**
 * A small linear model builder: columns with bounds, costs and integrality, rows as sparse sums with
 * bounds, and a constant. It feeds HiGHS as sparse arrays (no text to parse on the hot path) and
 * writes the same model in CPLEX LP format for other solvers.
 */

export interface Column {
  name: string;
  lb: number;
  ub: number;
  cost: number;
  integer: boolean;
}

export interface Row {
  name: string;
  lb: number;
  ub: number;
  cols: number[];
  vals: number[];
}

export class LinearModel {
  readonly cols: Column[] = [];
  readonly rows: Row[] = [];
  /** Constant term of the objective (minimised). */
  offset = 0;
  private readonly names = new Set<string>();

  addCol(rawName: string, lb: number, ub: number, cost = 0, integer = false): number {
    const name = lpName(rawName);
    if (this.names.has(name)) throw new Error(`LinearModel: duplicate name ${name}`);
    this.names.add(name);
    this.cols.push({ name, lb, ub, cost, integer });
    return this.cols.length - 1;
  }

  /** lb ≤ Σ vals·cols ≤ ub; repeated columns are merged. */
  addRow(rawName: string, terms: [number, number][], lb: number, ub: number): number {
    const name = lpName(rawName);
    if (this.names.has(name)) throw new Error(`LinearModel: duplicate name ${name}`);
    this.names.add(name);
    const merged = new Map<number, number>();
    for (const [c, v] of terms) if (v !== 0) merged.set(c, (merged.get(c) ?? 0) + v);
    const cols = [...merged.keys()].sort((a, b) => a - b);
    this.rows.push({ name, lb, ub, cols, vals: cols.map((c) => merged.get(c)!) });
    return this.rows.length - 1;
  }

  /**
   * CPLEX LP text. Lines stay short (the HiGHS LP reader limits line length), and the constant goes
   * in through a column fixed to 1, which every LP reader accepts.
   */
  toLp(title = 'model'): string {
    const out: string[] = [`\\ ${title}`, 'Minimize'];
    const objTerms = this.cols.map((c, j) => [c.cost, j] as [number, number]).filter(([v]) => v !== 0);
    const constName = '__constant_one';
    const constTerm = this.offset !== 0 ? [[this.offset, -1] as [number, number]] : [];
    wrapTerms(out, ' obj:', [...objTerms, ...constTerm].map(([v, j]) => term(v, j < 0 ? constName : this.cols[j].name)));
    out.push('Subject To');
    for (const r of this.rows) {
      const terms = r.cols.map((c, k) => term(r.vals[k], this.cols[c].name));
      if (terms.length === 0) terms.push(term(0, this.cols[0].name));
      if (r.lb === r.ub) wrapTerms(out, ` ${r.name}:`, terms, ` = ${num(r.ub)}`);
      else {
        if (Number.isFinite(r.lb)) wrapTerms(out, ` ${r.name}${Number.isFinite(r.ub) ? '_lo' : ''}:`, terms, ` >= ${num(r.lb)}`);
        if (Number.isFinite(r.ub)) wrapTerms(out, ` ${r.name}${Number.isFinite(r.lb) ? '_hi' : ''}:`, terms, ` <= ${num(r.ub)}`);
      }
    }
    out.push('Bounds');
    for (const c of this.cols) {
      const lo = Number.isFinite(c.lb);
      const hi = Number.isFinite(c.ub);
      if (c.lb === c.ub) out.push(` ${c.name} = ${num(c.lb)}`);
      else if (lo && hi) out.push(` ${num(c.lb)} <= ${c.name} <= ${num(c.ub)}`);
      else if (lo) out.push(` ${c.name} >= ${num(c.lb)}`);
      else if (hi) out.push(` -inf <= ${c.name} <= ${num(c.ub)}`);
      else out.push(` ${c.name} free`);
    }
    if (constTerm.length) out.push(` ${constName} = 1`);
    const ints = this.cols.filter((c) => c.integer).map((c) => c.name);
    if (ints.length) {
      out.push('Generals');
      for (let k = 0; k < ints.length; k += 8) out.push(` ${ints.slice(k, k + 8).join(' ')}`);
    }
    out.push('End', '');
    return out.join('\n');
  }
}

/** A name every LP reader accepts: letters, digits and underscores (a '-' would read as minus). */
export const lpName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(17).replace(/\.?0+$/, '').replace(/\.?0+e/, 'e'));
const term = (v: number, name: string) => `${v < 0 ? '-' : '+'} ${num(Math.abs(v))} ${name}`;

function wrapTerms(out: string[], head: string, terms: string[], tail = ''): void {
  let line = head;
  for (const t of terms) {
    if (line.length + t.length > 200) {
      out.push(line);
      line = '  ';
    }
    line += ` ${t}`;
  }
  out.push(line + tail);
}

let highsPromise: Promise<Highs> | null = null;
let loaded: Highs | null = null;
/** The HiGHS WebAssembly module, loaded once per thread (module state is per worker thread). */
export function highs(): Promise<Highs> {
  // The package's types describe a CommonJS module; under ESM its loader is the default export.
  const loader = (highsModule as unknown as { default: () => Promise<Highs> }).default;
  highsPromise ??= loader().then((h) => (loaded = h));
  return highsPromise;
}

/**
 * Run `fn` with `h`; if it throws, the next highs() loads a fresh instance: after a trap (out of
 * memory, an abort) a WebAssembly instance's memory is in an unknown state, and a pool thread would
 * otherwise fail every job after its first bad one.
 */
function guarded<T>(h: Highs, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (h === loaded) {
      highsPromise = null;
      loaded = null;
    }
    throw e;
  }
}

export type SolveStatus = 'optimal' | 'time-limit' | 'infeasible' | 'error';

export interface SolveResult {
  status: SolveStatus;
  /** HiGHS's own words for the status. */
  detail: string;
  objective: number;
  /** Relative MIP gap at the end (0 when proven optimal). */
  mipGap: number;
  /**
   * HiGHS's proven lower bound on the optimum (mip_dual_bound, with the offset), valid even at a
   * time limit; the objective itself for a model without integers. -Infinity when none was proven.
   */
  dualBound: number;
  values: Float64Array;
  solveMs: number;
  /** Whether `values` hold a feasible schedule (optimal, or the best found before the time limit). */
  hasSolution: boolean;
  /** Names of the rows and columns of an irreducible infeasible subsystem, when infeasible. */
  conflict: string[];
  /** The rows' duals (€ per unit of the row) of a model without integers; empty for a MIP. */
  rowDual: Float64Array;
}

export interface SolveOptions {
  timeLimitSec?: number;
  /** Relative gap at which a MIP counts as solved; tiny by default so that "optimal" means it. */
  mipRelGap?: number;
  /**
   * A start for the branch and bound: values of some columns (index → value), e.g. a rule
   * schedule's or the previous MPC solve's. HiGHS checks it (and completes the continuous columns
   * of a partial one) and keeps it only if feasible; it changes the speed, never the optimum.
   */
  start?: Map<number, number>;
}

/**
 * The options of every solve: a relative gap of 1e-7 (tiny, so that "optimal" means it) and tight
 * tolerances. RINS and RENS are off: on the day MILPs their sub-MIPs took half of the time at the
 * root (the paper's apartment, 30 days: 8.0 s in all with them, 2.9 s without, the same optima) and
 * the branch and bound finds the optimum without them.
 */
const EXACT = {
  mip_rel_gap: 1e-7,
  mip_abs_gap: 1e-9,
  primal_feasibility_tolerance: 1e-9,
  mip_feasibility_tolerance: 1e-9,
  mip_heuristic_run_rins: false,
  mip_heuristic_run_rens: false,
};

/** Solve a model with HiGHS. */
export async function solve(m: LinearModel, opts: SolveOptions = {}): Promise<SolveResult> {
  const h = await highs();
  // A solve blocks the thread for up to its time limit: let timers, progress bars and test
  // runners' messages through first.
  await new Promise((resolve) => setImmediate(resolve));
  return solveWith(h, m, opts);
}

/**
 * Solve with a loaded HiGHS, synchronously (a policy's act() cannot wait: the MPC loads HiGHS in
 * its async reset() and solves here).
 */
export function solveWith(h: Highs, m: LinearModel, opts: SolveOptions = {}): SolveResult {
  return guarded(h, () => solveUnguarded(h, m, opts));
}

function solveUnguarded(h: Highs, m: LinearModel, opts: SolveOptions): SolveResult {
  const n = m.cols.length;
  const starts = new Int32Array(m.rows.length + 1);
  let nnz = 0;
  m.rows.forEach((r, i) => {
    nnz += r.cols.length;
    starts[i + 1] = nnz;
  });
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let k = 0;
  for (const r of m.rows)
    for (let j = 0; j < r.cols.length; j++, k++) {
      indices[k] = r.cols[j];
      values[k] = r.vals[j];
    }
  const inf = h.infinity;
  const clip = (v: number) => (v === Infinity ? inf : v === -Infinity ? -inf : v);
  const model = h.createModel({
    numCols: n,
    numRows: m.rows.length,
    offset: m.offset,
    colCost: Float64Array.from(m.cols, (c) => c.cost),
    colLower: Float64Array.from(m.cols, (c) => clip(c.lb)),
    colUpper: Float64Array.from(m.cols, (c) => clip(c.ub)),
    rowLower: Float64Array.from(m.rows, (r) => clip(r.lb)),
    rowUpper: Float64Array.from(m.rows, (r) => clip(r.ub)),
    matrix: { format: 'csr', starts, indices, values, numRows: m.rows.length, numCols: n },
    integrality: Int32Array.from(m.cols, (c) => (c.integer ? 1 : 0)),
    colNames: m.cols.map((c) => c.name),
    rowNames: m.rows.map((r) => r.name),
  } as Parameters<Highs['createModel']>[0] & object);
  try {
    model.options.set({
      output_flag: false,
      time_limit: opts.timeLimitSec ?? 60,
      ...EXACT,
      mip_rel_gap: opts.mipRelGap ?? EXACT.mip_rel_gap,
    });
    if (opts.start?.size) model.setSolution({ indices: Int32Array.from(opts.start.keys()), values: Float64Array.from(opts.start.values()) });
    const t0 = performance.now();
    model.run();
    const solveMs = performance.now() - t0;
    const code = model.getModelStatus();
    const S = h.constants.modelStatus;
    const hasSolution = Number(model.info.get('primal_solution_status')) === 2;
    const status: SolveStatus =
      code === S.optimal ? 'optimal' : code === S.infeasible || code === S.unboundedOrInfeasible ? 'infeasible' : code === S.timeLimit ? 'time-limit' : 'error';
    const detail = statusName(h, code);
    const isMip = m.cols.some((c) => c.integer);
    const mipGap = isMip ? Number(model.info.get('mip_gap')) : 0;
    const rawBound = isMip ? Number(model.info.get('mip_dual_bound')) : hasSolution ? model.getObjectiveValue() : -Infinity;
    const dualBound = Number.isFinite(rawBound) && Math.abs(rawBound) < inf ? rawBound : -Infinity;
    let conflict: string[] = [];
    if (status === 'infeasible') {
      try {
        const iis = model.getIis();
        conflict = [...Array.from(iis.rowIndex, (i) => m.rows[i].name), ...Array.from(iis.colIndex, (j) => m.cols[j].name)];
      } catch {
        conflict = [];
      }
    }
    const sol = hasSolution ? model.getSolution() : null;
    const values = sol ? sol.colValue : new Float64Array(n);
    const rowDual = sol && !isMip ? Float64Array.from(sol.rowDual) : new Float64Array(0);
    return { status, detail, objective: hasSolution ? model.getObjectiveValue() : NaN, mipGap: status === 'optimal' ? Math.max(0, mipGap) : mipGap, dualBound, values, solveMs, conflict, hasSolution, rowDual };
  } finally {
    model.dispose();
  }
}

/** Solve CPLEX LP text with HiGHS (to check an exported model). */
export async function solveLpText(text: string): Promise<{ status: string; objective: number }> {
  const h = await highs();
  const res = guarded(h, () => h.solve(text, { output_flag: false, ...EXACT } as Parameters<Highs['solve']>[1]));
  return { status: res.Status, objective: res.ObjectiveValue };
}

function statusName(h: Highs, code: number): string {
  for (const [k, v] of Object.entries(h.constants.modelStatus) as [string, number][]) if (v === code) return k;
  return `status ${code}`;
}
