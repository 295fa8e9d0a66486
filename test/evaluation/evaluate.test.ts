import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { drawDay, HELD_OUT_SEED, heldOutDay, loadScenario, SLOTS } from '../../env/index.js';
import { train } from '../../training/train.js';
import { evaluate } from '../../evaluation/evaluate.js';
import { playedPolicies, readReport, reportBound } from '../../evaluation/report.js';
import { BOUND_VERSION } from '../../baseline/index.js';
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
    expect(report.policies.map((p) => [p.name, p.kind])).toEqual([['asap', 'baseline'], ['cheapest', 'baseline'], ['precharge', 'baseline'], ['mpc', 'mpc'], ['q3', 'run'], ['milp', 'optimum']]);
    expect(report.policies.map((p) => ({ name: p.name, ...p.stats }))).toEqual(r.policies);
    expect(r.bound).toBeNull();
    for (const p of playedPolicies(report)) {
      expect(p.days.map((d) => d.score)).toEqual(r.days.filter((x) => x.policy === p.name).map((x) => x.summary.score));
      const score = (name: string) => playedPolicies(report).find((x) => x.name === name)!.days.map((d) => d.score);
      expect(p.stats.gapPct).toBe(gapPct(score(p.name), score('milp'), score('asap')));
      expect(p.stats.gapToBoundPct).toBeNull();
      expect(p.stats.decisionMs).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(p.stats.decisionMs)).toBe(true);
    }
    const s = report.schedule!;
    expect(s.seed).toBe(heldOutDay(0, 4242));
    expect(s.appliances).toEqual(paper.appliances.map((a) => a.name));
    expect(s.policies.map((p) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'q3', 'milp']);
    // Energy balance of the logged day: what the home draws from the grid over the day is its import.
    const milp = s.policies[5];
    const importKwh = milp.importKw.reduce((a, b) => a + b, 0) / 4;
    expect(importKwh).toBeCloseTo(playedPolicies(report)[5].days[0].importKwh, 9);
    expect(milp.applianceKw.every((x) => x.length === SLOTS)).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(reportMarkdown(report));
    expect(readFileSync(join(out, 'days.csv'), 'utf8')).toBe(daysCsv(report));
  }, 60_000);

  it('with the bound: its row before milp, the gap to it, and its days cached on disk', async () => {
    const cacheDir = join(root, 'cache');
    const out = join(root, 'bound-report');
    // Held-out day 0 of the default seed has a trip, day 1 none.
    const o = { scenario: paper, runs: [], days: 2, seed: HELD_OUT_SEED, out, timeLimitSec: 30, bound: true, boundSamples: 2, mpcSamples: 2, cacheDir };
    const r = await evaluate(o);
    const report = readReport(out);
    expect(report.policies.map((p) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'mpc-scenarios', 'bound', 'milp']);
    const b = reportBound(report)!;
    expect(b).toEqual(r.bound);
    expect(b).toMatchObject({ kind: 'bound', samples: 2, seed: 1, timeLimitSec: 30 });
    const lb = b.days.map((d) => d.score);
    const score = (name: string) => playedPolicies(report).find((x) => x.name === name)!.days.map((d) => d.score);
    // A trip day's bound is a sample average, a bound in expectation only (nothing exact to compare
    // on one day); on a day without a trip nothing is unknown and the bound is J*.
    for (const [k, seed] of report.days.daySeeds.entries()) {
      const trip = drawDay(paper, seed).ev?.trip === true;
      expect(b.days[k]).toMatchObject({ sampled: trip, samples: trip ? 2 : 0 });
      if (!trip) expect(Math.abs(lb[k] - score('milp')[k])).toBeLessThan(1e-6);
    }
    expect(b.days.map((d) => d.sampled)).toEqual([true, false]);
    expect(playedPolicies(report).find((p) => p.name === 'asap')!.stats.gapToBoundPct).toBe(100);
    expect(b.stats.gapToBoundPct).toBe(0);
    expect(b.stats.gapPct).toBe(gapPct(lb, score('milp'), score('asap')));
    for (const p of playedPolicies(report)) expect(p.stats.gapToBoundPct, p.name).toBe(gapPct(score(p.name), lb, score('asap')));
    const files = readdirSync(cacheDir).sort();
    expect(files).toEqual(report.days.daySeeds.map((seed) => `${report.scenario.hash}-${seed}-k2-s1-v${BOUND_VERSION}.json`).sort());
    // The second evaluation reads the bound from the cache: the same days, solve times included.
    const again = await evaluate({ ...o, out: join(root, 'bound-again') });
    expect(again.bound).toEqual(r.bound);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| bound | ');
  }, 120_000);
});
