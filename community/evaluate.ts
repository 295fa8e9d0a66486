import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heldOutDay, HELD_OUT_SEED, type Day, type Policy, type StepInfo } from '../env/index.js';
import { drawCommunityDay, type Community } from './community.js';
import { CommunityEnv } from './env.js';
import { communityKpis, valueOfCooperation, type KpiDay, type KpiResult } from './kpi.js';
import { runJobs } from '../evaluation/pool.js';
import { communityJobs, primeCommunity, reloadableCommunity, type FlowsJson, type OptimumDayResult, type PlayedDay } from './jobs.js';
import type { CommunityRule } from './play.js';
import { formatReport } from './report.js';
import type { CommunityDaySummary } from './score.js';
import { loadCommunityRun } from './train.js';

/**
 * # Evaluating the neighbourhood's policies (`rescoin community evaluate`)
 *
 * Every policy plays the same held-out community days (day d = drawCommunityDay(c,
 * heldOutDay(d, seed)), the days no run trains on): the rules (each home its rule, fitted to its
 * feeder cap), each trained run (community/train.ts), the homes' own optima played together
 * (each home's single-home MILP, the market cleared on their flows) and the community optimum J*
 * (the cooperative MILP). Each is scored by community/score.ts and measured by community/kpi.ts.
 * The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days (DESIGN.md): 0 % is the
 * community optimum, 100 % no better than every home at ASAP. A day whose MILP stops at the time
 * limit keeps its best schedule (its status and MIP gap are reported): J* is then an upper bound
 * of the optimum, and a gap can come out slightly negative. Over EXACT_HOMES homes the exact MILP
 * is out of reach: the Lagrangian bound LB on J* (community/dual.ts) takes its place, the gaps are
 * Σ(J − LB) / Σ(J_asap − LB), and no 'optimum' row is played.
 */

/** Homes up to which the community MILP is solved exactly; over them the Lagrangian bound replaces J* (issue 15, item 4). */
export const EXACT_HOMES = 10;

export type PolicyKind = 'rule' | 'learned' | 'own-optima' | 'optimum';

export interface PolicyDay {
  day: number;
  seed: number;
  score: number;
  operatorCost: number;
  feederPeakKw: number;
  feederExcessKwh: number;
  violations: number;
  /** Each home's J_i, €. */
  homeScores: number[];
}

export interface PolicyReport {
  name: string;
  kind: PolicyKind;
  meanScore: number;
  gapPct: number;
  violations: number;
  days: PolicyDay[];
  /** Mean of each home's J_i over the days, €. */
  homeScores: number[];
  kpis: KpiResult;
}

export interface OptimumDay {
  day: number;
  /** 'milp': the community optimum J* (up to 10 homes); 'lagrangian': the Lagrangian bound on it (community/dual.ts). */
  method: 'milp' | 'lagrangian';
  status: string;
  /** What the gaps are measured to: J*, or the bound. */
  referenceEur: number;
  mipGap: number;
  solveSec: number;
  /** J(own optima together) − J*, € (NaN with the bound: J* is unknown). */
  valueOfCooperation: number;
  /** Whether the own optima together held the feeder. */
  ownFeasible: boolean;
}

export interface CommunityReport {
  format: 'rescoin-community-report';
  community: string;
  market: string;
  homes: string[];
  seed: number;
  days: number;
  windowHours: number;
  timeLimitSec: number;
  optimum: OptimumDay[];
  /** Mean over the days of the value of cooperation, €. */
  valueOfCooperation: number;
  policies: PolicyReport[];
}

export interface CommunityEvaluateOptions {
  community: Community;
  days: number;
  seed?: number;
  /** The rules to play (asap is always played: the gap needs it). */
  rules: CommunityRule[];
  /** Run folders of `rescoin community train`. */
  runs: string[];
  /** Names of the runs in the report (default: the folder names). */
  runNames?: string[];
  timeLimitSec?: number;
  windowHours?: number;
  /** Writes report.json and report.md here. */
  out?: string;
  /** Called as each trained run's day is played (the rules and the optimum are jobs: onProgress). */
  onDay?: (what: string, day: number) => void;
  /** Worker threads for the jobs (default: the available cores; evaluation/pool.ts). */
  workers?: number;
  /** redis://host:port: the jobs go through BullMQ (rescoin worker processes them). */
  redis?: string;
  /** Jobs done of total, as they finish. */
  onProgress?: (done: number, total: number) => void;
}

/** One day with policies that read the whole community observation (learned ones). */
async function playFull(env: CommunityEnv, policies: readonly Policy[], days: Day[]): Promise<CommunityDaySummary> {
  const ids = env.possibleAgents;
  let { observations, infos } = env.reset({ options: { days } });
  const actions: Record<string, ArrayLike<number>> = {};
  while (env.agents.length > 0) {
    for (let i = 0; i < ids.length; i++) {
      const inf = infos[ids[i]];
      const info: StepInfo = { slot: inf.slot, actionMask: inf.actionMask, violations: inf.violations, home: inf.home };
      actions[ids[i]] = policies[i].act(observations[ids[i]], info);
    }
    const r = env.step(actions);
    observations = r.observations;
    infos = r.infos;
  }
  return env.trajectory().summary!;
}

function dayRow(day: number, seed: number, s: CommunityDaySummary): PolicyDay {
  return {
    day,
    seed,
    score: s.score,
    operatorCost: s.operatorCost,
    feederPeakKw: s.feederPeakKw,
    feederExcessKwh: s.feederExcessKwh,
    violations: s.homes.reduce((a, h) => a + h.violations, 0),
    homeScores: s.homes.map((h) => h.score),
  };
}

