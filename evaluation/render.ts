import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DayLog, Scenario } from '../env/index.js';
import { playedPolicies, reportBound, writeAtomic, writeReport, type EvaluationReport, type ReportDay } from './report.js';

/**
 * What is drawn from a report.json object: report.md, days.csv, days.parquet and the plots. Each is a
 * function of the report alone, so a report read back from its file draws the same files.
 */

/** The columns of days.csv and days.parquet: one row per day and policy. */
export const DAY_COLUMNS = ['policy', 'day', 'seed', 'score', 'cost', 'importKwh', 'exportKwh', 'peakKw', 'par', 'rescoin', 'violations'] as const;
type DayRow = { policy: string; day: number; seed: number } & ReportDay;

/** The rows of days.csv, day by day, each day in the report's policy order (played policies; the bound's days are in report.json). */
export function dayRows(r: EvaluationReport): DayRow[] {
  const played = playedPolicies(r);
  return r.days.daySeeds.flatMap((seed, day) => played.map((p) => ({ policy: p.name, day, seed, ...p.days[day] })));
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

const fixed = (x: number | null | undefined, k = 4) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(k) : '-');

/** One row of the tables: a played policy's figures, or the bound's (J and the gaps only). */
export interface TableRow {
  name: string;
  meanScore: number;
  sdScore: number;
  meanCost?: number;
  meanPeakKw?: number;
  meanPar?: number;
  meanRescoin?: number;
  violations?: number;
  gapPct: number;
  gapToBoundPct: number | null;
  decisionMs: number | null;
}

/** The rows of report.md's table and of the table `rescoin evaluate` prints, in the report's order. */
export function tableRows(r: EvaluationReport): TableRow[] {
  return r.policies.map((p) => (p.kind === 'bound' ? { name: p.name, ...p.stats, decisionMs: null } : { name: p.name, ...p.stats }));
}

/** What each column means: two sentences each (report.md). */
function columnNotes(r: EvaluationReport): string[] {
  const b = reportBound(r);
  const notes = [
    '- **gap to J\\*** is Σ(J − J*) / Σ(J_asap − J*) over the days, J* being the MILP optimum of each day, which knows the whole day from 00:00 (perfect foresight). 0 % is that optimum and 100 % no management; no policy that cannot see the future is expected to reach 0 %.',
  ];
  if (b) {
    const trips = `${b.samples} trips drawn from the habits per trip day`;
    notes.push(
      `- **gap to the bound** is Σ(J − LB) / Σ(J_asap − LB), LB being each day's non-anticipative bound: the least J a policy can expect when it learns the EV's trip only when the car is back (it is even told the requests and the PV, and the bound is a sample average over ${trips}, so it is a bound in expectation, a little low). 0 % is the best any policy without foresight can be expected to do; what lies between the bound and J* is the price of not knowing the future, which no such policy can close.`,
    );
  }
  notes.push(
    '- **decision ms** is the median compute time of one decision (one act() call) over every slot of every day, in milliseconds on the machine that ran the evaluation. The MILP decides the whole day in one solve, so its figure is that solve time per day divided by the 96 slots (¹)' +
      (b ? '; the bound is not a policy and makes no decision.' : '.'),
  );
  return notes;
}

export function reportMarkdown(r: EvaluationReport): string {
  const { count, seed } = r.days;
  const unproven = r.milp.unprovenDays;
  const b = reportBound(r);
  const head = ['policy', 'mean J € (sd)', 'cost €', 'peak kW', 'PAR', 'RESCoin', 'violations', 'gap to J*', ...(b ? ['gap to the bound'] : []), 'decision ms'];
  const pct = (x: number | null) => (x === null ? '-' : `${fixed(x, 1)} %`);
  const row = (p: TableRow) => [
    p.name,
    `${fixed(p.meanScore)} (${fixed(p.sdScore)})`,
    fixed(p.meanCost),
    fixed(p.meanPeakKw, 3),
    fixed(p.meanPar, 2),
    fixed(p.meanRescoin, 2),
    p.violations === undefined ? '-' : String(p.violations),
    pct(p.gapPct),
    ...(b ? [pct(p.gapToBoundPct)] : []),
    p.decisionMs === null ? '-' : `${fixed(p.decisionMs, 3)}${p.name === 'milp' ? ' ¹' : ''}`,
  ];
  const boundUnproven = b ? b.days.flatMap((d, k) => (d.status === 'optimal' ? [] : [k])) : [];
  return [
    `# Evaluation: ${r.scenario.name}`,
    '',
    `${count} held-out days: days 0–${count - 1} of seed ${seed} (day d is daySeed(${seed}, d)). Runs: ${r.runs.map((x) => x.dir).join(', ') || 'none'}.`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...tableRows(r).map((p) => `| ${row(p).join(' | ')} |`),
    '',
    ...columnNotes(r),
    '',
    '¹ The MILP: its solve time per day / 96.',
    unproven.length
      ? `\nThe MILP did not prove optimality within ${r.milp.timeLimitSec} s on days ${unproven.join(', ')}: J* there is the best schedule found, and gaps are measured against it.`
      : '\nThe MILP proved every day optimal.',
    ...(b
      ? [
          boundUnproven.length
            ? `\nThe bound's program was not solved to proof within ${b.timeLimitSec} s on days ${boundUnproven.join(', ')}: LB there is HiGHS's dual bound, still a bound.`
            : '\nThe bound\'s program was solved to proof on every day.',
        ]
      : []),
    '',
    'Files: report.json (everything above, machine-readable), days.csv, days.parquet, payouts.json (RSC and meter-data hash per policy and day, for rescoin ledger mint), gaps.svg/.png, schedules-day0.svg.',
    '',
  ].join('\n');
}

/** The table `rescoin evaluate` prints. */
export function formatStats(r: EvaluationReport): string {
  const b = reportBound(r) !== null;
  const head = ['policy', 'mean J €', 'sd', 'cost €', 'peak kW', 'PAR', 'RSC', 'violations', 'gap J* %', ...(b ? ['gap LB %'] : []), 'ms/decision'];
  const body = tableRows(r).map((p) => [
    p.name,
    fixed(p.meanScore),
    fixed(p.sdScore),
    fixed(p.meanCost),
    fixed(p.meanPeakKw, 3),
    fixed(p.meanPar, 2),
    fixed(p.meanRescoin, 2),
    p.violations === undefined ? '-' : String(p.violations),
    fixed(p.gapPct, 1),
    ...(b ? [fixed(p.gapToBoundPct, 1)] : []),
    fixed(p.decisionMs, 3),
  ]);
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
