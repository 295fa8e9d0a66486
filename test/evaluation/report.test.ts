import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HELD_OUT_SEED, heldOutDay, SLOTS } from '../../env/index.js';
import { gapPct, policyStats } from '../../evaluation/stats.js';
import { newestReportOf, parseReport, playedPolicies, readReport, REPORT_FORMAT, REPORT_VERSION, reportBound, runFigures, writeReport, type EvaluationReport, type ReportBound, type ReportDay } from '../../evaluation/report.js';
import { daysCsv, daysParquet, dayRows, reportMarkdown, writeReportFiles } from '../../evaluation/render.js';

/**
 * evaluation/: the gap by hand, report.json's round trip and its errors, and the files drawn from a
 * fixed report (report.md as golden text, days.csv, days.parquet read back with hyparquet).
 */

const root = mkdtempSync(join(tmpdir(), 'rescoin-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const day = (score: number, cost: number, importKwh: number, peakKw: number, par: number, rescoin: number, violations = 0): ReportDay => ({ score, cost, importKwh, exportKwh: 1.5, peakKw, par, rescoin, violations });
const series = (f: (t: number) => number) => Array.from({ length: SLOTS }, (_, t) => f(t));

/**
 * Two held-out days, three policies. By hand: Σ(J_asap − J*) = (1.5 − 1) + (2.5 − 1.5) = 1.5 and
 * Σ(J_q − J*) = 0.2 + 0.5 = 0.7, so q-run's gap is 0.7 / 1.5 = 46.67 %; means and sds of two values.
 */
function fixture(): EvaluationReport {
  const days = {
    asap: [day(1.5, 1.2, 10, 4, 2, 0.1), day(2.5, 2.0, 12, 5, 2.5, 0.3)],
    'q-run': [day(1.2, 1.0, 9, 3, 1.5, 0.2, 1), day(2.0, 1.8, 11, 4, 2, 0.4)],
    milp: [day(1.0, 0.9, 8, 2.5, 1.25, 0.3), day(1.5, 1.4, 10, 3, 1.5, 0.5)],
  };
  const stats = {
    asap: { meanScore: 2, sdScore: 0.5, meanCost: 1.6, meanPeakKw: 4.5, meanPar: 2.25, meanRescoin: 0.2, gapPct: 100, gapToBoundPct: null, decisionMs: 0.002, violations: 0 },
    'q-run': { meanScore: 1.6, sdScore: 0.4, meanCost: 1.4, meanPeakKw: 3.5, meanPar: 1.75, meanRescoin: 0.3, gapPct: 70 / 1.5, gapToBoundPct: null, decisionMs: 0.125, violations: 1 },
    milp: { meanScore: 1.25, sdScore: 0.25, meanCost: 1.15, meanPeakKw: 2.75, meanPar: 1.375, meanRescoin: 0.4, gapPct: 0, gapToBoundPct: null, decisionMs: 1.5, violations: 0 },
  };
  const kind = { asap: 'baseline', 'q-run': 'run', milp: 'optimum' } as const;
  const names = ['asap', 'q-run', 'milp'] as const;
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    scenario: { id: 'paper-apartment', name: 'Paper apartment', hash: '0123456789abcdef' },
    days: { seed: HELD_OUT_SEED, count: 2, daySeeds: [heldOutDay(0), heldOutDay(1)] },
    milp: { timeLimitSec: 60, unprovenDays: [1] },
    runs: [{ dir: 'runs/q-run', path: resolve(root, 'runs', 'q-run'), policy: 'q-run', algorithm: 'qlearning', seed: 7, episodes: 300 }],
    policies: names.map((name) => ({ name, kind: kind[name], stats: stats[name], days: days[name] })),
    schedule: {
      day: 0,
      seed: heldOutDay(0),
      priceKwh: series((t) => (t >= 32 && t < 76 ? 0.07032 : 0.06465)),
      baseKw: series(() => 0.2),
      pvKw: series((t) => Math.max(0, Math.sin((Math.PI * (t - 24)) / 48)) * 2.5),
      appliances: ['Dishwasher', 'Washing machine'],
      ev: { v2h: false },
      policies: names.map((name, k) => ({ name, importKw: series((t) => 0.5 + k * 0.1 + (t % 7) / 10), evKw: series((t) => (t < 20 + k ? 3 : 0)), applianceKw: [series((t) => (t >= 84 + k && t < 92 + k ? 1.2 : 0)), series((t) => (t === 80 ? 2 : 0))] })),
    },
  };
}

/** The fixture evaluated with --bound: LB = 1.1 and 1.6 on its two days (day 1 not proven). */
function withBound(r: EvaluationReport): EvaluationReport {
  const lb = [1.1, 1.6];
  const asap = [1.5, 2.5];
  const played = playedPolicies(r).map((p) => ({ ...p, stats: { ...p.stats, gapToBoundPct: gapPct(p.days.map((d) => d.score), lb, asap) } }));
  const bound: ReportBound = {
    name: 'bound',
    kind: 'bound',
    samples: 8,
    seed: 1,
    timeLimitSec: 60,
    stats: { meanScore: 1.35, sdScore: 0.25, gapPct: gapPct(lb, [1, 1.5], asap), gapToBoundPct: 0 },
    days: [
      { score: 1.1, status: 'optimal', mipGap: 0, solveMs: 2000, samples: 8, sampled: true },
      { score: 1.6, status: 'time-limit', mipGap: 0.01, solveMs: 60000, samples: 8, sampled: true },
    ],
  };
  return { ...r, policies: [played[0], played[1], bound, played[2]] };
}

describe('gapPct', () => {
  it('is Σ(J − J*) / Σ(J_asap − J*) in % over the days, and 0 % when Σ(J_asap − J*) = 0', () => {
    // (3 − 1) + (5 − 2) = 5 over (4 − 1) + (6 − 2) = 7.
    expect(gapPct([3, 5], [1, 2], [4, 6])).toBeCloseTo(500 / 7, 12);
    expect(gapPct([1, 2], [1, 2], [4, 6])).toBe(0);
    expect(gapPct([4, 6], [1, 2], [4, 6])).toBe(100);
    // A day where no management is optimal and another where it is 1 € worse: only the sums count.
    expect(gapPct([1, 2.5], [1, 2], [1, 3])).toBe(50);
    // Nothing to close: no management already optimal on every day.
    expect(gapPct([2, 3], [1, 2], [1, 2])).toBe(0);
    expect(gapPct([], [], [])).toBe(0);
    expect(() => gapPct([1, 2], [1], [1, 2])).toThrow(/2 policy scores, 1 reference scores and 2 asap scores/);
  });

  it('policyStats gives the fixture its stats (the gap against the milp and asap rows)', () => {
    const r = fixture();
    const rows = playedPolicies(r).flatMap((p) => p.days.map((summary) => ({ policy: p.name, summary })));
    const ms = new Map([['asap', [0.001, 0.002, 0.004]], ['q-run', [0.25, 0.125, 0.1]], ['milp', [1.5]]]);
    const stats = policyStats(['asap', 'q-run', 'milp'], rows, { decisionMs: ms });
    stats.forEach((s, i) => {
      for (const [k, v] of Object.entries(r.policies[i].stats)) {
        if (v === null) expect(s[k as keyof typeof s], `${s.name} ${k}`).toBeNull();
        else expect(s[k as keyof typeof s], `${s.name} ${k}`).toBeCloseTo(v as number, 12);
      }
    });
    expect(stats[1].gapPct).toBeCloseTo(46.666666666667, 9);
  });

  it('the gap to the bound: Σ(J − LB) / Σ(J_asap − LB), 100 % for asap; the bound row has 0 % to itself', () => {
    const r = withBound(fixture());
    const rows = playedPolicies(r).flatMap((p) => p.days.map((summary) => ({ policy: p.name, summary })));
    const stats = policyStats(['asap', 'q-run', 'milp'], rows, { bound: [1.1, 1.6] });
    // Σ(J_asap − LB) = 0.4 + 0.9 = 1.3; q-run 0.1 + 0.4 = 0.5; milp −0.1 − 0.1 = −0.2 (J* below this sampled bound).
    expect(stats.map((x) => x.gapToBoundPct)).toEqual([100, expect.closeTo(50 / 1.3, 9), expect.closeTo(-20 / 1.3, 9)]);
    expect(stats.map((x) => x.decisionMs)).toEqual([null, null, null]);
    const b = reportBound(r)!;
    expect(b.stats.gapToBoundPct).toBe(0);
    expect(b.stats.gapPct).toBeCloseTo(gapPct([1.1, 1.6], [1, 1.5], [1.5, 2.5]), 12);
    expect(reportBound(fixture())).toBeNull();
  });
});

describe('report.json', () => {
  it('round trip: written, read back, equal; no temporary file is left', async () => {
    const dir = join(root, 'round');
    mkdirSync(dir);
    const r = fixture();
    await writeReport(dir, r);
    expect(readReport(dir)).toEqual(r);
    expect(readReport(join(dir, 'report.json'))).toEqual(r);
    expect(readdirSync(dir)).toEqual(['report.json']);
    // Each per-slot series is one line of the file.
    const text = readFileSync(join(dir, 'report.json'), 'utf8');
    expect(text).toContain(`"baseKw": [${Array(SLOTS).fill('0.2').join(',')}]`);
  });

  it('a bad file is refused with the field named: its value and what was expected', async () => {
    // The edits write wrong types on purpose.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const bad = (edit: (r: Record<string, any>) => void) => {
      const r = JSON.parse(JSON.stringify(fixture()));
      edit(r);
      return () => parseReport(r, 'reports/x/report.json');
    };
    expect(bad((r) => (r.policies[1].stats.gapPct = 'high'))).toThrow(/reports\/x\/report\.json: not a valid evaluation report\n {2}field policies\.1\.stats\.gapPct: got "high"; .*number/);
    expect(bad((r) => delete r.days.daySeeds)).toThrow(/field days\.daySeeds: got nothing \(the field is missing\)/);
    expect(bad((r) => r.policies[2].days.pop())).toThrow(/field policies\.2\.days: .*expected days\.count = 2 days, found 1/);
    expect(bad((r) => (r.policies[0].days[1].violations = -1))).toThrow(/field policies\.0\.days\.1\.violations: got -1/);
    expect(bad((r) => (r.schedule.pvKw = [1, 2]))).toThrow(/field schedule\.pvKw: got \[1,2\]/);
    expect(bad((r) => (r.runs[0].policy = 'dqn'))).toThrow(/field runs\.0\.policy: got "dqn"; expected one of the policies \(asap, q-run, milp\)/);
    expect(bad((r) => (r.policies[1].extra = 1))).toThrow(/field policies\.1: .*extra/);
    expect(bad((r) => (r.version = 1))).toThrow(/reports\/x\/report\.json: field version is 1, but this rescoin reads evaluation reports of version 2/);
    expect(bad((r) => (r.policies[1].stats.decisionMs = -1))).toThrow(/field policies\.1\.stats\.decisionMs: got -1/);
    expect(bad((r) => (r.policies[1].kind = 'oracle'))).toThrow(/field policies\.1\.kind: got "oracle"; Invalid discriminator value\. Expected 'baseline' \| 'mpc' \| 'run' \| 'optimum' \| 'bound'/);
    expect(bad((r) => (r.policies[1].stats.gapToBoundPct = 12))).toThrow(/field policies\.1\.stats\.gapToBoundPct: got 12; expected null: the report has no bound/);
    expect(bad((r) => (r.format = 'something-else'))).toThrow(/field format: got "something-else"/);

    const dir = join(root, 'broken');
    mkdirSync(dir);
    expect(() => readReport(dir)).toThrow(/broken\/report\.json does not exist: expected a `rescoin evaluate` report folder/);
    writeFileSync(join(dir, 'report.json'), '{"format": ');
    expect(() => readReport(dir)).toThrow(/broken\/report\.json: not JSON/);
  });

  it('with the bound: round trip, and its bad fields named', async () => {
    const dir = join(root, 'bound');
    mkdirSync(dir);
    const r = withBound(fixture());
    await writeReport(dir, r);
    expect(readReport(dir)).toEqual(r);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const bad = (edit: (r: Record<string, any>) => void) => {
      const x = JSON.parse(JSON.stringify(r));
      edit(x);
      return () => parseReport(x, 'reports/b/report.json');
    };
    expect(bad((x) => (x.policies[2].days[1].status = 'guess'))).toThrow(/field policies\.2\.days\.1\.status: got "guess"/);
    expect(bad((x) => (x.policies[2].days[1].cost = 1))).toThrow(/field policies\.2\.days\.1: .*cost/);
    expect(bad((x) => (x.policies[0].stats.gapToBoundPct = null))).toThrow(/field policies\.0\.stats\.gapToBoundPct: got null; expected a number: the report has a bound/);
    expect(bad((x) => x.policies[2].days.pop())).toThrow(/field policies\.2\.days: .*expected days\.count = 2 days, found 1/);
  });

  it('a report that its reader would refuse is not written', async () => {
    const dir = join(root, 'refused');
    mkdirSync(dir);
    const r = fixture();
    r.policies[0].stats.meanScore = Number.NaN;
    await expect(writeReport(dir, r)).rejects.toThrow(/field policies\.0\.stats\.meanScore: got null/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("export's figures of a run, and the newest report under a folder that evaluated it", async () => {
    const r = fixture();
    expect(runFigures(r, 'q-run')).toEqual({ policy: 'q-run', days: 2, daySeeds: r.days.daySeeds, meanScore: 1.6, meanCost: 1.4, meanPeakKw: 3.5, meanRescoin: 0.3, violations: 1, gapPct: 70 / 1.5 });
    expect(runFigures(r, 'dqn')).toBeNull();
    const reports = join(root, 'reports');
    for (const name of ['old', 'new', 'other']) mkdirSync(join(reports, name), { recursive: true });
    await writeReport(join(reports, 'old'), r);
    const newer = fixture();
    newer.policies[1].stats.meanScore = 1.5;
    await writeReport(join(reports, 'new'), newer);
    utimesSync(join(reports, 'old', 'report.json'), new Date(1000), new Date(1000));
    const elsewhere = fixture();
    elsewhere.runs[0].path = '/somewhere/else/q-run';
    await writeReport(join(reports, 'other'), elsewhere);
    mkdirSync(join(reports, 'stale'));
    writeFileSync(join(reports, 'stale', 'report.json'), JSON.stringify({ ...r, version: 0 }));
    const found = newestReportOf(join(root, 'runs', 'q-run'), reports)!;
    expect(found.dir).toBe(join(reports, 'new'));
    expect(runFigures(found.report, 'q-run')!.meanScore).toBe(1.5);
    expect(newestReportOf(join(root, 'runs', 'dqn'), reports)).toBeNull();
    expect(newestReportOf(join(root, 'runs', 'q-run'), join(root, 'none'))).toBeNull();
  });
});

describe('drawn from report.json', () => {
  it('report.md is a function of the report (golden text)', () => {
    expect(reportMarkdown(fixture())).toBe(`# Evaluation: Paper apartment

2 held-out days: days 0–1 of seed 100000 (day d is daySeed(100000, d)). Runs: runs/q-run.

| policy | mean J € (sd) | cost € | peak kW | PAR | RESCoin | violations | gap to J* | decision ms |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| asap | 2.0000 (0.5000) | 1.6000 | 4.500 | 2.25 | 0.20 | 0 | 100.0 % | 0.002 |
| q-run | 1.6000 (0.4000) | 1.4000 | 3.500 | 1.75 | 0.30 | 1 | 46.7 % | 0.125 |
| milp | 1.2500 (0.2500) | 1.1500 | 2.750 | 1.38 | 0.40 | 0 | 0.0 % | 1.500 ¹ |

- **gap to J\\*** is Σ(J − J*) / Σ(J_asap − J*) over the days, J* being the MILP optimum of each day, which knows the whole day from 00:00 (perfect foresight). 0 % is that optimum and 100 % no management; no policy that cannot see the future is expected to reach 0 %.
- **decision ms** is the median compute time of one decision (one act() call) over every slot of every day, in milliseconds on the machine that ran the evaluation. The MILP decides the whole day in one solve, so its figure is that solve time per day divided by the 96 slots (¹).

¹ The MILP: its solve time per day / 96.

The MILP did not prove optimality within 60 s on days 1: J* there is the best schedule found, and gaps are measured against it.

Files: report.json (everything above, machine-readable), days.csv, days.parquet, payouts.json (RSC and meter-data hash per policy and day, for rescoin ledger mint), gaps.svg/.png, schedules-day0.svg.
`);
    const bounded = reportMarkdown(withBound(fixture()));
    expect(bounded).toContain('| policy | mean J € (sd) | cost € | peak kW | PAR | RESCoin | violations | gap to J* | gap to the bound | decision ms |\n');
    expect(bounded).toContain('| asap | 2.0000 (0.5000) | 1.6000 | 4.500 | 2.25 | 0.20 | 0 | 100.0 % | 100.0 % | 0.002 |\n');
    expect(bounded).toContain('| q-run | 1.6000 (0.4000) | 1.4000 | 3.500 | 1.75 | 0.30 | 1 | 46.7 % | 38.5 % | 0.125 |\n| bound | 1.3500 (0.2500) | - | - | - | - | - | 13.3 % | 0.0 % | - |\n| milp |');
    expect(bounded).toContain('- **gap to the bound** is Σ(J − LB) / Σ(J_asap − LB), LB being');
    expect(bounded).toContain('sample average over 8 trips drawn from the habits per trip day');
    expect(bounded).toContain("\nThe bound's program was not solved to proof within 60 s on days 1: LB there is HiGHS's dual bound, still a bound.\n");
    const proven = fixture();
    proven.milp.unprovenDays = [];
    proven.runs = [];
    const md = reportMarkdown(proven);
    expect(md).toContain('\nThe MILP proved every day optimal.\n');
    expect(md).toContain('Runs: none.');
  });

  it('days.csv: one row per day and policy, day by day, with the day seeds', () => {
    const lines = daysCsv(fixture()).split('\n');
    expect(lines[0]).toBe('policy,day,seed,score,cost,importKwh,exportKwh,peakKw,par,rescoin,violations');
    expect(lines.slice(1, 7).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['asap', 'q-run', 'milp', 'asap', 'q-run', 'milp'].map((p, i) => `${p},${i < 3 ? 0 : 1},${heldOutDay(i < 3 ? 0 : 1)}`));
    expect(lines[2]).toBe(`q-run,0,${heldOutDay(0)},1.2,1,9,1.5,3,1.5,0.2,1`);
    expect(lines[7]).toBe('');
    expect(lines).toHaveLength(8);
  });

  it('days.parquet reads back (hyparquet) as the rows of days.csv', async () => {
    const r = fixture();
    const buf = await daysParquet(r);
    const { parquetReadObjects } = await import('hyparquet');
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
    expect(rows).toEqual(dayRows(r).map((x) => ({ ...x, seed: BigInt(x.seed) })));
    expect(rows[4]).toMatchObject({ policy: 'q-run', day: 1, score: 2, violations: 0 });
  });

  it('a report folder drawn from a report read back equals the one drawn from the object', async () => {
    const a = join(root, 'folder-a');
    const b = join(root, 'folder-b');
    mkdirSync(a);
    mkdirSync(b);
    await writeReportFiles(a, fixture());
    await writeReportFiles(b, readReport(a));
    const files = ['days.csv', 'days.parquet', 'gaps.png', 'gaps.svg', 'report.json', 'report.md', 'schedules-day0.svg'];
    expect(readdirSync(a).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    expect(readFileSync(join(a, 'report.md'), 'utf8')).toBe(reportMarkdown(fixture()));
    const gaps = readFileSync(join(a, 'gaps.svg'), 'utf8');
    for (const name of ['asap', 'q-run', 'milp']) expect(gaps).toContain(name);
    const schedules = readFileSync(join(a, 'schedules-day0.svg'), 'utf8');
    expect(schedules).toContain(`day 0 (seed ${heldOutDay(0)}), each policy`);
    expect(schedules).toContain('Washing machine');
  }, 30_000);
});
