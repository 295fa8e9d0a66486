import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../env/rng.js';
import { initBackend } from '../../models/backend.js';
import { maskedArgmax, type Transition } from '../../agents/agent.js';
import { dqnConfig, type DqnConfig } from '../../agents/config.js';
import { DqnAgent, tdLoss, tdTargets, type Batch } from '../../agents/dqn.js';

// These tests are of DQN's own learning: no teacher (its default is the MPC, agents/config.ts).
const config = (over: Partial<DqnConfig>): DqnConfig => dqnConfig.parse({ teacher: 'none', ...over });

/** A random mask with at least one allowed action. */
function randomMask(rng: Rng, n: number, p = 0.4): Uint8Array {
  const m = new Uint8Array(n);
  for (let a = 0; a < n; a++) m[a] = rng.bernoulli(p) ? 1 : 0;
  m[rng.int(0, n - 1)] = 1;
  return m;
}

/** Random transitions with a random allowed action, ending a "day" with probability 0.1. */
function transitions(seed: number, obsSize: number, nActions: number) {
  const rng = new Rng(seed);
  const obs = () => Float32Array.from({ length: obsSize }, () => rng.float());
  return (): Transition => {
    const mask = randomMask(rng, nActions);
    let action = rng.int(0, nActions - 1);
    while (!mask[action]) action = rng.int(0, nActions - 1);
    return { obs: obs(), action, reward: rng.normal() * 0.01, nextObs: obs(), nextMask: randomMask(rng, nActions), done: rng.bernoulli(0.1) };
  };
}

