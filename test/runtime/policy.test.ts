import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../models/backend.js';
import { buildQNet, saveQNet } from '../../models/qnet.js';
import { decodeTensor, halfToFloat, loadPolicy, makeTableKey, POLICY_FORMAT, POLICY_VERSION, type PolicyManifest } from '../../runtime/index.js';
import { floatToHalf, quantizeModel, quantizeUint8 } from '../../models/weights.js';
import { maskedArgmax } from '../../agents/agent.js';
import { QLearningAgent } from '../../agents/qlearning.js';
import { qlearningConfig } from '../../agents/config.js';
import { loadScenario, makeEnv, observationLayout, Rng, sampleAllowed } from '../../env/index.js';

/**
 * The runtime on its own: networks read from the tfjs layers format against tfjs itself, the
 * quantised formats against tfjs's decoder, the Q-table key against the trainer's, and every refusal.
 * (test/training/export.test.ts checks exported runs against the trainer's policies.)
 */

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
let root: string;

beforeAll(async () => {
  await initBackend('wasm');
  root = mkdtempSync(join(tmpdir(), 'rescoin-runtime-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A manifest for a network of obsSize inputs and 2·levels actions: one appliance and an EV with `levels` levels. */
function manifest(obsSize: number, levels: number, files: string[], dir: string): PolicyManifest {
  return {
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    createdAt: 'test',
    generatedBy: 'test',
    run: { name: 'test', seed: 0, episodes: 0 },
    scenario: { id: 'test', name: 'test', hash: '0' },
    algorithm: 'dqn',
    config: {},
    observation: { size: obsSize, dtype: 'float32', features: Array.from({ length: obsSize }, (_, i) => ({ name: `f${i}`, unit: '-', scaling: '-', low: 0, high: 1 })) },
    action: {
      n: 2 * levels,
      nvec: [2, levels],
      encoding: 'test',
      appliances: [{ device: 'heater', name: 'Heater', kind: 'interruptible', cycleKw: [1, 2] }],
      ev: { device: 'ev', levels: Array.from({ length: levels }, (_, k) => ({ command: k === 0 ? 'idle' : 'charge', powerKw: 1.5 * k })) },
    },
    home: { contractKw: 6, pvPeakKw: 3, maxPriceKwh: 0.1, priceKwh: new Array(96).fill(0.1), ev: null },
    weights: { format: 'tfjs-layers', quantization: 'none', files: files.map((path) => ({ path, bytes: readFileSync(join(dir, path)).byteLength, sha256: sha(join(dir, path)) })) },
    checks: [],
    evaluation: null,
  };
}

const writeManifest = (dir: string, m: PolicyManifest) => writeFileSync(join(dir, 'policy.json'), JSON.stringify(m));

/** A random network saved as a policy folder; observations are sparse like the environment's. */
async function networkFolder(name: string, hidden: number[], dueling: boolean, obsSize = 9, levels = 5, quantize: 'none' | 'float16' | 'uint8' = 'none') {
  const rng = new Rng(hidden.length * 100 + hidden[0] + (dueling ? 1 : 0));
  const model = buildQNet({ obsSize, nActions: 2 * levels, hidden, dueling }, () => rng.float(), name);
  // Nonzero biases, so that a mix-up of bias and kernel cannot pass.
  model.setWeights(model.getWeights().map((w) => (w.rank === 1 ? tf.randomUniform(w.shape, -0.3, 0.3, 'float32', 7) : w)));
  const src = join(root, `${name}-src`);
  await saveQNet(model, src);
  const dir = join(root, name);
  const { modelJson, weights } = quantizeModel(src, quantize);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeManifest(dir, manifest(obsSize, levels, ['model.json', 'weights.bin'], dir));
  // The quantised weights as tfjs reads them: the reference of the runtime.
  const reference = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: weights.slice().buffer }),
  );
  model.dispose();
  const observations = Array.from({ length: 300 }, () => Float32Array.from({ length: obsSize }, () => (rng.bernoulli(0.4) ? 0 : 2 * rng.float() - 1)));
  return { dir, reference, observations, rng };
}

describe('network runtime against tfjs', () => {
  const cases: [string, number[], boolean][] = [
    ['dueling', [16, 8], true],
    ['plain', [12], false],
    ['odd-widths', [7, 5], true],
  ];
  for (const [name, hidden, dueling] of cases) {
    it(`${name} ${JSON.stringify(hidden)}: the same Q-values to float32 precision and the same masked argmax`, async () => {
      const { dir, reference, observations, rng } = await networkFolder(name, hidden, dueling);
      const policy = loadPolicy(dir);
      let worst = 0;
      for (const obs of observations) {
        const mine = policy.qValues(obs);
        const theirs = tf.tidy(() => (reference.predict(tf.tensor2d(obs, [1, obs.length])) as tf.Tensor).dataSync());
        for (let j = 0; j < mine.length; j++) worst = Math.max(worst, Math.abs(mine[j] - theirs[j]) / (1 + Math.abs(theirs[j])));
        const mask = Uint8Array.from({ length: mine.length }, () => (rng.bernoulli(0.5) ? 1 : 0));
        mask[rng.int(0, mask.length - 1)] = 1;
        expect(policy.act(obs, mask)).toBe(maskedArgmax(theirs, mask));
        // act computes only the allowed actions: the same choice as the argmax of all Q-values.
        expect(policy.act(obs, mask)).toBe(maskedArgmax(mine, mask));
      }
      expect(worst).toBeLessThan(1e-5);
      reference.dispose();
    });
  }

  it('float16 and uint8 weights are dequantised exactly as tfjs does', async () => {
    for (const q of ['float16', 'uint8'] as const) {
      const { dir, reference, observations } = await networkFolder(`q-${q}`, [16, 8], true, 9, 5, q);
      const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const bytes = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
      const theirs = tf.io.decodeWeights(bytes.slice().buffer, m.weightsManifest[0].weights);
      let at = 0;
      for (const spec of m.weightsManifest[0].weights) {
        const mine = decodeTensor(spec, bytes, at, 'test');
        at += mine.length * (q === 'float16' ? 2 : 1);
        expect(Array.from(mine)).toEqual(Array.from(theirs[spec.name].dataSync()));
      }
      tf.dispose(Object.values(theirs));
      const policy = loadPolicy(dir);
      for (const obs of observations.slice(0, 50)) {
        const want = tf.tidy(() => (reference.predict(tf.tensor2d(obs, [1, obs.length])) as tf.Tensor).dataSync());
        const got = policy.qValues(obs);
        for (let j = 0; j < got.length; j++) expect(Math.abs(got[j] - want[j])).toBeLessThan(1e-5 * (1 + Math.abs(want[j])));
      }
      reference.dispose();
    }
  });

  it('describe gives one message per appliance and for the EV; unflatten is C order', async () => {
    const { dir } = await networkFolder('describe', [8], true);
    const p = loadPolicy(dir);
    // nvec [2, 5]: index 7 = heater 1 (run), EV level 2.
    expect(p.unflatten(7)).toEqual([1, 2]);
    expect(p.describe(7)).toEqual([
      { device: 'heater', command: 'run', powerKw: 2 },
      { device: 'ev', command: 'charge', powerKw: 3 },
    ]);
    expect(p.describe(7, [1])[0].powerKw).toBe(1);
    expect(p.describe(0)).toEqual([
      { device: 'heater', command: 'wait', powerKw: 0 },
      { device: 'ev', command: 'idle', powerKw: 0 },
    ]);
    expect(() => p.describe(10)).toThrow(/action 10 is not an integer in \[0, 10\)/);
  });
});

describe('quantisation', () => {
  it('float16: every finite half survives float → half → float, and rounding goes to the nearest half', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v)) continue;
      expect(floatToHalf(v)).toBe(h === 0x8000 ? 0x8000 : h);
    }
    const rng = new Rng(3);
    for (let k = 0; k < 20_000; k++) {
      const x = Math.fround((2 * rng.float() - 1) * 2 ** rng.int(-26, 15));
      const h = floatToHalf(x);
      const err = Math.abs(halfToFloat(h) - x);
      // No neighbouring half is closer.
      for (const n of [h - 1, h + 1]) if ((n & 0x7fff) < 0x7c00 && (n & 0x8000) === (h & 0x8000)) expect(err).toBeLessThanOrEqual(Math.abs(halfToFloat(n) - x));
    }
  });

  it('uint8: zero stays exact, every value within scale/2, a constant tensor survives', () => {
    const rng = new Rng(4);
    const w = Float32Array.from({ length: 1000 }, () => rng.normal() * 0.2);
    w[17] = 0;
    const { q, min, scale } = quantizeUint8(w);
    expect(scale).toBeCloseTo((Math.max(...w) - Math.min(...w)) / 255, 9);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i] * scale + min - w[i])).toBeLessThanOrEqual(scale / 2 + 1e-7);
    expect(q[17] * scale + min).toBeCloseTo(0, 12);
    const c = quantizeUint8(new Float32Array(5).fill(0.25));
    expect(Array.from(c.q, (v) => v * c.scale + c.min)).toEqual(new Array(5).fill(0.25));
  });
});

