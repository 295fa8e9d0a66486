import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { heldOutDay, loadScenario, SLOTS } from '../../env/index.js';
import { train } from '../../training/train.js';
import { evaluate } from '../../evaluation/evaluate.js';
import { readReport } from '../../evaluation/report.js';
import { daysCsv, reportMarkdown } from '../../evaluation/render.js';
import { gapPct } from '../../evaluation/stats.js';

/** evaluate writes one report.json with what it returns, and draws the folder's files from it. */

const paper = loadScenario('paper-apartment');
const root = mkdtempSync(join(tmpdir(), 'rescoin-evaluate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('evaluate → report.json', () => {
  it('holds the days, every policy with its days and stats, the run, and day 0 under each policy', async () => {
    const run = join(root, 'runs', 'q3');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 3, seed: 5, out: run, resume: false });
    const out = join(root, 'report');
    const r = await evaluate({ scenario: paper, runs: [run], days: 2, seed: 4242, out, timeLimitSec: 60 });
    const report = readReport(out);
    expect(report).toEqual(r.report);
    expect(report.days).toEqual({ seed: 4242, count: 2, daySeeds: [heldOutDay(0, 4242), heldOutDay(1, 4242)] });
    expect(report.runs).toEqual([{ dir: run, path: resolve(run), policy: 'q3', algorithm: 'qlearning', seed: 5, episodes: 3 }]);
    expect(report.policies.map((p) => [p.name, p.kind])).toEqual([['asap', 'baseline'], ['cheapest', 'baseline'], ['q3', 'run'], ['milp', 'optimum']]);
    expect(report.policies.map((p) => ({ name: p.name, ...p.stats }))).toEqual(r.policies);
    for (const p of report.policies) {
      expect(p.days.map((d) => d.score)).toEqual(r.days.filter((x) => x.policy === p.name).map((x) => x.summary.score));
      const score = (name: string) => report.policies.find((x) => x.name === name)!.days.map((d) => d.score);
      expect(p.stats.gapPct).toBe(gapPct(score(p.name), score('milp'), score('asap')));
    }
    const s = report.schedule!;
    expect(s.seed).toBe(heldOutDay(0, 4242));
    expect(s.appliances).toEqual(paper.appliances.map((a) => a.name));
    expect(s.policies.map((p) => p.name)).toEqual(['asap', 'cheapest', 'q3', 'milp']);
    // Energy balance of the logged day: what the home draws from the grid over the day is its import.
    const milp = s.policies[3];
    const importKwh = milp.importKw.reduce((a, b) => a + b, 0) / 4;
    expect(importKwh).toBeCloseTo(report.policies[3].days[0].importKwh, 9);
    expect(milp.applianceKw.every((x) => x.length === SLOTS)).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(reportMarkdown(report));
    expect(readFileSync(join(out, 'days.csv'), 'utf8')).toBe(daysCsv(report));
  }, 60_000);
});
