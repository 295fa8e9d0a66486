import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { drawDay, heldOutDay, makeEnv, playDay, SLOTS, trainingDay, type DayLog, type DaySummary, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy, type MilpResult } from '../baseline/index.js';
import { loadTrainedPolicy, scenarioHash, type RunConfig } from '../training/train.js';
import { policyStats, type PolicyStats } from './stats.js';
import { REPORT_FORMAT, REPORT_VERSION, type EvaluationReport } from './report.js';
import { writeReportFiles } from './render.js';
export { formatStats } from './render.js';

export type { DayFigures, PolicyStats } from './stats.js';
export { policyStats } from './stats.js';

/**
 * `rescoin evaluate`: asap, cheapest, each run's greedy policy and the MILP optimum play the same
 * held-out days. The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days (DESIGN.md).
 * The report folder is drawn from one report.json object (report.ts, render.ts).
 */

export interface EvaluateOptions {
  scenario: Scenario;
  runs: string[];
  days: number;
  seed: number;
  out: string;
  timeLimitSec: number;
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
  policies: PolicyStats[];
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
  const policies: Policy[] = [asapPolicy(), cheapestPolicy(s), ...loaded.map((l) => l.policy), milp];
  const names = policies.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new Error(`two policies share a name (${names.join(', ')}): give the runs different folder names`);
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
    if (last.status !== 'optimal') unprovenDays.push(d);
    // No policy may beat a proven optimum: that would be a bug in the env, the MILP or the score.
    const best = rows.filter((r) => r.day === d && r.policy !== 'milp').reduce((m, r) => Math.min(m, r.summary.score), Infinity);
    if (last.status === 'optimal' && best < last.score - 1e-6)
      throw new Error(`day ${d}: a policy scored ${best} below the proven optimum ${last.score}; please report this bug`);
    o.onDay?.(d + 1, o.days);
    // Let timers run (the progress bar draws on one); the day's work is synchronous.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stats = policyStats(names, rows);
  mkdirSync(o.out, { recursive: true });
  const report = buildReport(o, loaded.map((l) => l.run), stats, rows, unprovenDays, firstDayLogs);
  await writeReportFiles(o.out, report);
  return { policies: stats, days: rows, unprovenDays, reportDir: o.out, report, meter };
}

const KIND: Record<string, EvaluationReport['policies'][number]['kind']> = { asap: 'baseline', cheapest: 'baseline', milp: 'optimum' };

const dayFigures = ({ score, cost, importKwh, exportKwh, peakKw, par, rescoin, violations }: DaySummary) => ({ score, cost, importKwh, exportKwh, peakKw, par, rescoin, violations });

/** The evaluation as report.json holds it (report.ts): everything the report folder shows. */
function buildReport(o: EvaluateOptions, runs: RunConfig[], stats: PolicyStats[], rows: EvaluateResult['days'], unprovenDays: number[], logs: Map<string, DayLog>): EvaluationReport {
  const s = o.scenario;
  const daySeeds = Array.from({ length: o.days }, (_, d) => heldOutDay(d, o.seed));
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    scenario: { id: s.id, name: s.name, hash: scenarioHash(s) },
    days: { seed: o.seed, count: o.days, daySeeds },
    milp: { timeLimitSec: o.timeLimitSec, unprovenDays },
    runs: o.runs.map((dir, k) => ({ dir, path: resolve(dir), policy: basename(dir), algorithm: runs[k].algorithm, seed: runs[k].seed, episodes: runs[k].episodes })),
    policies: stats.map(({ name, ...figures }) => ({ name, kind: KIND[name] ?? 'run', stats: figures, days: rows.filter((r) => r.policy === name).map((r) => dayFigures(r.summary)) })),
    schedule: daySchedule(s, daySeeds[0], logs),
  };
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