describe('loading checks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = (await networkFolder('checks', [8], true)).dir;
  });
  const edited = (edit: (m: PolicyManifest) => void) => {
    const copy = mkdtempSync(join(root, 'edit-'));
    for (const f of ['model.json', 'weights.bin']) writeFileSync(join(copy, f), readFileSync(join(dir, f)));
    const m = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as PolicyManifest;
    edit(m);
    writeManifest(copy, m);
    return copy;
  };

  it('refuses another format version, naming the field and both versions', () => {
    expect(() => loadPolicy(edited((m) => (m.version = 2)))).toThrow(/field "version" is 2, but this policy.mjs reads format version 1/);
    expect(() => loadPolicy(edited((m) => ((m as { format: string }).format = 'other')))).toThrow(/field "format" is "other", expected "rescoin-gateway-policy"/);
  });

  it('refuses weights whose SHA-256 is not the manifest’s', () => {
    const copy = edited(() => {});
    const bin = readFileSync(join(copy, 'weights.bin'));
    bin[5] ^= 1;
    writeFileSync(join(copy, 'weights.bin'), bin);
    expect(() => loadPolicy(copy)).toThrow(/weights\.bin: SHA-256 [0-9a-f]{64} does not match policy\.json weights\.files\[1\]\.sha256/);
  });

  it('refuses a missing folder or file, a layer it does not run, and mismatched sizes', () => {
    expect(() => loadPolicy(join(root, 'nowhere'))).toThrow(/policy\.json: no such file/);
    const noBin = edited(() => {});
    rmSync(join(noBin, 'weights.bin'));
    expect(() => loadPolicy(noBin)).toThrow(/weights\.bin: no such file, but policy\.json weights\.files\[1\] lists it/);
    const conv = edited(() => {});
    const model = JSON.parse(readFileSync(join(conv, 'model.json'), 'utf8'));
    model.modelTopology.config.layers[1].class_name = 'Conv1D';
    writeFileSync(join(conv, 'model.json'), JSON.stringify(model));
    const m = JSON.parse(readFileSync(join(conv, 'policy.json'), 'utf8')) as PolicyManifest;
    m.weights.files[0].sha256 = sha(join(conv, 'model.json'));
    writeManifest(conv, m);
    expect(() => loadPolicy(conv)).toThrow(/layer hidden1 is a Conv1D; this runtime runs InputLayer, Dense and DuelingCombine only/);
    expect(() => loadPolicy(edited((m) => (m.observation.size = 8)))).toThrow(/observation\.size" is 8, but "observation\.features" lists 9/);
  });

  it('refuses a check value it cannot reproduce (a runtime that would not act like the trainer)', () => {
    const obs = new Array(9).fill(0.5);
    const q = Array.from(loadPolicy(dir).qValues(obs));
    expect(() => loadPolicy(edited((m) => (m.checks = [{ observation: obs, q }])))).not.toThrow();
    q[3] += 0.01;
    expect(() => loadPolicy(edited((m) => (m.checks = [{ observation: obs, q }])))).toThrow(/checks\[0\]\.q\[3\] is .* \(tfjs\), this policy\.mjs computes/);
  });

  it('act refuses an observation or a mask of the wrong length, a non-finite value and an empty mask', () => {
    const p = loadPolicy(dir);
    const obs = new Float32Array(9);
    const mask = new Uint8Array(10).fill(1);
    expect(() => p.act(new Float32Array(8), mask)).toThrow(/observation has 8 values, expected 9 \(policy\.json observation\.size: f0 … f8\)/);
    expect(() => p.act(obs, new Uint8Array(9))).toThrow(/actionMask has 9 values, expected 10 \(policy\.json action\.n/);
    expect(() => p.act([0, 0, NaN, 0, 0, 0, 0, 0, 0], mask)).toThrow(/observation\[2\] \(f2\) is NaN, expected a finite number/);
    expect(() => p.act(obs, new Uint8Array(10))).toThrow(/the action mask allows no action/);
    // Booleans and plain arrays are masks too.
    expect(p.act(Array.from(obs), Array.from(mask, Boolean))).toBe(p.act(obs, mask));
  });
});

describe('Q-table key', () => {
  it('is the trainer’s stateKey on every observation of days played at random, with and without V2H', () => {
    for (const id of ['paper-apartment', 'paper-apartment-v2h']) {
      const s = loadScenario(id);
      const layout = observationLayout(s);
      const agent = new QLearningAgent({ layout, nActions: 2, config: qlearningConfig.parse({}), seed: 0, totalEpisodes: 1 });
      const key = makeTableKey(layout.map((f) => f.name));
      const env = makeEnv(s);
      const rng = new Rng(9);
      const action = new Int32Array(env.nComponents);
      let n = 0;
      const seen = new Set<string>();
      for (let d = 0; d < 20; d++) {
        let { observation, info } = env.reset({ seed: 500 + d });
        for (;;) {
          expect(key(observation)).toBe(agent.stateKey(observation));
          seen.add(agent.stateKey(observation));
          n++;
          const r = env.step(sampleAllowed(info.home, rng, action));
          observation = r.observation;
          info = r.info;
          if (r.terminated) break;
        }
      }
      expect(n).toBe(20 * 96);
      // The days reach many distinct keys: the comparison covers every part of the key.
      expect(seen.size).toBeGreaterThan(500);
    }
  });
});
