import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommunity } from '../../community/community.js';
import { resolveCommunityConfig } from '../../community/config.js';
import { CommunityEnv } from '../../community/env.js';
import { homeDescriptor } from '../../community/learners.js';
import { loadCommunityRun, trainCommunity } from '../../community/train.js';
import { heldOutDay } from '../../env/index.js';
import { apartments, metricsRows } from './fixtures.js';

const c = apartments(12, 'apts');
const tmp = mkdtempSync(join(tmpdir(), 'rescoin-community-train-'));
const rows = metricsRows;
const fast = { dqn: { learningStarts: 64, hidden: [16], batchSize: 16 } };

describe('community training', () => {
  it('the learned rewards sum to −(community J): each home gets its share of the operator’s', async () => {
    const out = join(tmp, 'q-share');
    await trainCommunity({ community: c, algorithm: 'qlearning', episodes: 3, seed: 2, out });
    for (const r of rows(out)) expect(Number(r[7])).toBeCloseTo(-Number(r[2]), 9); // return = −score
    const own = join(tmp, 'q-own');
    await trainCommunity({ community: c, algorithm: 'qlearning', episodes: 1, seed: 2, out: own, overrides: { operatorShare: false } });
    const [r] = rows(own);
    // Without the share the homes' rewards miss exactly the operator's term.
    expect(Number(r[7])).toBeCloseTo(-Number(r[2]) + Number(r[3]), 9);
  });

  it('a resumed run is the run that never stopped (Q-learning and DQN)', async () => {
    for (const algorithm of ['qlearning', 'dqn'] as const) {
      const whole = join(tmp, `${algorithm}-whole`);
      const parts = join(tmp, `${algorithm}-parts`);
      await trainCommunity({ community: c, algorithm, episodes: 4, seed: 3, out: whole, overrides: fast });
      await trainCommunity({ community: c, algorithm, episodes: 4, seed: 3, out: parts, overrides: fast, stopAfter: 2 });
      expect(rows(parts)).toHaveLength(2);
      await trainCommunity({ community: c, algorithm, episodes: 4, seed: 3, out: parts, resume: true });
      const cut = (x: string[][]) => x.map((r) => r.slice(0, 11));
      expect(cut(rows(parts)), algorithm).toEqual(cut(rows(whole)));
    }
  });

  it('the learned policies play a held-out day inside every mask; another community is refused', async () => {
    const dir = join(tmp, 'dqn-whole');
    const run = await loadCommunityRun(dir, c, 'dqn');
    expect(run.policies).toHaveLength(3);
    const env = new CommunityEnv(c);
    let { observations, infos } = env.reset({ seed: heldOutDay(0) });
    let violations = 0;
    while (env.agents.length) {
      const actions = Object.fromEntries(env.possibleAgents.map((id, i) => [id, run.policies[i].act(observations[id], { ...infos[id], day: undefined })]));
      const r = env.step(actions);
      observations = r.observations;
      infos = r.infos;
      for (const id of env.possibleAgents) violations += infos[id].violations;
    }
    run.dispose();
    expect(violations).toBe(0);
    const other = parseCommunity({ id: 'apts', name: 'apts', description: 'test', homes: [{ scenario: 'paper-apartment', id: 'apt', count: 3 }], feeder: { limitKw: 12 }, peakEurPerKwDay: 0.1, market: 'sdr' });
    await expect(loadCommunityRun(dir, other, 'dqn')).rejects.toThrow(/was trained on community .* \(hash [0-9a-f]+\), not on apts/);
    // A network that does not read what the env (and the descriptor) give now is refused.
    const edited = join(tmp, 'dqn-edited');
    cpSync(dir, edited, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(edited, 'config.json'), 'utf8'));
    cfg.config.descriptor = false;
    writeFileSync(join(edited, 'config.json'), JSON.stringify(cfg));
    await expect(loadCommunityRun(edited, c, 'dqn')).rejects.toThrow(/trained on 47 features, but the env and descriptor now give 45/);
  });

  it('config: documented defaults, overrides per field, errors naming the field and value', () => {
    const d = resolveCommunityConfig();
    expect([d.dqn.teacher, d.dqn.validateEvery, d.descriptor, d.operatorShare]).toEqual(['none', 0, true, true]);
    expect(resolveCommunityConfig({ dqn: { learningRate: 0.01 } }).dqn.learningRate).toBe(0.01);
    expect(resolveCommunityConfig({ dqn: { learningRate: 0.01 } }).dqn.teacher).toBe('none');
    expect(() => resolveCommunityConfig({ dqn: { learningRate: -1 } })).toThrow(/dqn.learningRate/);
    expect(() => resolveCommunityConfig({ descriptr: true })).toThrow(/descriptr/);
    expect(homeDescriptor(c, 0)).toEqual([c.homes[0].scenario.pv.peakKw / 10, 6 / 20]);
  });
});
