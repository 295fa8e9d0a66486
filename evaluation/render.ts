import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DayLog, Scenario } from '../env/index.js';
import { reportStats, writeAtomic, writeReport, type EvaluationReport, type ReportDay } from './report.js';
import type { PolicyStats } from './stats.js';

/**
 * What is drawn from a report.json object: report.md, days.csv, days.parquet and the plots. Each is a
 * function of the report alone, so a report read back from its file draws the same files.
 */

/** The columns of days.csv and days.parquet: one row per day and policy. */
export const DAY_COLUMNS = ['policy', 'day', 'seed', 'score', 'cost', 'importKwh', 'exportKwh', 'peakKw', 'par', 'rescoin', 'violations'] as const;
type DayRow = { policy: string; day: number; seed: number } & ReportDay;

/** The rows of days.csv, day by day, each day in the report's policy order. */
export function dayRows(r: EvaluationReport): DayRow[] {
  return r.days.daySeeds.flatMap((seed, day) => r.policies.map((p) => ({ policy: p.name, day, seed, ...p.days[day] })));
}

export function daysCsv(r: EvaluationReport): string {
  return `${DAY_COLUMNS.join(',')}\n${dayRows(r).map((row) => DAY_COLUMNS.map((c) => row[c]).join(',')).join('\n')}\n`;
}

/**
 * days.parquet with hyparquet-writer (pure JavaScript). nodejs-polars was the first choice, but its
 * native binary package does not install on every machine, and a report must not depend on that.
 */
export async function daysParquet(r: EvaluationReport): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const rows = dayRows(r);
  const type = (name: (typeof DAY_COLUMNS)[number]) => (name === 'policy' ? 'STRING' : name === 'seed' ? 'INT64' : name === 'day' || name === 'violations' ? 'INT32' : 'DOUBLE') as 'STRING' | 'INT64' | 'INT32' | 'DOUBLE';
  const columnData = DAY_COLUMNS.map((name) => ({ name, data: rows.map((row) => (name === 'seed' ? BigInt(row.seed) : row[name])), type: type(name) }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

const fixed = (x: number, k = 4) => (Number.isFinite(x) ? x.toFixed(k) : '-');

export function reportMarkdown(r: EvaluationReport): string {
  const { count, seed } = r.days;
  const unproven = r.milp.unprovenDays;
  return [
    `# Evaluation: ${r.scenario.name}`,
    '',
    `${count} held-out days: days 0–${count - 1} of seed ${seed} (day d is daySeed(${seed}, d)). Runs: ${r.runs.map((x) => x.dir).join(', ') || 'none'}.`,
    '',
    '| policy | mean J € (sd) | cost € | peak kW | PAR | RESCoin | violations | gap to optimum |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...reportStats(r).map((p) => `| ${p.name} | ${fixed(p.meanScore)} (${fixed(p.sdScore)}) | ${fixed(p.meanCost)} | ${fixed(p.meanPeakKw, 3)} | ${fixed(p.meanPar, 2)} | ${fixed(p.meanRescoin, 2)} | ${p.violations} | ${fixed(p.gapPct, 1)} % |`),
    '',
    'The gap of a policy is Σ(J − J*) / Σ(J_asap − J*) over the days: 0 % is the MILP optimum, 100 % no management.',
    unproven.length
      ? `\nThe MILP did not prove optimality within ${r.milp.timeLimitSec} s on days ${unproven.join(', ')}: J* there is the best schedule found, and gaps are measured against it.`
      : '\nThe MILP proved every day optimal.',
    '',
    'Files: report.json (everything above, machine-readable), days.csv, days.parquet, payouts.json (RSC and meter-data hash per policy and day, for rescoin ledger mint), gaps.svg/.png, schedules-day0.svg.',
    '',
  ].join('\n');
}

/** The table `rescoin evaluate` prints. */
export function formatStats(stats: PolicyStats[]): string {
  const head = ['policy', 'mean J €', 'sd', 'cost €', 'peak kW', 'PAR', 'RSC', 'violations', 'gap %'];
  const body = stats.map((p) => [p.name, p.meanScore.toFixed(4), p.sdScore.toFixed(4), p.meanCost.toFixed(4), p.meanPeakKw.toFixed(3), p.meanPar.toFixed(2), p.meanRescoin.toFixed(2), String(p.violations), p.gapPct.toFixed(1)]);
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  return all.map((row) => row.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ')).join('\n');
}

const VEGA_LITE = 'https://vega.github.io/schema/vega-lite/v6.json';

/** gaps.svg: one bar per policy. */
export function gapsPlotSpec(r: EvaluationReport): Record<string, unknown> {
  return {
    $schema: VEGA_LITE,
    title: `gap to the MILP optimum over ${r.days.count} days (0 % optimal, 100 % no management)`,
    width: 500,
    height: 40 * r.policies.length,
    data: { values: r.policies.map((p) => ({ policy: p.name, gap: p.stats.gapPct })) },
    mark: { type: 'bar' },
    encoding: { y: { field: 'policy', type: 'nominal', sort: null, title: null }, x: { field: 'gap', type: 'quantitative', title: 'gap (%)' }, color: { field: 'policy', type: 'nominal', legend: null } },
  };
}

/**
 * schedules-day0.svg: the report's schedule day under each policy, side by side. training/plot.ts's
 * dayPlotSpec draws a DayLog of a Scenario; it reads only the fields given here, which the report holds.
 */
export async function schedulesPlotSpec(r: EvaluationReport): Promise<Record<string, unknown> | null> {
  const s = r.schedule;
  if (!s) return null;
  const { dayPlotSpec } = await import('../training/plot.js');
  const scenario = { appliances: s.appliances.map((name) => ({ name })), ev: s.ev, priceKwh: s.priceKwh } as unknown as Scenario;
  const specs = s.policies.map((p) => {
    const log = { day: { baseKw: s.baseKw, pvKw: s.pvKw }, applianceKw: p.applianceKw.flat(), evKw: p.evKw, importKw: p.importKw } as unknown as DayLog;
    return dayPlotSpec(log, scenario, p.name, 420);
  });
  return { $schema: VEGA_LITE, title: `day ${s.day} (seed ${s.seed}), each policy`, hconcat: specs, resolve: { scale: { y: 'shared' } } };
}

/**
 * Writes a report folder from the report: each file through a temporary one and a rename, and
 * report.json last, so a folder with a report.json holds the files drawn from it.
 */
export async function writeReportFiles(dir: string, r: EvaluationReport): Promise<void> {
  const { vegaLiteToSvg, writePlot } = await import('../training/plot.js');
  const put = (name: string, data: string | Uint8Array) => writeAtomic(join(dir, name), (tmp) => writeFileSync(tmp, data));
  await put('days.csv', daysCsv(r));
  await put('days.parquet', await daysParquet(r));
  const gaps = await vegaLiteToSvg(gapsPlotSpec(r));
  for (const name of ['gaps.svg', 'gaps.png']) await writeAtomic(join(dir, name), (tmp) => writePlot(gaps, tmp));
  const schedules = await schedulesPlotSpec(r);
  if (schedules) await put('schedules-day0.svg', await vegaLiteToSvg(schedules));
  await put('report.md', reportMarkdown(r));
  await writeReport(dir, r);
}
