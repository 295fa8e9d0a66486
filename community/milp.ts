import { SLOTS, type Day } from '../env/index.js';
import { solve, type SolveOptions, type SolveStatus } from '../baseline/lp.js';
import { solveDay, type MilpResult } from '../baseline/milp.js';
import type { MilpSchedule } from '../baseline/milp-model.js';
import { scheduleActions } from '../baseline/milp-policy.js';
import { flexShareCaps, planCaps, type CapPolicy } from './caps.js';
import type { Community } from './community.js';
import { makeCommunityEnv } from './env.js';
import { buildCommunityModel } from './milp-model.js';
import { scoreCommunityDay, type CommunityDaySummary } from './score.js';

/**
 * The community MILP (issue 15, item 4): the cooperative optimum J* of a community day on the
 * community's own score (community-api.md), each home's own optimum played together, and the
 * value of cooperation between them. The model is in milp-model.ts; the Lagrangian bound for
 * communities too large to solve exactly in dual.ts.
 */

export interface CommunityHomePlan {
  id: string;
  schedule: MilpSchedule;
  /** The env actions per slot (one entry per component), for a replay. */
  actions: Int32Array[];
}

export interface CommunityMilpResult {
  status: SolveStatus;
  /** HiGHS's status word. */
  detail: string;
  /** J* (€): the solver's objective, the community J of the schedule. */
  score: number;
  /** HiGHS's proven lower bound on J* (the optimum itself when optimal). */
  dualBound: number;
  mipGap: number;
  solveMs: number;
  buildMs: number;
  homes: CommunityHomePlan[];
  /** G_t = Σ_i net_i,t of the schedule, kW. */
  feederKw: Float64Array;
  cols: number;
  rows: number;
}

/** The feeder flow Σ_i (imp − exp) per slot of a set of schedules. */
export function feederFlow(schedules: readonly MilpSchedule[]): Float64Array {
  const g = new Float64Array(SLOTS);
  for (const s of schedules) for (let t = 0; t < SLOTS; t++) g[t] += s.importKw[t] - s.exportKw[t];
  return g;
}

/** The community's flows of a set of schedules, as scoreCommunityDay reads them. */
export function scheduleFlows(schedules: readonly MilpSchedule[]) {
  return {
    importKw: schedules.map((s) => s.importKw),
    exportKw: schedules.map((s) => s.exportKw),
    loadKw: schedules.map((s) => s.loadKw),
    // A home without an EV has no SoC; its score never reads it.
    socKwh: schedules.map((s) => s.socKwh ?? new Float64Array(SLOTS + 1)),
  };
}

/** Solve a community day's cooperative MILP (milp-model.ts) to proven optimality, or say why not. */
export async function solveCommunityDay(c: Community, days: readonly Day[], opts: SolveOptions = {}): Promise<CommunityMilpResult> {
  const t0 = performance.now();
  const { model, homes } = buildCommunityModel(c, days);
  const buildMs = performance.now() - t0;
  const res = await solve(model, opts);
  const where = `community ${c.id} (day seeds ${days.map((d) => d.seed).join(', ')})`;
  if (res.status === 'infeasible') throw new Error(`${where}: no schedule of the homes meets every rule and the ${c.feederKw} kW feeder (HiGHS: ${res.detail})`);
  if (res.status === 'error') throw new Error(`${where}: HiGHS could not solve it: ${res.detail}`);
  if (!res.hasSolution) throw new Error(`${where}: the time limit (${opts.timeLimitSec ?? 60} s) ran out before HiGHS found any schedule`);
  const plans = homes.map((h, i) => {
    const schedule = h.decode(res.values);
    return { id: c.homes[i].id, schedule, actions: scheduleActions(c.homes[i].scenario, schedule) };
  });
  return {
    status: res.status,
    detail: res.detail,
    score: res.objective,
    dualBound: res.dualBound,
    mipGap: res.mipGap,
    solveMs: res.solveMs,
    buildMs,
    homes: plans,
    feederKw: feederFlow(plans.map((p) => p.schedule)),
    cols: model.cols.length,
    rows: model.rows.length,
  };
}

export interface OwnOptimaResult {
  /** Each home's own optimum (solveDay on its own day, alone). */
  homes: (CommunityHomePlan & { own: MilpResult })[];
  /** The community J of the own optima played together (the market cleared on their flows). */
  score: number;
  summary: CommunityDaySummary;
  feederKw: Float64Array;
  /** Whether Σ net stays under the feeder in every slot: if not, the own optima are no community schedule. */
  feasible: boolean;
  /** The largest excess of Σ net over the feeder, kW (0 when feasible). */
  feederExcessKw: number;
  /** Whether every home's own solve was proven optimal. */
  allOptimal: boolean;
}

