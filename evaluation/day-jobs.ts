import { createHash } from 'node:crypto';
import { drawDay, loadScenario, makeEnv, playDay, SLOTS, type DaySummary, type HomeEnv, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy, mpcPolicy, prechargePolicy, solveDay } from '../baseline/index.js';
import { scenarioHash } from '../training/train.js';
import { baselineJson } from './baseline.js';
import { cachedBound } from './bound-cache.js';
import type { Job, JobHandler } from './jobs.js';
import type { ReportBound } from './report.js';

/**
 * The per-day work of `rescoin evaluate`, `rescoin baseline --days` and the bound as jobs
 * (evaluation/jobs.ts): JSON in, JSON out, each a pure function of its input, so that a pool thread
 * or a queue worker returns what this thread would. A thread keeps what it loaded (the scenario, its
 * environment, the policies: HiGHS and tfjs instances come with them) for the next job: the policies
 * hold no state from one day to the next (each is reset at the start of a day), so a policy that
 * played day 0 here plays day 1 as a fresh one would.
 */

/** This module as a job names it (relative to the compiled root). */
const MODULE = 'evaluation/day-jobs.js';

/** A scenario as a job names it: a built-in id or a user's file (Scenario.origin), checked by content hash. */
export interface ScenarioRef {
  ref: string;
  hash: string;
}

export const scenarioRef = (s: Scenario): ScenarioRef => ({ ref: s.origin ?? s.id, hash: scenarioHash(s) });

interface Loaded {
  scenario: Scenario;
  env: HomeEnv;
  policies: Map<string, Policy>;
}

/** Per thread: what each scenario (by ref and hash) has loaded. */
const cache = new Map<string, Loaded>();
const key = (r: ScenarioRef) => `${r.ref}#${r.hash}`;

/**
 * Put an in-memory scenario in this thread's cache, so that jobs run in this thread find it even if
 * its ref no longer loads to the same content (a scenario built or changed in code).
 */
export function primeScenario(s: Scenario): ScenarioRef {
  const r = scenarioRef(s);
  if (!cache.has(key(r))) cache.set(key(r), { scenario: s, env: makeEnv(s), policies: new Map() });
  return r;
}

/** Whether another thread or process loads the same scenario from its ref (else only this thread can run its jobs). */
export function reloadable(s: Scenario): boolean {
  try {
    return scenarioHash(loadScenario(scenarioRef(s).ref)) === scenarioHash(s);
  } catch {
    return false;
  }
}

function loaded(r: ScenarioRef): Loaded {
  const hit = cache.get(key(r));
  if (hit) return hit;
  const s = loadScenario(r.ref);
  const h = scenarioHash(s);
  if (h !== r.hash) throw new Error(`scenario ${r.ref} has changed since the job was made: hash ${h}, expected ${r.hash}`);
  const l = { scenario: s, env: makeEnv(s), policies: new Map<string, Policy>() };
  cache.set(key(r), l);
  return l;
}

/** A played policy: a baseline's name, or `run` (a run folder, played greedily under its folder's name). */
export interface PolicySpec {
  name: string;
  run?: string;
  /** milp: the solve's time limit, s. */
  timeLimitSec?: number;
  /** mpc-scenarios: futures per re-solve. */
  mpcSamples?: number;
}

async function makePolicy(s: Scenario, p: PolicySpec): Promise<Policy> {
  if (p.run !== undefined) {
    const { loadTrainedPolicy } = await import('../training/train.js');
    return (await loadTrainedPolicy(p.run, s)).policy;
  }
  switch (p.name) {
    case 'asap':
      return asapPolicy();
    case 'cheapest':
      return cheapestPolicy(s);
    case 'precharge':
      return prechargePolicy(s);
    case 'mpc':
      return mpcPolicy(s, { forecast: 'expected' });
    case 'mpc-scenarios':
      return mpcPolicy(s, { forecast: 'scenarios', samples: p.mpcSamples ?? 4 });
    case 'milp':
      return milpPolicy(s, { timeLimitSec: p.timeLimitSec });
  }
  throw new Error(`unknown policy ${p.name}`);
}

async function policyOf(l: Loaded, p: PolicySpec): Promise<Policy> {
  const k = JSON.stringify(p);
  let policy = l.policies.get(k);
  if (!policy) l.policies.set(k, (policy = await makePolicy(l.scenario, p)));
  return policy;
}

export interface PlayDayInput {
  scenario: ScenarioRef;
  policy: PolicySpec;
  daySeed: number;
  /** Also return the day's series (the report's schedule plot draws day 0). */
  series?: boolean;
}

