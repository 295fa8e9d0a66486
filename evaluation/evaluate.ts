import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { heldOutDay, trainingDay, type DaySummary, type Policy, type Scenario } from '../env/index.js';
import { loadTrainedPolicy, scenarioHash, type RunConfig } from '../training/train.js';
import { gapPct, policyStats, type PolicyStats } from './stats.js';
import { REPORT_FORMAT, REPORT_VERSION, type EvaluationReport, type ReportBound } from './report.js';
import { DEFAULT_BOUND_CACHE } from './bound-cache.js';
import { dayJobs, primeScenario, reloadable, type DaySeries, type PlayDayResult, type PolicySpec } from './day-jobs.js';
import type { Job } from './jobs.js';
import { runJobs } from './pool.js';
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
 * object (report.ts, render.ts). Each policy's day and each day's bound is a job (day-jobs.ts) run by
 * runJobs (pool.ts: threads, or Redis), whose results come back in the order of the list: the report
 * is the same for any number of workers.
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
  /** Called as the days' work comes in: days done of all (for a progress bar). */
  onDay?: (done: number, total: number) => void;
  /** Worker threads (default: the available cores); the report is the same for any number. */
  workers?: number;
  /** redis://host:port: run the days' jobs on BullMQ (`rescoin worker`) instead. */
  redis?: string;
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
  const specs: PolicySpec[] = [
    { name: 'asap' },
    { name: 'cheapest' },
    { name: 'precharge' },
    { name: 'mpc' },
    ...((o.mpcScenarios ?? o.bound ?? false) ? [{ name: 'mpc-scenarios', mpcSamples: o.mpcSamples ?? 4 }] : []),
    ...loaded.map((l, k) => ({ name: l.policy.name, run: resolve(o.runs[k]) })),
    { name: 'milp', timeLimitSec: o.timeLimitSec },
  ];
  const names = specs.map((p) => p.name);
  if (new Set([...names, 'bound']).size !== names.length + 1) throw new Error(`two policies share a name (${names.join(', ')}, bound): give the runs different folder names`);
  const daySeeds = Array.from({ length: o.days }, (_, d) => heldOutDay(d, o.seed));
  daySeeds.forEach((seed, d) =>
    loaded.forEach((l, k) => {
      if (l.trainingSeeds.has(seed)) throw new Error(`evaluation day ${d} (seed ${seed}) is one of ${o.runs[k]}'s training days: choose another --seed`);
    }),
  );
  // A scenario made in code cannot be loaded by another thread: its jobs run in this one.
  const scenario = primeScenario(s);
  const portable = reloadable(s);
  if (o.redis && !portable) throw new Error(`scenario ${s.id} was changed in code: a rescoin worker could not load it (save it as a file and pass its path)`);
  const boundOpts = { dir: resolve(o.cacheDir ?? DEFAULT_BOUND_CACHE), samples: o.boundSamples ?? 8, seed: o.boundSeed ?? 1, timeLimitSec: o.timeLimitSec };
  const plays = daySeeds.flatMap((daySeed, d) => specs.map((policy) => dayJobs.play({ scenario, policy, daySeed, series: d === 0 })));
  const boundJobs = o.bound ? daySeeds.map((daySeed) => dayJobs.bound({ scenario, daySeed, ...boundOpts })) : [];
  const jobs: Job[] = [...plays, ...boundJobs];
  const results = await runJobs<PlayDayResult | ReportBound['days'][number]>(jobs, {
    workers: portable ? o.workers : 1,
    redis: o.redis,
    onProgress: (done, total) => o.onDay?.(Math.floor((done * o.days) / total), o.days),
  });
  const played = results.slice(0, plays.length) as PlayDayResult[];
  const bounds = results.slice(plays.length) as ReportBound['days'];
  const decisionMs = new Map<string, number[]>(names.map((n) => [n, []]));
  const rows: EvaluateResult['days'] = [];
  const meter: MeterDay[] = [];
  const unprovenDays: number[] = [];
  const firstDay = new Map<string, DaySeries>();
  played.forEach((r, k) => {
    const d = Math.floor(k / specs.length);
    const name = names[k % specs.length];
    rows.push({ policy: name, day: d, seed: daySeeds[d], summary: r.summary });
    meter.push({ importKw: Float64Array.from(r.meter.importKw), exportKw: Float64Array.from(r.meter.exportKw), pvKw: Float64Array.from(r.meter.pvKw) });
    decisionMs.get(name)!.push(...r.decisionMs);
    if (r.series) firstDay.set(name, r.series);
    if (r.milp && r.milp.status !== 'optimal') unprovenDays.push(d);
  });
  daySeeds.forEach((_, d) => checkOptimum(d, played.slice(d * specs.length, (d + 1) * specs.length)));
  const lb = o.bound ? bounds.map((b) => b.score) : undefined;
  const stats = policyStats(names, rows, { bound: lb, decisionMs });
  const bound = lb ? boundEntry(boundOpts, bounds, rows) : null;
  mkdirSync(o.out, { recursive: true });
  const report = buildReport(o, loaded.map((l) => l.run), stats, bound, rows, unprovenDays, firstDay);
  await writeReportFiles(o.out, report);
  return { policies: stats, bound, days: rows, unprovenDays, reportDir: o.out, report, meter };
}

/** No policy may beat a proven optimum: that would be a bug in the env, the MILP or the score. */
function checkOptimum(d: number, day: PlayDayResult[]): void {
  const milp = day.find((r) => r.milp)!.milp!;
  const best = day.filter((r) => !r.milp).reduce((m, r) => Math.min(m, r.summary.score), Infinity);
  if (milp.status === 'optimal' && best < milp.score - 1e-6) throw new Error(`day ${d}: a policy scored ${best} below the proven optimum ${milp.score}; please report this bug`);
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
function buildReport(o: EvaluateOptions, runs: RunConfig[], stats: PolicyStats[], bound: ReportBound | null, rows: EvaluateResult['days'], unprovenDays: number[], logs: Map<string, DaySeries>): EvaluationReport {
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
function daySchedule(s: Scenario, seed: number | undefined, series: Map<string, DaySeries>): EvaluationReport['schedule'] {
  const first = series.values().next().value;
  if (seed === undefined || !first) return null;
  return {
    day: 0,
    seed,
    priceKwh: Array.from(s.priceKwh),
    baseKw: first.baseKw,
    pvKw: first.pvKw,
    appliances: s.appliances.map((a) => a.name),
    ev: s.ev ? { v2h: s.ev.v2h } : null,
    policies: [...series].map(([name, x]) => ({ name, importKw: x.importKw, evKw: x.evKw, applianceKw: x.applianceKw })),
  };
}
