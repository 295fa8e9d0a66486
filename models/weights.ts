import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Quantization } from '../runtime/policy.js';
import { calibrateUint8, uint8Code, uint8Grid, type CalibratedNet, type DenseNet, type Uint8Tensor } from './quantize.js';

/**
 * The weights of a tfjs layers model as export writes them: float32, IEEE half (float16) or per-tensor
 * affine uint8, per tensor, as tfjs-converter's quantization.py does, so that `tf.loadLayersModel` and
 * the gateway runtime (runtime/policy.ts) read them. The calibration of uint8 kernels is quantize.ts.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE 754 binary16 bits, rounding to nearest, ties to even (numpy's astype(float16)). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A subnormal half (or zero): shift the mantissa, with its implicit bit, into place.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the right rounding (up to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * Per-tensor affine uint8 (tfjs-converter `quantize_weights`): scale = (max − min)/255, the range
 * nudged so that 0 is exactly representable when it lies inside, q = round((clip(w) − min)/scale);
 * the value is q·scale + min. A constant tensor is all zeros with scale 1 and min its value.
 */
export function quantizeUint8(values: Float32Array): Uint8Tensor {
  const g = uint8Grid(values);
  return { q: Uint8Array.from(values, (v) => uint8Code(v, g)), min: g.min, scale: g.scale };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'float16' } | { dtype: 'uint8'; min: number; scale: number };
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  [key: string]: unknown;
}

/**
 * The Dense stack of a rescoin Q-network (models/qnet.ts: ReLU layers hidden1…, then value +
 * advantage, or q), read from a layers-format topology and its float32 weights; null for any other
 * network, which is then quantised plainly.
 */
export function denseNet(topology: unknown, weights: Map<string, { shape: number[]; values: Float32Array }>): DenseNet | null {
  const layers = (topology as { config?: { layers?: { class_name: string; config: { name: string; activation?: string } }[] } }).config?.layers;
  if (!Array.isArray(layers)) return null;
  const dense = layers.filter((l) => l.class_name === 'Dense').map((l) => l.config);
  const read = (name: string, relu: boolean) => {
    const k = weights.get(`${name}/kernel`);
    const b = weights.get(`${name}/bias`);
    if (!k || !b || k.shape.length !== 2 || b.values.length !== k.shape[1]) return null;
    return { name, nIn: k.shape[0], nOut: k.shape[1], kernel: k.values, bias: b.values, relu };
  };
  const hidden = dense.filter((l) => /^hidden\d+$/.test(l.name));
  const headNames = dense.filter((l) => !hidden.includes(l)).map((l) => l.name).sort();
  const dueling = headNames.join() === 'advantage,value';
  if (hidden.length === 0 || hidden.some((l) => l.activation !== 'relu') || !(dueling || headNames.join() === 'q')) return null;
  const net = { hidden: hidden.map((l) => read(l.name, true)), heads: headNames.map((n) => read(n, false)) };
  if ([...net.hidden, ...net.heads].some((l) => l === null)) return null;
  return { hidden: net.hidden as DenseNet['hidden'], heads: net.heads as DenseNet['heads'], scoredHeads: [dueling ? 'advantage' : 'q'] };
}

/**
 * Rewrites a float32 tfjs layers model (model.json + its weight files) as one weights.bin,
 * quantised per tensor as asked: the specs gain `quantization` exactly as tfjs-converter writes it,
 * so `tf.loadLayersModel` reads the result too. For uint8 with `calibration` observations, a
 * rescoin Q-network's kernels are calibrated (models/quantize.ts: equalised, GPTQ-rounded) and its
 * biases stay float32; without them, or for another network, every tensor is rounded plainly.
 */
export function quantizeModel(modelDir: string, quantize: Quantization, calibration?: readonly ArrayLike<number>[]): { modelJson: ModelJson; weights: Uint8Array } {
  const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as ModelJson;
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(join(modelDir, p))));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  let at = 0;
  for (const s of specs) {
    if (s.dtype !== 'float32' || s.quantization) throw new Error(`${modelDir}/model.json: weight ${s.name} is ${s.quantization ? `already quantized (${s.quantization.dtype})` : s.dtype}; expected float32`);
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (at + size * 4 > data.byteLength) break;
    const values = new Float32Array(size);
    const view = new DataView(data.buffer, data.byteOffset + at, size * 4);
    for (let i = 0; i < size; i++) values[i] = view.getFloat32(4 * i, true);
    at += size * 4;
    tensors.set(s.name, { shape: s.shape, values });
  }
  if (at !== data.byteLength) throw new Error(`${modelDir}/model.json: the weights manifest describes ${specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0)} bytes, the weight files hold ${data.byteLength}`);
  let calibrated: CalibratedNet | null = null;
  if (quantize === 'uint8' && calibration?.length) {
    const net = denseNet(json.modelTopology, tensors);
    if (net) calibrated = calibrateUint8(net, calibration);
  }
  const chunks: Uint8Array[] = [];
  const out: WeightSpec[] = [];
  const float32 = (values: Float32Array) => {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    return b;
  };
  for (const s of specs) {
    const { values } = tensors.get(s.name)!;
    const [layer, part] = s.name.split('/');
    const cal = calibrated?.layers.get(layer);
    if (quantize === 'none' || (cal && part === 'bias')) {
      chunks.push(float32(cal && part === 'bias' ? cal.bias : values));
      out.push({ name: s.name, shape: s.shape, dtype: 'float32' });
    } else if (quantize === 'float16') {
      const b = new Uint8Array(values.length * 2);
      const dv = new DataView(b.buffer);
      values.forEach((v, i) => dv.setUint16(2 * i, floatToHalf(v), true));
      chunks.push(b);
      out.push({ name: s.name, shape: s.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    } else {
      const { q, min, scale } = cal && part === 'kernel' ? cal.kernel : quantizeUint8(values);
      chunks.push(q);
      out.push({ name: s.name, shape: s.shape, dtype: 'float32', quantization: { dtype: 'uint8', min, scale } });
    }
  }
  const modelJson: ModelJson = { ...json, weightsManifest: [{ paths: ['weights.bin'], weights: out }] };
  return { modelJson, weights: new Uint8Array(Buffer.concat(chunks)) };
}
