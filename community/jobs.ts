import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { dataDir } from '../env/index.js';
import type { Job, JobHandler } from '../evaluation/jobs.js';
import { drawCommunityDay, loadCommunity, type Community } from './community.js';
import { lagrangianBound } from './dual.js';
import { CommunityEnv } from './env.js';
import type { HomeFlows } from './kpi.js';
import { ownOptima, scheduleFlows, solveCommunityDay } from './milp.js';
import { communityPolicies, playCommunityDay, type CommunityRule } from './play.js';
import { communityHash } from './run.js';
import { scoreCommunityDay, type CommunityDaySummary } from './score.js';

/**
 * The per-day work of `rescoin community baseline`, `simulate` and `evaluate` as jobs
 * (evaluation/jobs.ts): JSON in, JSON out, each a pure function of its input, so that a pool thread
 * or a `rescoin worker` returns what this thread would (docs/scale.md). A job names its community by
 * id or absolute path and content hash, never carries the parsed object: a thread loads it once and
 * keeps it for its next jobs.
 */

/** This module as a job names it (relative to the compiled root). */
const MODULE = 'community/jobs.js';

/** A community as a job names it: a built-in id or a file's absolute path, checked by content hash. */
export interface CommunityRef {
  ref: string;
  /** The community's id (lower-case letters, digits, dashes): the jobs' ids start with it. */
  id: string;
  hash: string;
}

/**
 * The ref of a loaded community. A built-in one travels by id, so that a worker on another machine
 * (its own data/) finds it; a user's file by its absolute path (a worker's current folder may differ).
 */
export function communityRef(c: Community): CommunityRef {
  const builtIn = c.origin === join(dataDir(), 'communities', `${c.id}.json`);
  return { ref: builtIn || c.origin === null ? c.id : c.origin, id: c.id, hash: communityHash(c) };
}

interface Loaded {
  community: Community;
  /** The env the rules play in, made at the first play (reset at the start of each day). */
  env?: CommunityEnv;
}

/** Per thread: the communities loaded, by ref and hash. */
const cache = new Map<string, Loaded>();
const key = (r: CommunityRef) => `${r.ref}#${r.hash}`;

/**
 * Put a loaded community in this thread's cache, so that jobs run here do not load it again (and a
 * community made in code, which no other thread could load, is found here).
 */
export function primeCommunity(c: Community): CommunityRef {
  const r = communityRef(c);
  if (!cache.has(key(r))) cache.set(key(r), { community: c });
  return r;
}

/** Whether another thread or process loads the same community from its ref (else only this thread can run its jobs). */
export function reloadableCommunity(c: Community): boolean {
  try {
    return communityHash(loadCommunity(communityRef(c).ref)) === communityHash(c);
  } catch {
    return false;
  }
}

function loadedEntry(r: CommunityRef): Loaded {
  const hit = cache.get(key(r));
  if (hit) return hit;
  const c = loadCommunity(r.ref);
  const h = communityHash(c);
  if (h !== r.hash) throw new Error(`community ${r.ref} has changed since the job was made: hash ${h}, expected ${r.hash}`);
  const l = { community: c };
  cache.set(key(r), l);
  return l;
}

const loaded = (r: CommunityRef): Community => loadedEntry(r).community;

export interface BaselineDayInput {
  community: CommunityRef;
  /** The day's number d (printed), and its seed daySeed(K, d) (drawn). */
  day: number;
  seed: number;
  timeLimitSec: number;
  /** The Lagrangian bound instead of the exact MILP (always, over EXACT_HOMES homes: the caller decides). */
  lagrangian: boolean;
  /** Subgradient iterations of the Lagrangian bound. */
  iterations: number;
}

/** A row of `rescoin community baseline --json`: the exact MILP's day. solveSec is a timing field. */
export interface MilpDayRow {
  day: number;
  seed: number;
  method: 'milp';
  status: string;
  score: number;
  dualBound: number;
  mipGap: number;
  solveSec: number;
  feederPeakKw: number;
  ownScore: number;
  ownFeasible: boolean;
  valueOfCooperation: number;
}

/** A row of `rescoin community baseline --json` with the Lagrangian bound. */
export interface LagrangianDayRow {
  day: number;
  seed: number;
  method: 'lagrangian';
  bound: number;
  iterations: number;
  allOptimal: boolean;
  ownScore: number;
  ownFeasible: boolean;
  gapPct: number;
  solveSec: number;
}

export type BaselineDayRow = MilpDayRow | LagrangianDayRow;

