import { createHash, type Hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { daySeed, drawDay, loadScenario, Rng, SLOTS } from '../../env/index.js';
import { loadCommunity, parseCommunity, type Community } from '../../community/community.js';
import { CommunityEnv } from '../../community/env.js';
import { CommunityVectorEnv } from '../../community/vector.js';

/**
 * Bit-identity guard for the speed work on the community (bench/community.ts): SHA-256 of every
 * observation, mask, reward, summary and day log over a few days, with random actions (so that the
 * caps bind and fallbacks happen). The hashes were taken before the optimisations; any change of a
 * number, however small, changes them. A deliberate change of the env's numbers must update them and
 * say why.
 */

const bytes = (h: Hash, a: Float32Array | Float64Array | Uint8Array | Int32Array) => h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
/** JSON with typed arrays as plain arrays: doubles print in their shortest exact form. */
const json = (x: unknown) => JSON.stringify(x, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));

function tight(homes: number): Community {
  return parseCommunity({
    id: `tight-${homes}`,
    name: 'apartments on a tight feeder',
    description: 'test',
    homes: [{ scenario: 'paper-apartment', id: 'apt', count: homes, vary: { pvPeakKw: [2, 6] } }],
    feeder: { limitKw: 2 * homes },
    peakEurPerKwDay: 0.1,
    market: 'sdr',
  });
}

describe('community bit identity (hashes taken before the speed work)', () => {
  it('the vector form: observations, masks, rewards and summaries over 3 days of 2 copies', () => {
    const v = new CommunityVectorEnv(tight(12), 2);
    const h = createHash('sha256');
    bytes(h, v.reset(11));
    const rng = new Rng(5);
    const actions = new Int32Array(v.n * v.nComponents);
    let ended = 0;
    for (let s = 0; s < 3 * SLOTS + 7; s++) {
      // Any value of each component, allowed or not: the fallbacks are exercised too.
      for (let k = 0; k < v.n; k++) for (let c = 0; c < v.nComponents; c++) actions[k * v.nComponents + c] = rng.int(0, v.view(k).nvec[c] - 1);
      bytes(h, v.step(actions));
      bytes(h, v.observations);
      bytes(h, v.masks);
      bytes(h, v.operatorRewards);
      bytes(h, v.terminated);
      for (const x of v.summaries) if (x) h.update(json(x));
      for (const x of v.communitySummaries) {
        if (!x) continue;
        h.update(json(x));
        ended++;
      }
    }
    expect(ended).toBe(6);
    expect(h.digest('hex')).toBe('57176261abe3aa257048b320f72d6dffdc9665d108fe619c07426c11a361ec80');
  });

  it('the env: observations, rewards, infos and the day log over 2 days of citylearn-9 and a tight community', () => {
    const h = createHash('sha256');
    for (const c of [loadCommunity('citylearn-9'), tight(7)]) {
      const env = new CommunityEnv(c);
      const rng = new Rng(3);
      for (let d = 0; d < 2; d++) {
        const r0 = env.reset({ seed: daySeed(4, d) });
        for (const id of env.possibleAgents) bytes(h, r0.observations[id]);
        for (let t = 0; t < SLOTS; t++) {
          const actions: Record<string, Int32Array> = {};
          for (const id of env.possibleAgents) actions[id] = Int32Array.from(env.actionSpace(id).nvec, (n) => rng.int(0, n - 1));
          const r = env.step(actions);
          h.update(json({ rewards: r.rewards, terminations: r.terminations, op: r.operatorReward }));
          for (const id of env.possibleAgents) {
            bytes(h, r.observations[id]);
            const { home: _home, ...info } = r.infos[id];
            h.update(json(info));
          }
        }
        const { days, ...log } = env.trajectory();
        h.update(json(log));
        h.update(json(days));
        h.update(json(env.state()));
      }
    }
    expect(h.digest('hex')).toBe('10a185125fbd271278dc3617ef23f393f0b85029c6a2ac84874d1ce0986f0ed6');
  });

  it('drawDay: every Day field over 300 days of three scenarios', () => {
    const h = createHash('sha256');
    for (const id of ['paper-apartment', 'citylearn-b1', 'citylearn-b5']) {
      const s = loadScenario(id);
      for (let d = 0; d < 100; d++) h.update(json(drawDay(s, daySeed(13, d))));
    }
    expect(h.digest('hex')).toBe('2be9a3713fcda8620346480c51430c340710d89e223de9173a2770c862b51589');
  });
});
