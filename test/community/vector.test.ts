import { describe, expect, it } from 'vitest';
import { daySeed, flatCodec, loadScenario, Rng, sampleAllowed, type VectorEnv } from '../../env/index.js';
import { flatMasks, unflattenAll } from '../../training/loop.js';
import { drawCommunityDay, loadCommunity, parseCommunity, type Community } from '../../community/community.js';
import { CommunityEnv } from '../../community/env.js';
import { CommunityVectorEnv } from '../../community/vector.js';

function tightCommunity(): Community {
  return parseCommunity({
    id: 'tight-3',
    name: 'Three apartments on a tight feeder',
    description: 'test',
    homes: [{ scenario: 'paper-apartment', id: 'apt', count: 3, vary: { pvPeakKw: [2, 4] } }],
    feeder: { limitKw: 5 },
    peakEurPerKwDay: 0.1,
    market: 'sdr',
  });
}

/**
 * Play `steps` slots of the vector env with random allowed actions, and the same actions through one
 * CommunityEnv per copy reset on the vector's day seeds: every reward, operator reward and summary
 * must be the same number.
 */
function compare(c: Community, nCommunities: number, seed: number, steps: number): { days: number; capped: number } {
  const v = new CommunityVectorEnv(c, nCommunities);
  const n = c.homes.length;
  const envs = Array.from({ length: nCommunities }, () => new CommunityEnv(c));
  v.reset(seed);
  for (let q = 0; q < nCommunities; q++) {
    expect(v.seedOf(q)).toBe(daySeed(seed, q));
    envs[q].reset({ seed: v.seedOf(q) });
  }
  const rng = new Rng(seed);
  const actions = new Int32Array(v.n * v.nComponents);
  let days = 0;
  let capped = 0;
  const round = new Int32Array(nCommunities);
  for (let t = 0; t < steps; t++) {
    for (let k = 0; k < v.n; k++) {
      const view = v.view(k);
      if (view.limitKw < view.contractKw) capped++;
      sampleAllowed(view, rng, actions.subarray(k * v.nComponents, (k + 1) * v.nComponents));
    }
    const rewards = Float64Array.from(v.step(actions));
    for (let q = 0; q < nCommunities; q++) {
      const env = envs[q];
      const dict = Object.fromEntries(env.possibleAgents.map((id, i) => [id, actions.subarray((q * n + i) * v.nComponents, (q * n + i + 1) * v.nComponents)]));
      const r = env.step(dict);
      env.possibleAgents.forEach((id, i) => {
        expect(rewards[q * n + i]).toBe(r.rewards[id]);
        expect(r.infos[id].violations).toBe(0);
      });
      expect(v.operatorRewards[q]).toBe(r.operatorReward);
      const done = env.agents.length === 0;
      expect(v.terminated[q * n]).toBe(done ? 1 : 0);
      if (!done) {
        expect(v.communitySummaries[q]).toBeNull();
        continue;
      }
      days++;
      const want = env.trajectory().summary!;
      expect(v.communitySummaries[q]).toEqual(want);
      env.possibleAgents.forEach((id, i) => {
        const row = v.summaries[q * n + i]!;
        expect(row).toEqual({ ...want.homes[i], return: row.return, community: q });
        expect(row.return).toBeCloseTo(-want.homes[i].score, 9);
      });
      // Autoreset: the vector's next day is this copy's next seed; the env follows it.
      round[q]++;
      const next = daySeed(seed, round[q] * nCommunities + q);
      expect(v.seedOf(q)).toBe(next);
      const { observations } = env.reset({ seed: next });
      env.possibleAgents.forEach((id, i) => expect(v.observations.subarray((q * n + i) * v.obsSize, (q * n + i + 1) * v.obsSize)).toEqual(observations[id]));
    }
  }
  return { days, capped };
}

describe('CommunityVectorEnv', () => {
  it('2 copies of 3 apartments on a tight feeder: the same rewards and summaries as 2 CommunityEnvs, over 2 days each', () => {
    const { days, capped } = compare(tightCommunity(), 2, 11, 2 * 96);
    expect(days).toBe(4);
    // The caps bound: the comparison covered the feeder's joint mask, not only free homes.
    expect(capped).toBeGreaterThan(100);
  });

  it('2 copies of citylearn-9: the same for a day', () => {
    expect(compare(loadCommunity('citylearn-9'), 2, 5, 96).days).toBe(2);
  });

  it("lays rows out as community ⌊k/n⌋, home k mod n, and is the single-home trainer's VectorEnv", () => {
    const c = tightCommunity();
    const v = new CommunityVectorEnv(c, 3);
    const asVector: VectorEnv = v;
    expect([v.n, v.homesPer, v.obsSize, v.nComponents]).toEqual([9, 3, v.cores[0].obsSize[0], 7]);
    expect(asVector.scenario).toBe(c.homes[0].scenario);
    v.reset(2, 5);
    // Resuming at round 5: community q plays day 5·3 + q of the seed's stream.
    expect([0, 1, 2].map((q) => v.seedOf(q))).toEqual([15, 16, 17].map((j) => daySeed(2, j)));
    expect(v.cores[1].days[0].seed).toBe(drawCommunityDay(c, daySeed(2, 16))[0].seed);
    expect(v.view(7)).toBe(v.cores[2].homes[1]);
    expect(v.observations.subarray(7 * v.obsSize, 8 * v.obsSize)).toEqual(v.cores[2].observations.subarray(v.obsSize, 2 * v.obsSize));
    // The DQN loop's way to act: flat masks from the live views, a flat action per row, unflattened.
    const codec = flatCodec(v.scenario);
    const masks = new Uint8Array(v.n * codec.n);
    const flat = new Int32Array(v.n);
    const actions = new Int32Array(v.n * v.nComponents);
    const scratch = new Int32Array(v.nComponents);
    let violations = 0;
    for (let t = 0; t < 96; t++) {
      flatMasks(codec, asVector, masks);
      for (let k = 0; k < v.n; k++) flat[k] = masks.subarray(k * codec.n, (k + 1) * codec.n).lastIndexOf(1);
      asVector.step(unflattenAll(codec, flat, actions, scratch));
      for (const core of v.cores) for (let i = 0; i < core.n; i++) violations += core.violations[i];
    }
    expect(violations).toBe(0);
    expect(v.terminated.every((x) => x === 1)).toBe(true);
    expect(v.summaries.map((s) => s!.community)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });

  it('refuses homes with different observations or actions, naming the first that differs', () => {
    const c = tightCommunity();
    const mixed: Community = { ...c, homes: [...c.homes, { id: 'big', scenario: loadScenario('large-home') }] };
    expect(() => new CommunityVectorEnv(mixed, 2)).toThrow(/home 3 \("big", scenario large-home\) has an observation of \d+ values, home 0 \("apt-1", scenario paper-apartment-pv\dp?\d*\) \d+/);
    expect(() => new CommunityVectorEnv(c, 0)).toThrow(/nCommunities must be a positive integer, got 0/);
  });

  it('refuses actions of the wrong length', () => {
    const v = new CommunityVectorEnv(tightCommunity(), 2);
    v.reset(1);
    expect(() => v.step(new Int32Array(5))).toThrow(/expected 42 actions \(6 rows × 7\), got 5/);
  });
});
