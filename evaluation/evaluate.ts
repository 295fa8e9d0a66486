import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { daySeed, drawDay, makeEnv, playDay, type DayLog, type DaySummary, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy, type MilpResult } from '../baseline/index.js';
import { agentPolicy } from '../agents/agent.js';
import { loadAgent, readRunConfig, scenarioHash } from '../training/train.js';
import { policyStats, type PolicyStats } from './stats.js';

export type { DayFigures, PolicyStats } from './stats.js';
export { policyStats } from './stats.js';

/**
 * `rescoin evaluate`: asap, cheapest, each run's greedy policy and the MILP optimum play the same
 * held-out days. The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days (DESIGN.md).
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
  /** meter[k] is the meter data of days[k] (`rescoin evaluate` writes payouts.json from them and mints them). */
  meter: MeterDay[];
}

/** A run folder as a greedy policy named after the folder. */
export async function loadRunPolicy(dir: string, scenario: Scenario): Promise<{ policy: Policy; trainingSeeds: Set<number> }> {
  const run = readRunConfig(dir);
  if (run.scenario !== scenario.id || run.scenarioHash !== scenarioHash(scenario))
    throw new Error(`${dir} was trained on scenario ${run.scenario} (hash ${run.scenarioHash}), not on ${scenario.id} (hash ${scenarioHash(scenario)})`);
  const agent = await loadAgent(run.algorithm, join(dir, 'model'), scenario, { policyOnly: true });
  const trainingSeeds = new Set<number>();
  for (let e = 0; e < run.episodes; e++) trainingSeeds.add(daySeed(run.seed, e));
  return { policy: agentPolicy(basename(dir), agent, scenario), trainingSeeds };
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
    const seed = daySeed(o.seed, d);
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
  await writeReport(o, s, stats, rows, unprovenDays, firstDayLogs);
  return { policies: stats, days: rows, unprovenDays, reportDir: o.out, meter };
}

const DAY_COLUMNS = ['policy', 'day', 'seed', 'score', 'cost', 'importKwh', 'exportKwh', 'peakKw', 'par', 'rescoin', 'violations'] as const;

async function writeReport(o: EvaluateOptions, s: Scenario, stats: PolicyStats[], rows: EvaluateResult['days'], unproven: number[], logs: Map<string, DayLog>) {
  const flat = rows.map((r) => ({ policy: r.policy, day: r.day, seed: r.seed, score: r.summary.score, cost: r.summary.cost, importKwh: r.summary.importKwh, exportKwh: r.summary.exportKwh, peakKw: r.summary.peakKw, par: r.summary.par, rescoin: r.summary.rescoin, violations: r.summary.violations }));
  writeFileSync(join(o.out, 'days.csv'), `${DAY_COLUMNS.join(',')}\n${flat.map((r) => DAY_COLUMNS.map((c) => r[c]).join(',')).join('\n')}\n`);
  await writeParquet(join(o.out, 'days.parquet'), flat);
  const { vegaLiteToSvg, writePlot, dayPlotSpec } = await import('../training/plot.js');
  const gaps = await vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `gap to the MILP optimum over ${o.days} days (0 % optimal, 100 % no management)`,
    width: 500,
    height: 40 * stats.length,
    data: { values: stats.map((p) => ({ policy: p.name, gap: p.gapPct })) },
    mark: { type: 'bar' },
    encoding: { y: { field: 'policy', type: 'nominal', sort: null, title: null }, x: { field: 'gap', type: 'quantitative', title: 'gap (%)' }, color: { field: 'policy', type: 'nominal', legend: null } },
  });
  await writePlot(gaps, join(o.out, 'gaps.svg'));
  await writePlot(gaps, join(o.out, 'gaps.png'));
  const specs = [...logs].map(([name, log]) => dayPlotSpec(log, s, name, 420));
  const schedules = await vegaLiteToSvg({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: `day 0 (seed ${daySeed(o.seed, 0)}), each policy`, hconcat: specs, resolve: { scale: { y: 'shared' } } });
  await writePlot(schedules, join(o.out, 'schedules-day0.svg'));

  const f = (x: number, k = 4) => (Number.isFinite(x) ? x.toFixed(k) : '-');
  const md = [
    `# Evaluation: ${s.name}`,
    '',
    `${o.days} held-out days: days 0–${o.days - 1} of seed ${o.seed} (day d is daySeed(${o.seed}, d)). Runs: ${o.runs.join(', ') || 'none'}.`,
    '',
    '| policy | mean J € (sd) | cost € | peak kW | PAR | RESCoin | violations | gap to optimum |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...stats.map((p) => `| ${p.name} | ${f(p.meanScore)} (${f(p.sdScore)}) | ${f(p.meanCost)} | ${f(p.meanPeakKw, 3)} | ${f(p.meanPar, 2)} | ${f(p.meanRescoin, 2)} | ${p.violations} | ${f(p.gapPct, 1)} % |`),
    '',
    'The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days: 0 % is the MILP optimum, 100 % no management.',
    unproven.length ? `\nThe MILP did not prove optimality within ${o.timeLimitSec} s on days ${unproven.join(', ')}: J* there is the best schedule found, and gaps are measured against it.` : '\nThe MILP proved every day optimal.',
    '',
    'Files: days.csv, days.parquet, payouts.json (RSC and meter-data hash per policy and day, for rescoin ledger mint), gaps.svg/.png, schedules-day0.svg.',
    '',
  ].join('\n');
  writeFileSync(join(o.out, 'report.md'), md);
}

/**
 * days.parquet with hyparquet-writer (pure JavaScript). nodejs-polars was the first choice, but its
 * native binary package does not install on every machine (it did not here), and a report must not
 * depend on that.
 */
async function writeParquet(path: string, rows: Record<string, string | number>[]): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const strings = new Set(['policy']);
  const ints = new Set(['day', 'violations']);
  const columnData = DAY_COLUMNS.map((name) => ({
    name,
    data: rows.map((r) => (name === 'seed' ? BigInt(r[name]) : r[name])),
    type: strings.has(name) ? ('STRING' as const) : ints.has(name) ? ('INT32' as const) : name === 'seed' ? ('INT64' as const) : ('DOUBLE' as const),
  }));
  writeFileSync(path, new Uint8Array(parquetWriteBuffer({ columnData })));
}

/** The table `rescoin evaluate` prints. */
export function formatStats(stats: PolicyStats[]): string {
  const head = ['policy', 'mean J €', 'sd', 'cost €', 'peak kW', 'PAR', 'RSC', 'violations', 'gap %'];
  const body = stats.map((p) => [p.name, p.meanScore.toFixed(4), p.sdScore.toFixed(4), p.meanCost.toFixed(4), p.meanPeakKw.toFixed(3), p.meanPar.toFixed(2), p.meanRescoin.toFixed(2), String(p.violations), p.gapPct.toFixed(1)]);
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ')).join('\n');
}
