import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { drawDay, heldOutDay, makeEnv, playDay, SLOTS, trainingDay, type DayLog, type DaySummary, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy, mpcPolicy, prechargePolicy, type MilpResult } from '../baseline/index.js';
import { loadTrainedPolicy, scenarioHash, type RunConfig } from '../training/train.js';
import { gapPct, policyStats, type PolicyStats } from './stats.js';
import { REPORT_FORMAT, REPORT_VERSION, type EvaluationReport, type ReportBound } from './report.js';
import { cachedBound, DEFAULT_BOUND_CACHE } from './bound-cache.js';
import { writeReportFiles } from './render.js';
export { formatStats } from './render.js';

export type { DayFigures, PolicyStats } from './stats.js';
export { policyStats } from './stats.js';

/**
 * `rescoin evaluate`: asap, cheapest, the tuned pre-charge rule, both MPC modes, each run's greedy policy and the MILP optimum
 * play the same held-out days; with `bound`, the non-anticipative bound of each day too (not a
 * played policy: baseline/bound.ts). The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days
 * (DESIGN.md), its gap to the bound the same with the bound in place of J*. Every act() call is
 * timed, for the median compute per decision. The report folder is drawn from one report.json
 * object (report.ts, render.ts).
 */

export interface EvaluateOptions {
  scenario: Scenario;
  runs: string[];
  days: number;
  seed: number;
  out: string;
  /** Time limit of the MILP's solve of a day, and of the bound's. */
  timeLimitSec: number;
  /** Add the non-anticipative bound of each day (default false: it is slow, minutes a day at worst). */
  bound?: boolean;
  /** Trips drawn per day for the bound (default 8). */
  boundSamples?: number;
  /** Seed of the bound's trip draws (default 1). */
  boundSeed?: number;
  /** The bound's cache folder (default .rescoin-cache/bound under the current directory). */
  cacheDir?: string;
  /** Play the two-stage MPC (mpc-scenarios) too: default with `bound`, else false (it takes about 30 s a day). */
  mpcScenarios?: boolean;
  /** Futures per re-solve of mpc-scenarios (default 4). */
  mpcSamples?: number;
  /** Called after each day (for a progress bar). */
  onDay?: (done: number, total: number) => void;
}

/** What the smart meter reports of a played day: what a RESCoin payout is minted for (ledger/payouts.ts). */
export interface MeterDay {
  importKw: Float64Array;
  exportKw: Float64Array;
  pvKw: Float64Array;
}

export interface EvaluateResult {
  /** The played policies' figures (the bound is in `bound`). */
  policies: PolicyStats[];
  /** The bound's figures and days when evaluated with `bound`, else null. */
  bound: ReportBound | null;
  days: { policy: string; day: number; seed: number; summary: DaySummary }[];
  /** Days the MILP could not prove optimal within its time limit (their J* is the best found). */
  unprovenDays: number[];
  reportDir: string;
  /** What report.json holds. */
  report: EvaluationReport;
  /** meter[k] is the meter data of days[k] (`rescoin evaluate` writes payouts.json from them and mints them). */
  meter: MeterDay[];
}

