import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateUint8, equalize, gptqKernel, inverseCholeskyUpper, uint8Code, uint8Grid, type DenseNet, type DenseWeights } from '../../models/quantize.js';
import { initBackend } from '../../models/backend.js';
import { buildQNet, saveQNet } from '../../models/qnet.js';
import { denseNet, quantizeModel } from '../../models/weights.js';
import { maskedArgmax } from '../../agents/agent.js';
import { Rng } from '../../env/index.js';

/**
 * models/quantize.ts: equalisation keeps the function, GPTQ's algebra on hand-checkable cases, and a
 * calibrated uint8 network that scores closer to float32 than plain rounding, through tfjs itself.
 */

function layer(name: string, nIn: number, nOut: number, rng: Rng, relu: boolean, spread = 1): DenseWeights {
  // Columns of very different sizes, as trained networks have: plain per-tensor rounding suffers.
  const colScale = Array.from({ length: nOut }, () => spread ** rng.float());
  return {
    name,
    nIn,
    nOut,
    relu,
    kernel: Float32Array.from({ length: nIn * nOut }, (_, k) => rng.normal() * 0.3 * colScale[k % nOut]),
    bias: Float32Array.from({ length: nOut }, () => rng.normal() * 0.1),
  };
}

function forwardNet(net: DenseNet, x: ArrayLike<number>, head: string): Float64Array {
  let h: ArrayLike<number> = x;
  const apply = (l: DenseWeights, v: ArrayLike<number>) => {
    const out = new Float64Array(l.nOut);
    for (let j = 0; j < l.nOut; j++) {
      let s = l.bias[j];
      for (let i = 0; i < l.nIn; i++) s += v[i] * l.kernel[i * l.nOut + j];
      out[j] = l.relu && s < 0 ? 0 : s;
    }
    return out;
  };
  for (const l of net.hidden) h = apply(l, h);
  return apply(net.heads.find((l) => l.name === head)!, h);
}

function randomNet(seed: number, spread: number): DenseNet {
  const rng = new Rng(seed);
  return {
    hidden: [layer('hidden1', 6, 16, rng, true, spread), layer('hidden2', 16, 16, rng, true, spread)],
    heads: [layer('advantage', 16, 8, rng, false), layer('value', 16, 1, rng, false)],
    scoredHeads: ['advantage'],
  };
}

const observations = (seed: number, n: number, size: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: size }, () => (rng.bernoulli(0.3) ? 0 : rng.float())));
};