/** The series of a played day that schedules-day0.svg draws. */
export interface DaySeries {
  baseKw: number[];
  pvKw: number[];
  importKw: number[];
  evKw: number[];
  /** Per appliance, kW per slot. */
  applianceKw: number[][];
}

export interface PlayDayResult {
  summary: DaySummary;
  /** ms of each act() call; the MILP's one entry is its solve over the slots (it decides the day in one solve). */
  decisionMs: number[];
  /** What the smart meter reports (a RESCoin payout is minted for it). */
  meter: { importKw: number[]; exportKw: number[]; pvKw: number[] };
  series: DaySeries | null;
  /** The MILP's solve, for policy milp. */
  milp: { status: string; score: number; solveMs: number; mipGap: number } | null;
}

/** One policy played on one day. */
export const playPolicyDay: JobHandler<PlayDayInput, PlayDayResult> = async (input) => {
  const l = loaded(input.scenario);
  const policy = await policyOf(l, input.policy);
  const ms: number[] = [];
  const isMilp = 'last' in policy;
  const { summary, log } = await playDay(l.env, isMilp ? policy : timed(policy, ms), drawDay(l.scenario, input.daySeed));
  const last = isMilp ? (policy as ReturnType<typeof milpPolicy>).last! : null;
  if (last) ms.push(last.solveMs / SLOTS);
  const series = input.series
    ? {
        baseKw: Array.from(log.day.baseKw),
        pvKw: Array.from(log.day.pvKw),
        importKw: Array.from(log.importKw),
        evKw: Array.from(log.evKw),
        applianceKw: l.scenario.appliances.map((_, i) => Array.from(log.applianceKw.subarray(i * SLOTS, (i + 1) * SLOTS))),
      }
    : null;
  return {
    summary: { ...summary },
    decisionMs: ms,
    meter: { importKw: Array.from(log.importKw), exportKw: Array.from(log.exportKw), pvKw: Array.from(log.day.pvKw) },
    series,
    milp: last ? { status: last.status, score: last.score, solveMs: last.solveMs, mipGap: last.mipGap } : null,
  };
};

/** The policy with each act() call timed into `ms` (performance.now). */
function timed(p: Policy, ms: number[]): Policy {
  return {
    name: p.name,
    foresight: p.foresight,
    reset: p.reset ? (info, day) => p.reset!(info, day) : undefined,
    act(observation, info) {
      const t0 = performance.now();
      const a = p.act(observation, info);
      ms.push(performance.now() - t0);
      return a;
    },
  };
}

export interface MilpDayInput {
  scenario: ScenarioRef;
  daySeed: number;
  timeLimitSec: number;
}

/** One day's MILP optimum, as `rescoin baseline --json` prints it. */
export const milpDay: JobHandler<MilpDayInput, ReturnType<typeof baselineJson>> = async (input) => {
  const { scenario } = loaded(input.scenario);
  return baselineJson(await solveDay(scenario, drawDay(scenario, input.daySeed), { timeLimitSec: input.timeLimitSec }));
};

export interface BoundDayInput {
  scenario: ScenarioRef;
  daySeed: number;
  /** The cache folder (absolute: a worker's current directory may differ). */
  dir: string;
  samples: number;
  seed: number;
  timeLimitSec: number;
}

/** One day's non-anticipative bound, from the cache or solved into it. */
export const boundDay: JobHandler<BoundDayInput, ReportBound['days'][number]> = async (input) => {
  const { scenario } = loaded(input.scenario);
  const o = { dir: input.dir, scenarioHash: input.scenario.hash, samples: input.samples, seed: input.seed, timeLimitSec: input.timeLimitSec };
  const b = await cachedBound(scenario, drawDay(scenario, input.daySeed), o);
  return { score: b.bound, status: b.status as 'optimal' | 'time-limit', mipGap: b.mipGap, solveMs: b.solveMs, samples: b.samples, sampled: b.sampled };
};

/**
 * The jobs of this module. Their ids are deterministic and name what they compute: the kind, the
 * policy, the day seed and a digest of the whole input, so that a queue's result store never hands
 * back a result computed from other inputs (another time limit, another scenario).
 */
const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 12);
const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');

export const dayJobs = {
  play: (input: PlayDayInput): Job<PlayDayInput> => ({ id: `play-${safe(input.policy.name)}-${input.daySeed}-${digest(input)}`, module: MODULE, fn: 'playPolicyDay', input }),
  milp: (input: MilpDayInput): Job<MilpDayInput> => ({ id: `milp-${input.daySeed}-${digest(input)}`, module: MODULE, fn: 'milpDay', input }),
  bound: (input: BoundDayInput): Job<BoundDayInput> => ({ id: `bound-${input.daySeed}-${digest(input)}`, module: MODULE, fn: 'boundDay', input }),
};