interface Played {
  name: string;
  kind: PolicyKind;
  rows: PolicyDay[];
  logs: KpiDay[];
}

/** Σ(J − J*) / Σ(J_asap − J*), in %. */
export function gapPct(scores: readonly number[], asap: readonly number[], optimum: readonly number[]): number {
  let num = 0;
  let den = 0;
  for (let d = 0; d < scores.length; d++) {
    num += scores[d] - optimum[d];
    den += asap[d] - optimum[d];
  }
  return den > 0 ? (100 * num) / den : NaN;
}

export async function evaluateCommunity(o: CommunityEvaluateOptions): Promise<CommunityReport> {
  const c = o.community;
  const seed = o.seed ?? HELD_OUT_SEED;
  const windowHours = o.windowHours ?? 24;
  const timeLimitSec = o.timeLimitSec ?? 60;
  const seeds = Array.from({ length: o.days }, (_, d) => heldOutDay(d, seed));
  const days = seeds.map((s) => drawCommunityDay(c, s));
  const env = new CommunityEnv(c);
  const exact = c.homes.length <= EXACT_HOMES;
  const rules = ['asap' as const, ...o.rules.filter((r) => r !== 'asap')];
  // The rules' days and each day's own optima and J* (or bound) are jobs (community/jobs.ts): on this
  // thread, the pool or Redis; a community made in code, which no other thread can load, stays here.
  const ref = primeCommunity(c);
  const elsewhere = reloadableCommunity(c);
  if (!elsewhere && o.redis) throw new Error(`community ${c.id} was made or changed in code: a rescoin worker could not load it from ${ref.ref}`);
  const playJobs = rules.flatMap((rule) => seeds.map((s) => communityJobs.play({ community: ref, rule, seed: s, drawn: false, flows: true })));
  const refJobs = seeds.map((s) => communityJobs.optimum({ community: ref, seed: s, timeLimitSec, exact }));
  const results = await runJobs<unknown>([...playJobs, ...refJobs], { workers: elsewhere ? o.workers : 1, redis: o.redis, onProgress: o.onProgress });
  const kpiDay = (d: number, flows: FlowsJson[] | null): KpiDay => ({ days: days[d], homes: flows! });
  const played: Played[] = rules.map((rule, k) => {
    const plays = results.slice(k * o.days, (k + 1) * o.days) as PlayedDay[];
    return { name: rule, kind: 'rule', rows: plays.map((p, d) => dayRow(d, seeds[d], p.summary)), logs: plays.map((p, d) => kpiDay(d, p.flows)) };
  });
  for (const [k, path] of o.runs.entries()) {
    const name = o.runNames?.[k] ?? path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;
    const run = await loadCommunityRun(path, c, name);
    const p: Played = { name, kind: 'learned', rows: [], logs: [] };
    try {
      for (let d = 0; d < o.days; d++) {
        o.onDay?.(name, d);
        const s = await playFull(env, run.policies, days[d]);
        p.rows.push(dayRow(d, seeds[d], s));
        p.logs.push(env.trajectory());
      }
    } finally {
      run.dispose();
    }
    played.push(p);
  }
  const own: Played = { name: 'own-optima', kind: 'own-optima', rows: [], logs: [] };
  const opt: Played = { name: 'optimum', kind: 'optimum', rows: [], logs: [] };
  const optimum: OptimumDay[] = [];
  (results.slice(playJobs.length) as OptimumDayResult[]).forEach((r, d) => {
    own.rows.push(dayRow(d, seeds[d], r.own.summary));
    own.logs.push(kpiDay(d, r.own.flows));
    if (r.bound) {
      optimum.push({ day: d, method: 'lagrangian', status: r.bound.allOptimal ? 'bound' : 'bound (home solves unproven)', referenceEur: r.bound.bound, mipGap: NaN, solveSec: r.solveSec, valueOfCooperation: NaN, ownFeasible: r.own.feasible });
      return;
    }
    const m = r.optimum!;
    opt.rows.push(dayRow(d, seeds[d], m.summary));
    opt.logs.push(kpiDay(d, m.flows));
    optimum.push({ day: d, method: 'milp', status: m.status, referenceEur: m.summary.score, mipGap: m.mipGap, solveSec: r.solveSec, valueOfCooperation: valueOfCooperation(r.own.score, m.summary.score), ownFeasible: r.own.feasible });
  });
  played.push(own);
  if (exact) played.push(opt);
  const jStar = optimum.map((x) => x.referenceEur);
  const asap = played[0].rows.map((r) => r.score);
  const policies: PolicyReport[] = played.map((p) => {
    const scores = p.rows.map((r) => r.score);
    const n = c.homes.length;
    return {
      name: p.name,
      kind: p.kind,
      meanScore: scores.reduce((a, b) => a + b, 0) / scores.length,
      gapPct: gapPct(scores, asap, jStar),
      violations: p.rows.reduce((a, r) => a + r.violations, 0),
      days: p.rows,
      homeScores: Array.from({ length: n }, (_, i) => p.rows.reduce((a, r) => a + r.homeScores[i], 0) / p.rows.length),
      kpis: communityKpis(c, p.logs, windowHours),
    };
  });
  const report: CommunityReport = {
    format: 'rescoin-community-report',
    community: c.origin ?? c.id,
    market: c.market,
    homes: c.homes.map((h) => h.id),
    seed,
    days: o.days,
    windowHours,
    timeLimitSec,
    optimum,
    valueOfCooperation: exact ? optimum.reduce((a, x) => a + x.valueOfCooperation, 0) / o.days : NaN,
    policies,
  };
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, 'report.json'), `${JSON.stringify(report, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    writeFileSync(join(o.out, 'report.md'), formatReport(report, 'md'));
  }
  return report;
}