/** A run folder as a greedy policy named after the folder, with its training days (never evaluated). */
export async function loadRunPolicy(dir: string, scenario: Scenario): Promise<{ policy: Policy; trainingSeeds: Set<number>; run: RunConfig }> {
  const { policy, run } = await loadTrainedPolicy(dir, scenario);
  const trainingSeeds = new Set<number>();
  for (let e = 0; e < run.episodes; e++) trainingSeeds.add(trainingDay(run.seed, e));
  return { policy, trainingSeeds, run };
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const s = o.scenario;
  const loaded = await Promise.all(o.runs.map((r) => loadRunPolicy(r, s)));
  const milp = milpPolicy(s, { timeLimitSec: o.timeLimitSec });
  const mpc = [mpcPolicy(s, { forecast: 'expected' })];
  if (o.mpcScenarios ?? o.bound ?? false) mpc.push(mpcPolicy(s, { forecast: 'scenarios', samples: o.mpcSamples ?? 4 }));
  const played: Policy[] = [asapPolicy(), cheapestPolicy(s), prechargePolicy(s), ...mpc, ...loaded.map((l) => l.policy), milp];
  const names = played.map((p) => p.name);
  if (new Set([...names, 'bound']).size !== names.length + 1) throw new Error(`two policies share a name (${names.join(', ')}, bound): give the runs different folder names`);
  const decisionMs = new Map<string, number[]>(names.map((n) => [n, []]));
  // The MILP's act() only reads its schedule: its time is its solve's, taken below.
  const policies = played.map((p) => (p === milp ? p : timed(p, decisionMs.get(p.name)!)));
  const hash = scenarioHash(s);
  const boundOpts = { dir: o.cacheDir ?? resolve(DEFAULT_BOUND_CACHE), scenarioHash: hash, samples: o.boundSamples ?? 8, seed: o.boundSeed ?? 1, timeLimitSec: o.timeLimitSec };
  const bounds: ReportBound['days'] = [];
  const env = makeEnv(s);
  const rows: EvaluateResult['days'] = [];
  const meter: MeterDay[] = [];
  const unprovenDays: number[] = [];
  const firstDayLogs = new Map<string, DayLog>();
  for (let d = 0; d < o.days; d++) {
    const seed = heldOutDay(d, o.seed);
    loaded.forEach((l, k) => {
      if (l.trainingSeeds.has(seed)) throw new Error(`evaluation day ${d} (seed ${seed}) is one of ${o.runs[k]}'s training days: choose another --seed`);
    });
    const day = drawDay(s, seed);
    for (const p of policies) {
      const played = await playDay(env, p, day);
      rows.push({ policy: p.name, day: d, seed, summary: played.summary });
      meter.push({ importKw: Float64Array.from(played.log.importKw), exportKw: Float64Array.from(played.log.exportKw), pvKw: Float64Array.from(played.log.day.pvKw) });
      if (d === 0) firstDayLogs.set(p.name, structuredClone(played.log));
    }
    const last: MilpResult = milp.last!;
    // The MILP decides the whole day in one solve: its time per decision is that solve over the slots.
    decisionMs.get('milp')!.push(last.solveMs / SLOTS);
    if (last.status !== 'optimal') unprovenDays.push(d);
    if (o.bound) {
      const b = await cachedBound(s, day, boundOpts);
      bounds.push({ score: b.bound, status: b.status as 'optimal' | 'time-limit', mipGap: b.mipGap, solveMs: b.solveMs, samples: b.samples, sampled: b.sampled });
    }
    // No policy may beat a proven optimum: that would be a bug in the env, the MILP or the score.
    const best = rows.filter((r) => r.day === d && r.policy !== 'milp').reduce((m, r) => Math.min(m, r.summary.score), Infinity);
    if (last.status === 'optimal' && best < last.score - 1e-6)
      throw new Error(`day ${d}: a policy scored ${best} below the proven optimum ${last.score}; please report this bug`);
    o.onDay?.(d + 1, o.days);
    // Let timers run (the progress bar draws on one); the day's work is synchronous.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const lb = o.bound ? bounds.map((b) => b.score) : undefined;
  const stats = policyStats(names, rows, { bound: lb, decisionMs });
  const bound = lb ? boundEntry(boundOpts, bounds, rows) : null;
  mkdirSync(o.out, { recursive: true });
  const report = buildReport(o, loaded.map((l) => l.run), stats, bound, rows, unprovenDays, firstDayLogs);
  await writeReportFiles(o.out, report);
  return { policies: stats, bound, days: rows, unprovenDays, reportDir: o.out, report, meter };
}

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

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The bound as report.json's policies hold it: its J of a day is the day's bound, its gap to itself 0 %. */
function boundEntry(o: { samples: number; seed: number; timeLimitSec: number }, days: ReportBound['days'], rows: EvaluateResult['days']): ReportBound {
  const lb = days.map((b) => b.score);
  const of = (name: string) => rows.filter((r) => r.policy === name).map((r) => r.summary.score);
  const m = mean(lb);
  const stats = { meanScore: m, sdScore: Math.sqrt(mean(lb.map((x) => (x - m) ** 2))), gapPct: gapPct(lb, of('milp'), of('asap')), gapToBoundPct: gapPct(lb, lb, of('asap')) };
  return { name: 'bound', kind: 'bound', samples: o.samples, seed: o.seed, timeLimitSec: o.timeLimitSec, stats, days };
}

const KIND: Record<string, 'baseline' | 'mpc' | 'run' | 'optimum'> = { asap: 'baseline', cheapest: 'baseline', precharge: 'baseline', mpc: 'mpc', 'mpc-scenarios': 'mpc', milp: 'optimum' };

const dayFigures = ({ score, cost, importKwh, exportKwh, peakKw, par, rescoin, violations }: DaySummary) => ({ score, cost, importKwh, exportKwh, peakKw, par, rescoin, violations });

/** The evaluation as report.json holds it (report.ts): everything the report folder shows. */
function buildReport(o: EvaluateOptions, runs: RunConfig[], stats: PolicyStats[], bound: ReportBound | null, rows: EvaluateResult['days'], unprovenDays: number[], logs: Map<string, DayLog>): EvaluationReport {
  const s = o.scenario;
  const daySeeds = Array.from({ length: o.days }, (_, d) => heldOutDay(d, o.seed));
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    scenario: { id: s.id, name: s.name, hash: scenarioHash(s) },
    days: { seed: o.seed, count: o.days, daySeeds },
    milp: { timeLimitSec: o.timeLimitSec, unprovenDays },
    runs: o.runs.map((dir, k) => ({ dir, path: resolve(dir), policy: basename(dir), algorithm: runs[k].algorithm, seed: runs[k].seed, episodes: runs[k].episodes })),
    policies: withBound(
      stats.map(({ name, ...figures }) => ({ name, kind: KIND[name] ?? 'run', stats: { ...figures, decisionMs: figures.decisionMs ?? 0 }, days: rows.filter((r) => r.policy === name).map((r) => dayFigures(r.summary)) })),
      bound,
    ),
    schedule: daySchedule(s, daySeeds[0], logs),
  };
}

/** The played policies with the bound's row just before the optimum's (the bracket: bound, then J*). */
function withBound(played: EvaluationReport['policies'], bound: ReportBound | null): EvaluationReport['policies'] {
  if (!bound) return played;
  const at = played.findIndex((p) => p.kind === 'optimum');
  return [...played.slice(0, at), bound, ...played.slice(at)];
}

/** Day 0 under each policy: the series schedules-day0.svg draws. */
function daySchedule(s: Scenario, seed: number | undefined, logs: Map<string, DayLog>): EvaluationReport['schedule'] {
  const first = logs.values().next().value;
  if (seed === undefined || !first) return null;
  return {
    day: 0,
    seed,
    priceKwh: Array.from(s.priceKwh),
    baseKw: Array.from(first.day.baseKw),
    pvKw: Array.from(first.day.pvKw),
    appliances: s.appliances.map((a) => a.name),
    ev: s.ev ? { v2h: s.ev.v2h } : null,
    policies: [...logs].map(([name, log]) => ({
      name,
      importKw: Array.from(log.importKw),
      evKw: Array.from(log.evKw),
      applianceKw: s.appliances.map((_, i) => Array.from(log.applianceKw.subarray(i * SLOTS, (i + 1) * SLOTS))),
    })),
  };
}
