import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCommunityConfig } from '../../community/config.js';
import { CommunityEnv } from '../../community/env.js';
import { codecsOf } from '../../community/learners.js';
import { communityPolicies } from '../../community/play.js';
import { trainCommunity } from '../../community/train.js';
import { trainingDay } from '../../env/index.js';
import { apartments, metricsRows } from './fixtures.js';

const c = apartments(12, 'apts');
const tmp = mkdtempSync(join(tmpdir(), 'rescoin-community-teacher-'));
const rows = metricsRows;
const teacher = { teacher: 'precharge', teacherEpisodes: 2, dqn: { learningStarts: 64, hidden: [16], batchSize: 16 } };

/** The pre-charge rule's days of the run seed: each day's J and each home's flat action per slot where its mask allows it. */
function ruleDays(seed: number, episodes: number): { scores: number[]; labels: number[] } {
  const env = new CommunityEnv(c);
  const rules = communityPolicies(c, 'precharge');
  const codecs = codecsOf(c);
  const ids = env.possibleAgents;
  const scores: number[] = [];
  const labels: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let { observations, infos } = env.reset({ seed: trainingDay(seed, e) });
    while (env.agents.length) {
      const actions: Record<string, ArrayLike<number>> = {};
      ids.forEach((id, i) => {
        const a = rules[i].act(observations[id].subarray(0, env.core.homeObsSize[i]), infos[id]);
        actions[id] = a;
        const flat = codecs[i].flatten(a);
        if (codecs[i].flatMask(infos[id].home)[flat] === 1) labels.push(flat);
      });
      const r = env.step(actions);
      observations = r.observations;
      infos = r.infos;
    }
    scores.push(env.trajectory().summary!.score);
  }
  return { scores, labels };
}

describe('community DQN with the pre-charge teacher', () => {
  it("the rule plays the teacher's days and its actions are the labels; same seed, same run", async () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    await trainCommunity({ community: c, algorithm: 'dqn', episodes: 3, seed: 4, out: a, overrides: teacher });
    await trainCommunity({ community: c, algorithm: 'dqn', episodes: 3, seed: 4, out: b, overrides: teacher });
    const want = ruleDays(4, 2);
    const got = rows(a);
    // The first two days are the rule's days, J for J.
    expect(got.slice(0, 2).map((r) => Number(r[2]))).toEqual(want.scores);
    const labels = new Int32Array(new Uint8Array(readFileSync(join(a, 'checkpoint', 'demo', 'actions.bin'))).buffer);
    // 2 days × 96 slots × 3 homes, less any forced action outside the mask.
    expect(labels.length).toBe(want.labels.length);
    expect(labels.length).toBeGreaterThan(2 * 96 * 3 * 0.9);
    expect(Array.from(labels)).toEqual(want.labels);
    // Day 3 is the network's own (ε-greedy), not the rule's.
    expect(Number(got[2][2])).not.toBe(ruleDays(4, 3).scores[2]);
    // Column 12 is the elapsed time.
    const cut = (x: string[][]) => x.map((r) => [...r.slice(0, 12), ...r.slice(13)]);
    expect(cut(rows(b))).toEqual(cut(got));
    // Stopped on the last teacher's day and resumed (the labels come back from the checkpoint): the same run.
    const parts = join(tmp, 'parts');
    await trainCommunity({ community: c, algorithm: 'dqn', episodes: 3, seed: 4, out: parts, overrides: teacher, stopAfter: 2 });
    await trainCommunity({ community: c, algorithm: 'dqn', episodes: 3, seed: 4, out: parts, resume: true });
    expect(cut(rows(parts))).toEqual(cut(got));
  });

  it('config: the rule teaches by default, its fields are validated by name', () => {
    const d = resolveCommunityConfig();
    expect([d.teacher, d.teacherEpisodes, d.imitationWeight, d.dqn.teacher]).toEqual(['precharge', 40, 1, 'none']);
    expect(resolveCommunityConfig({ teacher: 'none' }).teacher).toBe('none');
    expect(() => resolveCommunityConfig({ teacher: 'mpc' })).toThrow(/teacher/);
    expect(() => resolveCommunityConfig({ teacherEpisodes: 0 })).toThrow(/teacherEpisodes/);
  });
});