describe('quantize', () => {
  it('equalisation keeps the network: the same Q-values to float rounding', () => {
    const net = randomNet(1, 30);
    const eq = equalize(net);
    for (const x of observations(2, 50, 6))
      for (const head of ['advantage', 'value']) {
        const a = forwardNet(net, x, head);
        const b = forwardNet(eq, x, head);
        a.forEach((v, j) => expect(b[j]).toBeCloseTo(v, 4));
      }
    // And it evens out the units: the spread of hidden1's column ranges shrinks.
    const spread = (l: DenseWeights) => {
      const r = Array.from({ length: l.nOut }, (_, j) => Math.max(...Array.from({ length: l.nIn }, (_, i) => Math.abs(l.kernel[i * l.nOut + j]))));
      return Math.max(...r) / Math.min(...r);
    };
    expect(spread(eq.hidden[0])).toBeLessThan(spread(net.hidden[0]) / 2);
  });

  it('inverseCholeskyUpper of [[4, 2], [2, 3]]: Uᵀ·U is the inverse, by hand', () => {
    // H⁻¹ = [[3, −2], [−2, 4]] / 8.
    const U = inverseCholeskyUpper(Float64Array.from([4, 2, 2, 3]), 2);
    expect(U[2]).toBe(0);
    const inv = [U[0] * U[0], U[0] * U[1], U[1] * U[0], U[1] * U[1] + U[3] * U[3]];
    [3 / 8, -2 / 8, -2 / 8, 4 / 8].forEach((v, k) => expect(inv[k]).toBeCloseTo(v, 12));
  });

  it('GPTQ on one weight per input rounds the first and moves its error onto the second, as the inputs correlate', () => {
    // Two identical inputs: whatever the first row loses, the second row can win back exactly.
    const l: DenseWeights = { name: 'l', nIn: 2, nOut: 1, relu: false, kernel: Float32Array.from([0.3, 1.0]), bias: new Float32Array(1) };
    const x = Array.from({ length: 10 }, (_, k) => [k / 10, k / 10]);
    const g = uint8Grid(l.kernel);
    const t = gptqKernel(l, x, 1e-6);
    expect(t.min).toBeCloseTo(g.min, 12);
    const w = Array.from(t.q, (c) => c * t.scale + t.min);
    expect(t.q[0]).toBe(uint8Code(0.3, g));
    // The sum of the two weights (all the output sees) is kept to half a step, not a whole one.
    expect(Math.abs(w[0] + w[1] - 1.3)).toBeLessThanOrEqual(t.scale / 2 + 1e-9);
  });

  it('a calibrated uint8 network chooses the float32 action more often than plainly rounded weights', () => {
    const net = randomNet(3, 200);
    const calib = observations(4, 400, 6);
    const test = observations(5, 2000, 6);
    const cal = calibrateUint8(net, calib);
    const deq = (l: DenseWeights): DenseWeights => {
      const c = cal.layers.get(l.name)!;
      return { ...l, kernel: Float32Array.from(c.kernel.q, (v) => v * c.kernel.scale + c.kernel.min), bias: c.bias };
    };
    const plain = (l: DenseWeights): DenseWeights => {
      const g = uint8Grid(l.kernel);
      const gb = uint8Grid(l.bias);
      return { ...l, kernel: Float32Array.from(l.kernel, (v) => uint8Code(v, g) * g.scale + g.min), bias: Float32Array.from(l.bias, (v) => uint8Code(v, gb) * gb.scale + gb.min) };
    };
    const mask = new Uint8Array(8).fill(1);
    const agree = (q: DenseNet) => test.filter((x) => maskedArgmax(forwardNet(q, x, 'advantage'), mask) === maskedArgmax(forwardNet(net, x, 'advantage'), mask)).length / test.length;
    const calibrated = agree({ ...net, hidden: net.hidden.map(deq), heads: net.heads.map(deq) });
    const rounded = agree({ ...net, hidden: net.hidden.map(plain), heads: net.heads.map(plain) });
    console.log(`random [16, 16] net, 2,000 decisions: calibrated uint8 agrees ${(100 * calibrated).toFixed(2)} %, plain ${(100 * rounded).toFixed(2)} %`);
    expect(calibrated).toBeGreaterThan(rounded);
    expect(calibrated).toBeGreaterThanOrEqual(0.97);
  });
});

describe('quantizeModel with calibration', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend('wasm');
    root = mkdtempSync(join(tmpdir(), 'rescoin-quantize-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes uint8 kernels and float32 biases that tfjs loads, and finds the Dense stack of both heads', async () => {
    const rng = new Rng(9);
    for (const dueling of [true, false]) {
      const model = buildQNet({ obsSize: 5, nActions: 6, hidden: [12, 12], dueling }, () => rng.float());
      const src = join(root, `src-${dueling}`);
      await saveQNet(model, src);
      const weights = new Map(model.weights.map((w) => [w.originalName, { shape: w.shape as number[], values: w.read().dataSync() as Float32Array }]));
      const net = denseNet(model.toJSON(undefined, false), weights);
      expect(net?.hidden.map((l) => l.name)).toEqual(['hidden1', 'hidden2']);
      expect(net?.heads.map((l) => l.name)).toEqual(dueling ? ['advantage', 'value'] : ['q']);
      const calib = observations(10, 200, 5);
      const { modelJson, weights: bin } = quantizeModel(src, 'uint8', calib);
      const specs = modelJson.weightsManifest[0].weights;
      for (const s of specs) expect(s.quantization?.dtype ?? 'float32').toBe(s.name.endsWith('/kernel') ? 'uint8' : 'float32');
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: bin.slice().buffer }));
      const x = tf.tensor2d(calib[0], [1, 5]);
      const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      const qa = a.dataSync();
      const qb = b.dataSync();
      qa.forEach((v, j) => expect(Math.abs(qb[j] - v)).toBeLessThan(0.05 + 0.02 * Math.abs(v)));
      tf.dispose([x, a, b]);
      model.dispose();
      loaded.dispose();
    }
  });
});
