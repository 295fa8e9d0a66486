import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daySeed, listScenarios, loadScenario, makeEnv, Rng, type Policy } from '../../env/index.js';
import { asapPolicy, cheapestPolicy } from '../../baseline/index.js';

/**
 * Golden trajectories (issue 11): 20 days of every shipped scenario under asap, cheapest and a
 * seeded random masked policy, recorded before the home controller moved to runtime/. Each day is
 * kept as SHA-256 digests of its raw observation, mask and reward bytes (float32, uint8, float64,
 * little-endian) plus its info.day in full, so "the same" means bit for bit. Rewrite the file with
 * GOLDEN_RECORD=1 only when a change of the rules is meant to change them, and say so in the commit.
 */
const FILE = join(import.meta.dirname, '..', 'fixtures', 'golden-trajectories.json');
const DAYS = 20;

/** Uniform over each component's allowed values, from one seeded stream per day. */
function randomMasked(seed: number): Policy {
  const rng = new Rng(seed);
  let out = new Int32Array(0);
  return {
    name: 'random',
    act(_obs, info) {
      const nvec = info.home.nvec;
      if (out.length !== nvec.length) out = new Int32Array(nvec.length);
      let off = 0;
      for (let c = 0; c < nvec.length; c++) {
        const allowed: number[] = [];
        for (let v = 0; v < nvec[c]; v++) if (info.actionMask[off + v]) allowed.push(v);
        out[c] = allowed[rng.int(0, allowed.length - 1)];
        off += nvec[c];
      }
      return out;
    },
  };
}

interface GoldenDay {
  observations: string;
  masks: string;
  rewards: string;
  day: unknown;
}

function record(scenarioId: string, policyName: string): GoldenDay[] {
  const s = loadScenario(scenarioId);
  const env = makeEnv(s);
  const days: GoldenDay[] = [];
  for (let d = 0; d < DAYS; d++) {
    const seed = daySeed(4242, d);
    const policy = policyName === 'asap' ? asapPolicy() : policyName === 'cheapest' ? cheapestPolicy(s) : randomMasked(seed);
    const obs = createHash('sha256');
    const masks = createHash('sha256');
    const rewards = new Float64Array(96);
    let { observation, info } = env.reset({ seed });
    for (let t = 0; ; t++) {
      obs.update(new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength));
      masks.update(info.actionMask);
      const r = env.step(policy.act(observation, info));
      rewards[t] = r.reward;
      observation = r.observation;
      info = r.info;
      if (r.terminated) break;
    }
    obs.update(new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength));
    days.push({
      observations: obs.digest('hex'),
      masks: masks.digest('hex'),
      rewards: createHash('sha256').update(new Uint8Array(rewards.buffer)).digest('hex'),
      day: JSON.parse(JSON.stringify(info.day)),
    });
  }
  return days;
}

const POLICIES = ['asap', 'cheapest', 'random'];

describe('golden trajectories', () => {
  if (process.env.GOLDEN_RECORD === '1') {
    it('records test/fixtures/golden-trajectories.json', () => {
      const all: Record<string, Record<string, GoldenDay[]>> = {};
      for (const id of listScenarios()) all[id] = Object.fromEntries(POLICIES.map((p) => [p, record(id, p)]));
      writeFileSync(FILE, `${JSON.stringify(all, null, 1)}\n`);
    });
    return;
  }
  const golden = existsSync(FILE) ? (JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Record<string, GoldenDay[]>>) : {};
  it('covers every shipped scenario', () => {
    expect(Object.keys(golden).sort()).toEqual(listScenarios().sort());
  });
  for (const id of Object.keys(golden))
    for (const p of POLICIES)
      it(`${id} under ${p}: observations, masks, rewards and info.day are bit-identical on ${DAYS} days`, () => {
        const now = record(id, p);
        for (let d = 0; d < DAYS; d++) {
          const want = golden[id][p][d];
          expect({ dayIndex: d, ...now[d] }).toEqual({ dayIndex: d, ...want });
        }
      });
});