const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'rescoin-dqn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DQN targets and loss, by hand', () => {
  // obs 2 → hidden [2] (identity kernel, zero bias: h = relu(x)) → 3 actions, no dueling.
  //   online: Q = [h1, h2, 2·h1 − h2]
  //   target: Q = [2·h1 + h2, h1 + 3·h2, h2 + 0.5]
  let agent: DqnAgent;
  beforeAll(() => {
    agent = new DqnAgent({ obsSize: 2, nActions: 3, config: config({ hidden: [2], dueling: false, gamma: 0.9, batchSize: 4 }), seed: 1, totalSteps: 100 });
    const set = (m: tf.LayersModel, k2: number[], b2: number[]) => {
      const w = [tf.tensor2d([1, 0, 0, 1], [2, 2]), tf.zeros([2]), tf.tensor2d(k2, [2, 3]), tf.tensor1d(b2)];
      m.setWeights(w);
      tf.dispose(w);
    };
    set(agent.online, [1, 0, 2, 0, 1, -1], [0, 0, 0]);
    set(agent.target, [2, 1, 0, 1, 3, 1], [0, 0, 0.5]);
  });
  afterAll(() => agent.dispose());

  const batch: Batch = {
    n: 4,
    obs: Float32Array.from([1, 2, 3, 1, 0.5, 0.5, 2.6, 0]),
    actions: Int32Array.from([2, 0, 1, 0]),
    rewards: Float32Array.from([1, -0.5, 2, 3]),
    nextObs: Float32Array.from([1, 2, 3, 1, -1, 2, 5, 5]),
    nextMasks: Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0]),
    dones: Uint8Array.from([0, 0, 0, 1]),
  };
  // s'1 = (1, 2):  online [1, 2, 0] → a* = 1;            target [4, 7, 2.5]  → double 7,   max 7
  // s'2 = (3, 1):  online [3, 1, 5], mask {0, 2} → a* = 2; target [7, 6, 1.5] → double 1.5, masked max 7
  // s'3 = (−1, 2): h = (0, 2), online [0, 2, −2], mask {0, 2} → a* = 0 (unmasked it would be 1);
  //                target [2, 6, 2.5] → double 2, masked max 2.5 (unmasked 6)
  // s'4: done, and its mask is empty → no bootstrap (and no NaN from max over nothing)
  // y = r + 0.9 · value, value 0 for s'4
  const double = [7.3, 0.85, 3.8, 3]; // 1 + 0.9·7, −0.5 + 0.9·1.5, 2 + 0.9·2, 3
  const plain = [7.3, 5.8, 4.25, 3]; // 1 + 0.9·7, −0.5 + 0.9·7, 2 + 0.9·2.5, 3
  const expectClose = (t: tf.Tensor, want: number[]) => {
    const got = Array.from(t.dataSync());
    t.dispose();
    expect(got).toHaveLength(want.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  };

  it('Double DQN target: online masked argmax, target value', () => {
    expectClose(tdTargets(agent.online, agent.target, batch, 0.9, true), double);
  });

  it('plain target: masked max of the target net', () => {
    expectClose(tdTargets(agent.online, agent.target, batch, 0.9, false), plain);
  });

  it('n-step rows bootstrap with γ^horizon', () => {
    // The same rows with horizons 1, 3, 2, 1: only the discounts of rows 2 and 3 change.
    const nStep = { ...batch, horizons: Uint8Array.from([1, 3, 2, 1]) };
    expectClose(tdTargets(agent.online, agent.target, nStep, 0.9, true), [7.3, -0.5 + 0.729 * 1.5, 2 + 0.81 * 2, 3]);
  });

  it('n-step returns: each home queues n transitions; the day flushes them, shortened', () => {
    const a = new DqnAgent({ obsSize: 2, nActions: 3, config: config({ hidden: [2], nStep: 3, gamma: 0.5, rewardScale: 10, learningStarts: 1000 }), seed: 1, totalSteps: 100 });
    const o = (x: number) => Float32Array.from([x, -x]);
    const m = Uint8Array.from([1, 1, 1]);
    // Home 0 plays 4 slots (rewards 1, 2, 4, 8, the last ends its day); home 1 plays 1 slot between.
    const t = (home: number, k: number, r: number, done: boolean): Transition => ({ obs: o(10 * home + k), action: k % 3, reward: r, nextObs: o(10 * home + k + 1), nextMask: done ? new Uint8Array(3) : m, done, stream: home });
    a.learn(t(0, 0, 1, false));
    a.learn(t(1, 0, 100, false));
    a.learn(t(0, 1, 2, false));
    expect(a.buffer.size).toBe(0);
    a.learn(t(0, 2, 4, false)); // home 0 has 3 queued: the oldest enters with 1 + 0.5·2 + 0.25·4 = 3
    expect(a.buffer.size).toBe(1);
    a.learn(t(0, 3, 8, true)); // the day ends: 2 + 0.5·4 + 0.25·8 = 6 (h 3), 4 + 0.5·8 = 8 (h 2), 8 (h 1, done)
    const b = a.buffer;
    expect(b.size).toBe(4);
    expect(Array.from(b.rewards.subarray(0, 4))).toEqual([30, 60, 80, 80]);
    expect(Array.from(b.horizons.subarray(0, 4))).toEqual([3, 3, 2, 1]);
    expect(Array.from(b.dones.subarray(0, 4))).toEqual([0, 1, 1, 1]);
    expect(Array.from(b.obs.subarray(0, 8))).toEqual([0, -0, 1, -1, 2, -2, 3, -3]);
    expect(Array.from(b.nextObs.subarray(0, 8))).toEqual([3, -3, 4, -4, 4, -4, 4, -4]);
    expect(Array.from(b.actions.subarray(0, 4))).toEqual([0, 1, 2, 0]);
    expect(a.steps).toBe(5);
    a.dispose();
  });

  it('Huber loss of Q(s, a) picked by a one-hot mask', () => {
    // Q(s, a): (1,2) a=2 → 0; (3,1) a=0 → 3; (0.5,0.5) a=1 → 0.5; (2.6,0) a=0 → 2.6
    // |y − Q| = 7.3, 2.15, 3.3, 0.4 → Huber 6.8, 1.65, 2.8, 0.08 → mean 2.8325
    expectClose(tf.tidy(() => tdLoss(agent.online, tf.tensor2d(batch.obs, [4, 2]), tf.tensor1d(batch.actions, 'int32'), tf.tensor1d(double))), [2.8325]);
  });

  it('stores rewards times rewardScale', () => {
    const a = new DqnAgent({ obsSize: 2, nActions: 3, config: config({ hidden: [2], rewardScale: 100 }), seed: 1, totalSteps: 100 });
    a.learn({ obs: new Float32Array(2), action: 1, reward: -0.0123, nextObs: new Float32Array(2), nextMask: Uint8Array.from([1, 1, 0]), done: false });
    expect(a.buffer.rewards[0]).toBeCloseTo(-1.23, 5);
    a.dispose();
  });
});

