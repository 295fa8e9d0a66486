import { scoreDay, type Day, type Scenario, type ScoreParts } from '../env/index.js';
import { lpName, solve, type SolveOptions, type SolveStatus } from './lp.js';
import { buildDayModel, InfeasibleDayError, type DayModelOptions, type MilpSchedule } from './milp-model.js';

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
 *
 * Files: milp-model.ts builds the model (the appliance columns in milp-appliances.ts, the EV's in
 * milp-ev.ts); this file solves it and reads the result; milp-policy.ts replays a schedule.
 */

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

export { type SolveOptions } from './lp.js';
