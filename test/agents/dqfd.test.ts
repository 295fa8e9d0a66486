import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../env/rng.js';
import { initBackend } from '../../models/backend.js';
import { dqnConfig } from '../../agents/config.js';
import { DqnAgent } from '../../agents/dqn.js';
import { DemoBuffer, imitationLoss, type DemoBatch } from '../../agents/dqfd.js';

let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'rescoin-dqfd-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Two labelled states over 3 actions: Q rows, masks and labels solved by hand below. */
const q = () => tf.tensor2d([[1, 2, 5], [0, 3, -1]], [2, 3]);
const batch: DemoBatch = { n: 2, obs: new Float32Array(0), masks: Uint8Array.from([1, 1, 0, 1, 1, 1]), actions: Int32Array.from([0, 2]) };

describe('imitation losses (agents/dqfd.ts)', () => {
  it('cross-entropy over the allowed actions only, against a hand computation', () => {
    // Row 1: action 2 masked, so −log(e¹ / (e¹ + e²)); row 2: −log(e⁻¹ / (e⁰ + e³ + e⁻¹)).
    const row1 = -Math.log(Math.exp(1) / (Math.exp(1) + Math.exp(2)));
    const row2 = -Math.log(Math.exp(-1) / (Math.exp(0) + Math.exp(3) + Math.exp(-1)));
    const loss = imitationLoss(q(), batch, 'cross-entropy', 0.8);
    expect(loss.dataSync()[0]).toBeCloseTo((row1 + row2) / 2, 5);
  });

  it("DQfD's large margin: max over the mask of Q + margin·(a ≠ a_E), minus Q(a_E)", () => {
    // Row 1: max(1 + 0, 2 + 0.8) − 1 = 1.8 (the masked 5 does not count); row 2: max(0.8, 3.8, −1) − (−1) = 4.8.
    expect(imitationLoss(q(), batch, 'margin', 0.8).dataSync()[0]).toBeCloseTo((1.8 + 4.8) / 2, 5);
    // A label that leads every allowed action by the margin costs nothing.
    const lead: DemoBatch = { ...batch, masks: Uint8Array.from([0, 1, 1, 1, 0, 0]), actions: Int32Array.from([2, 0]) };
    expect(imitationLoss(q(), lead, 'margin', 0.8).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('a label the mask forbids is refused', () => {
    const b = new DemoBuffer(4, 2, 3);
    expect(() => b.add(new Float32Array(2), Uint8Array.from([1, 0, 1]), 1)).toThrow(/not an allowed action/);
  });
});

describe('DQN learning from labels', () => {
  it('pure imitation (tdWeight 0) learns a labelled rule; the labels survive save and load', async () => {
    const config = dqnConfig.parse({ teacher: 'mpc', tdWeight: 0, imitationLoss: 'cross-entropy', hidden: [32], learningStarts: 0, trainFrequency: 1, batchSize: 32, learningRate: 1e-2 });
    const agent = new DqnAgent({ obsSize: 2, nActions: 3, config, seed: 3, totalSteps: 10_000 });
    const rng = new Rng(9);
    // The teacher's rule: the action is which third of [0, 1) the first feature is in; action 1 is sometimes masked.
    const rule = (x: number) => Math.min(2, Math.floor(x * 3));
    const state = () => {
      const obs = Float32Array.from([rng.float(), rng.float()]);
      const mask = Uint8Array.from([1, rule(obs[0]) === 1 || rng.float() < 0.5 ? 1 : 0, 1]);
      return { obs, mask };
    };
    for (let k = 0; k < 1500; k++) {
      const { obs, mask } = state();
      agent.learnDemo(obs, mask, rule(obs[0]));
      agent.learn({ obs, action: 0, reward: 0, nextObs: obs, nextMask: mask, done: true });
    }
    let agree = 0;
    for (let k = 0; k < 300; k++) {
      const { obs, mask } = state();
      const a = agent.act(obs, mask, false);
      expect(mask[a]).toBe(1);
      if (a === rule(obs[0])) agree++;
    }
    expect(agree / 300).toBeGreaterThan(0.9);
    await agent.save(join(dir, 'ck'));
    const back = await DqnAgent.load(join(dir, 'ck'));
    expect(back.demos.size).toBe(agent.demos.size);
    expect(Array.from(back.demos.actions.subarray(0, 1500))).toEqual(Array.from(agent.demos.actions.subarray(0, 1500)));
    expect(Array.from(back.demos.obs.subarray(0, 3000))).toEqual(Array.from(agent.demos.obs.subarray(0, 3000)));
    const probe = Float32Array.from([0.5, 0.5]);
    expect(Array.from(back.qValues(probe))).toEqual(Array.from(agent.qValues(probe)));
    agent.dispose();
    back.dispose();
  });

  it('an agent without a teacher refuses labels', () => {
    const agent = new DqnAgent({ obsSize: 2, nActions: 3, config: dqnConfig.parse({ teacher: 'none', hidden: [4] }), seed: 1, totalSteps: 10 });
    expect(() => agent.learnDemo(new Float32Array(2), Uint8Array.from([1, 1, 1]), 0)).toThrow(/teacher 'none'/);
    agent.dispose();
  });
});