/** One community day's cooperative optimum J* and the own optima played together (or the Lagrangian bound). */
export const communityBaselineDay: JobHandler<BaselineDayInput, BaselineDayRow> = async (input) => {
  const c = loaded(input.community);
  const days = drawCommunityDay(c, input.seed);
  const t0 = performance.now();
  if (input.lagrangian) {
    const b = await lagrangianBound(c, days, { timeLimitSec: input.timeLimitSec, iterations: input.iterations });
    const gapPct = (100 * (b.ownScore - b.bound)) / Math.abs(b.bound);
    return { day: input.day, seed: input.seed, method: 'lagrangian', bound: b.bound, iterations: b.iterations, allOptimal: b.allOptimal, ownScore: b.ownScore, ownFeasible: b.ownFeasible, gapPct, solveSec: (performance.now() - t0) / 1000 };
  }
  const m = await solveCommunityDay(c, days, { timeLimitSec: input.timeLimitSec });
  const solveSec = (performance.now() - t0) / 1000;
  const s = scoreCommunityDay(c, days, scheduleFlows(m.homes.map((h) => h.schedule)));
  const own = await ownOptima(c, days, { timeLimitSec: input.timeLimitSec });
  return {
    day: input.day,
    seed: input.seed,
    method: 'milp',
    status: m.status,
    score: m.score,
    dualBound: m.dualBound,
    mipGap: m.mipGap,
    solveSec,
    feederPeakKw: s.feederPeakKw,
    ownScore: own.score,
    ownFeasible: own.feasible,
    valueOfCooperation: own.score - m.score,
  };
};

/** A home's flows as a job returns them (plain arrays: a result crosses threads and Redis as JSON). */
export interface FlowsJson {
  importKw: number[];
  exportKw: number[];
  loadKw: number[];
}

const flowsOf = (homes: readonly HomeFlows[]): FlowsJson[] => homes.map((h) => ({ importKw: Array.from(h.importKw), exportKw: Array.from(h.exportKw), loadKw: Array.from(h.loadKw) }));

/** A community day played or solved: its score and each home's flows (the KPIs read them), when asked for. */
export interface PlayedDay {
  summary: CommunityDaySummary;
  flows: FlowsJson[] | null;
}

export interface PlayDayInput {
  community: CommunityRef;
  rule: CommunityRule;
  seed: number;
  /** true: the env draws the day from the seed (simulate); false: it is given the days drawn from it (evaluate: summary.seed is −1). */
  drawn: boolean;
  /** Also return each home's flows. */
  flows: boolean;
}

/** One community day played with a rule (every home its rule, fitted to its cap). */
export const communityPlayDay: JobHandler<PlayDayInput, PlayedDay> = async (input) => {
  const l = loadedEntry(input.community);
  const c = l.community;
  l.env ??= new CommunityEnv(c);
  const r = await playCommunityDay(l.env, communityPolicies(c, input.rule), input.drawn ? input.seed : drawCommunityDay(c, input.seed));
  return { summary: r.summary, flows: input.flows ? flowsOf(r.log.homes) : null };
};

export interface OptimumDayInput {
  community: CommunityRef;
  seed: number;
  timeLimitSec: number;
  /** The exact community MILP; else the Lagrangian bound (over EXACT_HOMES homes). */
  exact: boolean;
}

export interface OptimumDayResult {
  /** The homes' own optima played together, and whether they held the feeder. */
  own: PlayedDay & { score: number; feasible: boolean };
  /** The community MILP's day (exact), scored with the day seed. */
  optimum: (PlayedDay & { status: string; mipGap: number }) | null;
  /** The Lagrangian bound (not exact). */
  bound: { bound: number; allOptimal: boolean } | null;
  /** Seconds of the MILP or of the bound (a timing field). */
  solveSec: number;
}

/** `rescoin community evaluate`'s reference of a held-out day: the own optima together, and J* or the bound on it. */
export const communityOptimumDay: JobHandler<OptimumDayInput, OptimumDayResult> = async (input) => {
  const c = loaded(input.community);
  const days = drawCommunityDay(c, input.seed);
  const timeLimitSec = input.timeLimitSec;
  const o = await ownOptima(c, days, { timeLimitSec });
  const own = { summary: o.summary, flows: flowsOf(o.homes.map((h) => h.schedule)), score: o.score, feasible: o.feasible };
  const t0 = performance.now();
  if (!input.exact) {
    const b = await lagrangianBound(c, days, { timeLimitSec });
    return { own, optimum: null, bound: { bound: b.bound, allOptimal: b.allOptimal }, solveSec: (performance.now() - t0) / 1000 };
  }
  const m = await solveCommunityDay(c, days, { timeLimitSec });
  const solveSec = (performance.now() - t0) / 1000;
  const schedules = m.homes.map((h) => h.schedule);
  const summary = scoreCommunityDay(c, days, { ...scheduleFlows(schedules), seed: input.seed });
  return { own, optimum: { summary, flows: flowsOf(schedules), status: m.status, mipGap: m.mipGap }, bound: null, solveSec };
};

/**
 * The jobs of this module. Their ids are deterministic and name what they compute: the community,
 * the kind, the day seed and a digest of the whole input (community hash, time limit, method), so
 * that a queue's result store never hands back a result computed from other inputs.
 */
const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 12);

export const communityJobs = {
  baseline: (input: BaselineDayInput): Job<BaselineDayInput> => ({
    id: `${input.community.id}-baseline-${input.seed}-${digest(input)}`,
    module: MODULE,
    fn: 'communityBaselineDay',
    input,
  }),
  play: (input: PlayDayInput): Job<PlayDayInput> => ({ id: `${input.community.id}-play-${input.rule}-${input.seed}-${digest(input)}`, module: MODULE, fn: 'communityPlayDay', input }),
  optimum: (input: OptimumDayInput): Job<OptimumDayInput> => ({ id: `${input.community.id}-optimum-${input.seed}-${digest(input)}`, module: MODULE, fn: 'communityOptimumDay', input }),
};