/** Each home's own optimum, played together and scored as the community. */
export async function ownOptima(c: Community, days: readonly Day[], opts: SolveOptions = {}): Promise<OwnOptimaResult> {
  const homes: OwnOptimaResult['homes'] = [];
  for (let i = 0; i < c.homes.length; i++) {
    const s = c.homes[i].scenario;
    const own = await solveDay(s, days[i], opts);
    homes.push({ id: c.homes[i].id, schedule: own.schedule, actions: scheduleActions(s, own.schedule), own });
  }
  const schedules = homes.map((h) => h.schedule);
  const summary = scoreCommunityDay(c, days as Day[], scheduleFlows(schedules));
  const feederKw = feederFlow(schedules);
  let excess = 0;
  for (let t = 0; t < SLOTS; t++) excess = Math.max(excess, feederKw[t] - c.feederKw);
  return {
    homes,
    score: summary.score,
    summary,
    feederKw,
    feasible: excess <= 1e-9,
    feederExcessKw: excess > 1e-9 ? excess : 0,
    allOptimal: homes.every((h) => h.own.status === 'optimal'),
  };
}

export interface CooperationResult {
  optimum: CommunityMilpResult;
  own: OwnOptimaResult;
  /**
   * J(own optima together) − J*: what cooperating is worth, € (≥ 0 when J* is proven optimal and
   * the own optima hold the feeder). When they break the feeder they are no community schedule and
   * this compares J* with a day the community cannot have (own.feasible says so).
   */
  valueEur: number;
}

/** The cooperative optimum, the own optima together, and the value of cooperation. */
export async function cooperation(c: Community, days: readonly Day[], opts: SolveOptions = {}): Promise<CooperationResult> {
  const optimum = await solveCommunityDay(c, days, opts);
  const own = await ownOptima(c, days, opts);
  return { optimum, own, valueEur: own.score - optimum.score };
}

export interface Replay {
  summary: CommunityDaySummary;
  /** Σ_t Σ_i rewards + Σ_t operatorReward: −J of the day played. */
  totalReturn: number;
  /** Fallbacks the controllers applied (0 when every action was allowed). */
  violations: number;
}

/**
 * Which operator the replay plays under: 'plan' (default) a coordinator that knows the plan and
 * gives each home at least its planned net (planCaps, community/caps.ts); 'flex-share' the env's
 * default operator, which shares the headroom by flexibility and knows no plan; or any CapPolicy.
 */
export type ReplayCaps = 'plan' | 'flex-share' | CapPolicy;

/** The planned net (import − export) per home and slot of a set of schedules, kW. */
export function plannedNets(schedules: readonly MilpSchedule[]): Float64Array[] {
  return schedules.map((s) => Float64Array.from(s.importKw, (imp, t) => imp - s.exportKw[t]));
}

/**
 * Play per-home plans (e.g. the community MILP's) in the community env on the given days. Under
 * 'plan' caps a schedule that holds the feeder replays to −its J with no fallback (unless a planned
 * discharge leaves Σ max(F, plan) over the feeder: see planCaps); under 'flex-share' a binding or
 * nearly binding feeder masks the actions the shares do not admit.
 */
export function replayCommunity(c: Community, days: readonly Day[], plans: readonly CommunityHomePlan[], caps: ReplayCaps = 'plan'): Replay {
  if (plans.length !== c.homes.length) throw new Error(`replayCommunity: ${plans.length} plans for the ${c.homes.length} homes of community ${c.id}`);
  const policy = caps === 'plan' ? planCaps(plannedNets(plans.map((p) => p.schedule))) : caps === 'flex-share' ? flexShareCaps : caps;
  const env = makeCommunityEnv(c, { caps: policy });
  env.reset({ options: { days: [...days] } });
  const ids = env.possibleAgents;
  let total = 0;
  let violations = 0;
  for (let t = 0; t < SLOTS; t++) {
    const step: Record<string, Int32Array> = {};
    ids.forEach((id, i) => (step[id] = plans[i].actions[t]));
    const r = env.step(step);
    total += r.operatorReward;
    for (const id of ids) {
      total += r.rewards[id];
      violations += r.infos[id].violations;
    }
  }
  return { summary: env.trajectory().summary!, totalReturn: total, violations };
}
