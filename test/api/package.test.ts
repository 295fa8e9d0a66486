import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as rescoin from 'rescoin';
import { asapPolicy, evaluate, loadScenario, loadTrainedPolicy, makeEnv, playDay, train } from 'rescoin';

const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-api-'));

describe('the package, imported as a user does', () => {
  it("makeEnv takes an id like gym.make, a path, or a parsed scenario, and they are the same home", () => {
    const byId = makeEnv('paper-apartment');
    const byPath = makeEnv('data/scenarios/paper-apartment.json');
    const parsed = makeEnv(loadScenario('paper-apartment'));
    const a = byId.reset({ seed: 7 });
    expect(byPath.reset({ seed: 7 }).observation).toEqual(a.observation);
    expect(parsed.reset({ seed: 7 }).observation).toEqual(a.observation);
    expect(a.observation.length).toBe(byId.observationSpace.shape[0]);
    const r = byId.step(new Int32Array(byId.actionSpace.nvec.length));
    expect(Number.isFinite(r.reward)).toBe(true);
  });

  it('makeEnv refuses anything else, saying what it got and what it takes', () => {
    expect(() => makeEnv('no-such-home')).toThrow(/unknown scenario "no-such-home"; expected one of: .*paper-apartment/);
    expect(() => makeEnv(42 as never)).toThrow(/makeEnv: expected a scenario id \(.*paper-apartment.*\), a path .* or a parsed scenario; got number 42/);
    expect(() => makeEnv({ id: 'x' } as never)).toThrow(/got an unparsed object \(pass it through parseScenario first\)/);
    expect(() => makeEnv(null as never)).toThrow(/got null/);
  });

  it('train, evaluate and loadTrainedPolicy work together from the package alone', async () => {
    const scenario = loadScenario('paper-apartment');
    const run = join(tmp(), 'q');
    await train({ scenario, algorithm: 'qlearning', episodes: 4, seed: 3, out: run, resume: false });
    const { policy, run: config } = await loadTrainedPolicy(run);
    expect(config).toMatchObject({ algorithm: 'qlearning', episodes: 4, seed: 3, scenario: 'paper-apartment' });
    const played = await playDay(makeEnv(scenario), policy, 11);
    expect(played.summary.violations).toBe(0);
    expect(played.return).toBeCloseTo(-played.summary.score, 9);
    const out = join(tmp(), 'report');
    const r = await evaluate({ scenario, runs: [run], days: 2, seed: rescoin.HELD_OUT_SEED, out, timeLimitSec: 60 });
    expect(r.policies.map((p) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'q', 'milp']);
    const asap = r.policies.find((p) => p.name === 'asap')!;
    expect(asap.gapPct).toBe(100);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).policies.length).toBe(6);
    expect((await playDay(makeEnv(scenario), asapPolicy(), 11)).summary.violations).toBe(0);
  });

  it('exports a curated surface: no internals', () => {
    const names = Object.keys(rescoin);
    for (const internal of ['HEX128', 'applyBlockLine', 'HomeCore', 'EvState', 'slotTerm', 'evFloors', 'buildDayModel', 'newestReportOf'])
      expect(names, internal).not.toContain(internal);
    for (const wanted of ['makeEnv', 'train', 'evaluate', 'loadTrainedPolicy', 'checkEnv', 'milpPolicy', 'mpcPolicy', 'boundDay', 'exportPolicy', 'Ledger', 'HomeController'])
      expect(names, wanted).toContain(wanted);
    expect(names.length).toBeLessThan(90);
  });

  it("package.json's entry is the build of index.ts, and its bin the build of cli/bin.ts", () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: { '.': { import: string; types: string } }; bin: { rescoin: string } };
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.bin.rescoin).toBe('dist/cli/bin.js');
  });
});
