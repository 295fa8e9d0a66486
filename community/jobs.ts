import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { dataDir } from '../env/index.js';
import type { Job, JobHandler } from '../evaluation/jobs.js';
import { drawCommunityDay, loadCommunity, type Community } from './community.js';
import { lagrangianBound } from './dual.js';
import { ownOptima, scheduleFlows, solveCommunityDay } from './milp.js';
import { communityHash } from './run.js';
import { scoreCommunityDay } from './score.js';

/**
 * The per-day work of `rescoin community baseline` as jobs (evaluation/jobs.ts): JSON in, JSON
 * out, each a pure function of its input, so that a pool thread or a `rescoin worker` returns what
 * this thread would (docs/scale.md). A job names its community by id or absolute path and content
 * hash, never carries the parsed object: a thread loads it once and keeps it for its next jobs.
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

/** Per thread: the communities loaded, by ref and hash. */
const cache = new Map<string, Community>();
const key = (r: CommunityRef) => `${r.ref}#${r.hash}`;

/** Put a loaded community in this thread's cache, so that jobs run here do not load it again. */
export function primeCommunity(c: Community): CommunityRef {
  const r = communityRef(c);
  if (!cache.has(key(r))) cache.set(key(r), c);
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

function loaded(r: CommunityRef): Community {
  const hit = cache.get(key(r));
  if (hit) return hit;
  const c = loadCommunity(r.ref);
  const h = communityHash(c);
  if (h !== r.hash) throw new Error(`community ${r.ref} has changed since the job was made: hash ${h}, expected ${r.hash}`);
  cache.set(key(r), c);
  return c;
}

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
};