describe('DQN training on the WASM backend', () => {
  it('one update runs on wasm and changes the online weights, not the target', () => {
    expect(tf.getBackend()).toBe('wasm');
    const agent = new DqnAgent({ obsSize: 5, nActions: 6, config: config({ hidden: [16, 16], batchSize: 8, learningStarts: 8, trainFrequency: 1 }), seed: 3, totalSteps: 1000 });
    const next = transitions(4, 5, 6);
    for (let i = 0; i < 8; i++) expect(agent.learn(next())).toBeNull();
    const before = weights(agent.online);
    const loss = agent.learn(next());
    expect(agent.updates).toBe(1);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(0);
    const after = weights(agent.online);
    expect(after).not.toEqual(before);
    expect(weights(agent.target)).toEqual(before);
    agent.dispose();
  });

  it('wasm matMul with transposed operands (the backprop products) matches a hand loop', () => {
    const rng = new Rng(2);
    const [m, k, n] = [5, 4, 3];
    const a = Float32Array.from({ length: m * k }, () => rng.normal());
    const b = Float32Array.from({ length: k * n }, () => rng.normal());
    const want = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) want[i * n + j] += a[i * k + p] * b[p * n + j];
    const got = tf.tidy(() => {
      const [ta, tb] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])];
      return [tf.matMul(ta, tb), tf.matMul(ta.transpose(), tb, true, false), tf.matMul(ta, tb.transpose(), false, true), tf.matMul(ta.transpose(), tb.transpose(), true, true)];
    });
    for (const t of got) Array.from(t.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    tf.dispose(got);
  });

  it.each([
    ['hard target, dueling', { tau: 1, targetUpdateSteps: 7, dueling: true }],
    ['Polyak target, no dueling', { tau: 0.05, dueling: false }],
  ])('tensor count stays flat over 500 updates (%s)', (_name, over) => {
    const agent = new DqnAgent({ obsSize: 6, nActions: 8, config: config({ hidden: [16], batchSize: 16, learningStarts: 0, trainFrequency: 1, ...over }), seed: 5, totalSteps: 1000 });
    const next = transitions(6, 6, 8);
    const obs = new Float32Array(4 * 6).fill(0.5);
    const masks = new Uint8Array(4 * 8).fill(1);
    let after10: number[] = [];
    while (agent.updates < 500) {
      agent.learn(next());
      agent.actBatch(obs, masks, 4, true);
      if (agent.updates === 10 && after10.length === 0) after10 = [tf.memory().numTensors, tf.backend().numDataIds()];
    }
    // The backend's buffers too: a leak inside a kernel shows there, not in the tensor count.
    expect([tf.memory().numTensors, tf.backend().numDataIds()]).toEqual(after10);
    agent.dispose();
  });
});

describe('DQN checkpoints', () => {
  it('save → load: same Q-values, same next actions, counters continue', async () => {
    const cfg = config({ hidden: [16, 16], batchSize: 16, bufferSize: 200, learningStarts: 50, trainFrequency: 2, targetUpdateSteps: 20 });
    const a = new DqnAgent({ obsSize: 5, nActions: 6, config: cfg, seed: 9, totalSteps: 1000 });
    const next = transitions(10, 5, 6);
    for (let i = 0; i < 300; i++) a.learn(next()); // the buffer wraps (capacity 200)
    await a.save(join(dir, 'ckpt'));
    const b = await DqnAgent.load(join(dir, 'ckpt'));

    expect([b.steps, b.updates, b.epsilon]).toEqual([300, 125, a.epsilon]);
    expect([b.buffer.size, b.buffer.pos]).toEqual([200, 100]);
    expect(b.buffer.nextMasks).toEqual(a.buffer.nextMasks);
    const probe = Float32Array.from({ length: 20 * 5 }, (_, i) => Math.sin(i));
    expect(b.qValues(probe, 20)).toEqual(a.qValues(probe, 20));
    expect(weights(b.target)).toEqual(weights(a.target));

    // The same transitions and the same calls from here on: same actions, same losses.
    const masks = new Uint8Array(20 * 6);
    masks.set(Array.from({ length: 20 }, (_, i) => randomMask(new Rng(i), 6)).flatMap((m) => Array.from(m)));
    for (let i = 0; i < 100; i++) {
      const t = next();
      expect(b.actBatch(probe, masks, 20, true)).toEqual(a.actBatch(probe, masks, 20, true));
      const [la, lb] = [a.learn(t), b.learn(t)];
      if (la === null) expect(lb).toBeNull();
      // Adam.setWeights recomputes β^t with pow instead of t products: equal to float rounding.
      else expect(lb).toBeCloseTo(la, 4);
    }
    expect([b.steps, b.updates]).toEqual([400, 175]);
    const [qa, qb] = [a.qValues(probe, 20), b.qValues(probe, 20)];
    qb.forEach((q, i) => expect(q).toBeCloseTo(qa[i], 3));

    const p = await DqnAgent.loadPolicyOnly(join(dir, 'ckpt'));
    const greedy = (x: DqnAgent) => x.actBatch(probe, masks, 20, false);
    const c = await DqnAgent.load(join(dir, 'ckpt'));
    expect(greedy(p)).toEqual(greedy(c));
    // A policy-only save (a run's model/) holds no buffer, acts the same, and cannot resume.
    await c.save(join(dir, 'policy'), { policyOnly: true });
    expect(existsSync(join(dir, 'policy', 'replay'))).toBe(false);
    const q = await DqnAgent.loadPolicyOnly(join(dir, 'policy'));
    expect(q.qValues(probe, 20)).toEqual(c.qValues(probe, 20));
    await expect(DqnAgent.load(join(dir, 'policy'))).rejects.toThrow(/policy-only save.*cannot resume/);
    for (const x of [a, b, c, p, q]) x.dispose();
  });

  it('a loaded agent learns bit for bit as the one that never stopped (Adam β₁ᵗ, β₂ᵗ as products, not a power)', async () => {
    const cfg = config({ hidden: [16], batchSize: 16, bufferSize: 200, learningStarts: 20, trainFrequency: 1, targetUpdateSteps: 10 });
    const a = new DqnAgent({ obsSize: 5, nActions: 6, config: cfg, seed: 4, totalSteps: 1000 });
    const next = transitions(5, 5, 6);
    for (let i = 0; i < 300; i++) a.learn(next());
    await a.save(join(dir, 'exact'));
    const b = await DqnAgent.load(join(dir, 'exact'));
    // Adam's running β powers (private in tfjs): 0.999^(t+1) as a float32 power differs from the product at most t.
    const powers = (x: DqnAgent) => {
      const o = (x as unknown as { optimizer: { accBeta1: tf.Variable; accBeta2: tf.Variable } }).optimizer;
      return [o.accBeta1.dataSync()[0], o.accBeta2.dataSync()[0]];
    };
    expect(a.updates).toBe(280);
    expect(powers(b)).toEqual(powers(a));
    for (let i = 0; i < 100; i++) {
      const t = next();
      const [la, lb] = [a.learn(t), b.learn(t)];
      expect(la).not.toBeNull();
      expect(lb).toBe(la);
    }
    expect(weights(b.online)).toEqual(weights(a.online));
    expect(b.updates).toBe(a.updates);
    a.dispose();
    b.dispose();
  });
});

describe('DQN actions', () => {
  const cfg = config({ hidden: [16], epsilonStart: 0.5, epsilonEnd: 0.5 });

  it('act and actBatch stay inside the mask; greedy is the masked argmax of Q', () => {
    const agent = new DqnAgent({ obsSize: 4, nActions: 20, config: cfg, seed: 11, totalSteps: 1000 });
    const rng = new Rng(12);
    for (let draw = 0; draw < 1000; draw++) {
      const obs = Float32Array.from({ length: 8 * 4 }, () => rng.float());
      const masks = new Uint8Array(8 * 20);
      for (let i = 0; i < 8; i++) masks.set(randomMask(rng, 20, 0.2), i * 20);
      const one = masks.subarray(0, 20);
      for (const explore of [true, false]) expect(one[agent.act(obs, one, explore)]).toBe(1);
      const batch = agent.actBatch(obs, masks, 8, draw % 2 === 0);
      batch.forEach((a, i) => expect(masks[i * 20 + a]).toBe(1));
      if (draw % 100 === 0) {
        const q = agent.qValues(obs, 8);
        const greedy = agent.actBatch(obs, masks, 8, false);
        greedy.forEach((a, i) => expect(a).toBe(maskedArgmax(q, masks.subarray(i * 20, (i + 1) * 20), i * 20)));
      }
    }
    agent.dispose();
  });

  it('same seed, same actions', () => {
    const run = (seed: number) => {
      const agent = new DqnAgent({ obsSize: 4, nActions: 20, config: cfg, seed, totalSteps: 1000 });
      const rng = new Rng(13);
      const out: number[] = [];
      for (let draw = 0; draw < 200; draw++) {
        const obs = Float32Array.from({ length: 4 }, () => rng.float());
        out.push(agent.act(obs, randomMask(rng, 20), true));
      }
      agent.dispose();
      return out;
    };
    expect(run(21)).toEqual(run(21));
    expect(run(21)).not.toEqual(run(22));
  });
});
