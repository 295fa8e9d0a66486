import { join } from 'node:path';
import type { PolicyManifest, Scorer } from './manifest.js';
import { BYTES, decodeTensor, type WeightSpecJson } from './weights.js';

/**
 * The DQN's Q-network, read from model.json + weights.bin and run in plain JavaScript (the spec of
 * the format and of the numerics is runtime/manifest.ts, "model.json + weights.bin" and "Acting").
 */

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

interface ModelJson {
  modelTopology: { class_name: string; config: { layers: LayerJson[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] } };
  weightsManifest: { paths: string[]; weights: WeightSpecJson[] }[];
}

type ActivationName = 'linear' | 'relu' | 'tanh' | 'sigmoid';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'tanh', 'sigmoid'];

interface DenseLayer {
  kind: 'dense';
  name: string;
  input: string;
  inDim: number;
  units: number;
  activation: ActivationName;
  /** [inDim, units] row-major, as stored. */
  kernel: Float32Array;
  bias: Float32Array;
  out: Float32Array;
}

interface DuelingLayer {
  kind: 'dueling';
  name: string;
  inputs: [string, string];
  out: Float32Array;
}

type Layer = DenseLayer | DuelingLayer;

function readModel(m: PolicyManifest, files: Map<string, Uint8Array>, dir: string): { layers: Map<string, Layer>; order: Layer[]; input: string; output: string } {
  const where = join(dir, 'model.json');
  const raw = files.get('model.json');
  if (!raw) throw new Error(`${join(dir, 'policy.json')}: weights.files lists no model.json, which a DQN policy needs`);
  const model = JSON.parse(new TextDecoder().decode(raw)) as ModelJson;
  const topo = model.modelTopology;
  if (!topo || !['Model', 'Functional'].includes(topo.class_name)) throw new Error(`${where}: modelTopology.class_name is ${topo?.class_name}, expected a functional model (Model)`);
  // The weight bytes: the manifest's files in order, concatenated.
  const paths = model.weightsManifest.flatMap((g) => g.paths);
  const parts = paths.map((p) => {
    const d = files.get(p);
    if (!d) throw new Error(`${where}: weights file ${p} is not listed (with its SHA-256) in policy.json weights.files`);
    return d;
  });
  const total = parts.reduce((a, d) => a + d.byteLength, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const d of parts) {
    bytes.set(d, at);
    at += d.byteLength;
  }
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const need = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (BYTES[s.quantization ? s.quantization.dtype : s.dtype] ?? NaN), 0);
  if (need !== total) throw new Error(`${where}: the weights manifest describes ${need} bytes, but ${paths.join(', ')} hold ${total}`);
  const tensors = new Map<string, { spec: WeightSpecJson; values: Float32Array }>();
  at = 0;
  for (const s of specs) {
    const values = decodeTensor(s, bytes, at, where);
    at += values.length * BYTES[s.quantization ? s.quantization.dtype : s.dtype];
    tensors.set(s.name, { spec: s, values });
  }
  const weight = (layer: string, kind: 'kernel' | 'bias', shape: number[]) => {
    const t = tensors.get(`${layer}/${kind}`) ?? [...tensors.entries()].find(([k]) => k.endsWith(`/${layer}/${kind}`))?.[1];
    if (!t) throw new Error(`${where}: layer ${layer} has no weight ${layer}/${kind}`);
    if (t.spec.shape.join(',') !== shape.join(',')) throw new Error(`${where}: weight ${t.spec.name} has shape [${t.spec.shape}], expected [${shape}]`);
    return t.values;
  };

  const layers = new Map<string, Layer>();
  const order: Layer[] = [];
  const dims = new Map<string, number>();
  let input = '';
  for (const l of topo.config.layers) {
    const inbound = (l.inbound_nodes[0] ?? []).map((node) => node[0]);
    if (l.class_name === 'InputLayer') {
      const shape = (l.config.batch_input_shape ?? l.config.batchInputShape) as (number | null)[];
      const d = shape?.[shape.length - 1];
      if (shape?.length !== 2 || d !== m.observation.size) throw new Error(`${where}: input layer ${l.name} takes shape [${shape}], expected [null, ${m.observation.size}] (policy.json observation.size)`);
      dims.set(l.name, d);
      input = l.name;
      continue;
    }
    if (l.class_name === 'Dense') {
      const units = l.config.units as number;
      const activation = (l.config.activation ?? 'linear') as ActivationName;
      if (!ACTIVATIONS.includes(activation)) throw new Error(`${where}: layer ${l.name} has activation ${activation}, expected one of ${ACTIVATIONS.join(', ')}`);
      const inDim = dims.get(inbound[0]);
      if (inbound.length !== 1 || inDim === undefined) throw new Error(`${where}: layer ${l.name} must take one earlier layer as input, got [${inbound}]`);
      const useBias = l.config.use_bias !== false;
      const layer: DenseLayer = {
        kind: 'dense',
        name: l.name,
        input: inbound[0],
        inDim,
        units,
        activation,
        kernel: weight(l.name, 'kernel', [inDim, units]),
        bias: useBias ? weight(l.name, 'bias', [units]) : new Float32Array(units),
        out: new Float32Array(units),
      };
      layers.set(l.name, layer);
      order.push(layer);
      dims.set(l.name, units);
      continue;
    }
    if (l.class_name === 'DuelingCombine') {
      const [v, a] = inbound;
      if (inbound.length !== 2 || dims.get(v) !== 1 || dims.get(a) === undefined)
        throw new Error(`${where}: layer ${l.name} (DuelingCombine) must take [V of 1 unit, A], got [${inbound}]`);
      const layer: DuelingLayer = { kind: 'dueling', name: l.name, inputs: [v, a], out: new Float32Array(dims.get(a)!) };
      layers.set(l.name, layer);
      order.push(layer);
      dims.set(l.name, dims.get(a)!);
      continue;
    }
    throw new Error(`${where}: layer ${l.name} is a ${l.class_name}; this runtime runs InputLayer, Dense and DuelingCombine only`);
  }
  const output = topo.config.output_layers?.[0]?.[0];
  if (!input || !output || !layers.has(output) || topo.config.output_layers.length !== 1) throw new Error(`${where}: expected one input layer and one output layer`);
  if (dims.get(output) !== m.action.n) throw new Error(`${where}: the network outputs ${dims.get(output)} values, expected ${m.action.n} (policy.json action.n)`);
  return { layers, order, input, output };
}

/** The nonzero entries of a vector: ReLU outputs are zero about half the time, and skipping them halves the work. */
class Sparse {
  readonly index: Int32Array;
  readonly value: Float64Array;
  count = 0;
  constructor(size: number) {
    this.index = new Int32Array(size);
    this.value = new Float64Array(size);
  }
  /** Collects x's nonzero entries, each index multiplied by `stride` (a row offset). */
  gather(x: Float32Array, stride: number): void {
    let nz = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== 0) {
        this.index[nz] = i * stride;
        this.value[nz++] = v;
      }
    }
    this.count = nz;
  }
}

const activate = (a: ActivationName, s: number): number => (a === 'relu' ? (s > 0 ? s : 0) : a === 'linear' ? s : a === 'tanh' ? Math.tanh(s) : 1 / (1 + Math.exp(-s)));

/**
 * y = act(x·W + b), over x's nonzero entries only: products of float32 values are exact in float64
 * and summed in float64; the output is stored as float32, as tfjs stores it. Four outputs at a time
 * keep their sums in registers (about 2× faster in V8 than one output at a time).
 */
function denseForward(l: DenseLayer, x: Float32Array, sp: Sparse): void {
  const { kernel: w, units: n, bias, out, activation: a } = l;
  sp.gather(x, n);
  const { index, value, count } = sp;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    let s0 = bias[j];
    let s1 = bias[j + 1];
    let s2 = bias[j + 2];
    let s3 = bias[j + 3];
    for (let k = 0; k < count; k++) {
      const v = value[k];
      const r = index[k] + j;
      s0 += v * w[r];
      s1 += v * w[r + 1];
      s2 += v * w[r + 2];
      s3 += v * w[r + 3];
    }
    out[j] = activate(a, s0);
    out[j + 1] = activate(a, s1);
    out[j + 2] = activate(a, s2);
    out[j + 3] = activate(a, s3);
  }
  for (; j < n; j++) {
    let s = bias[j];
    for (let k = 0; k < count; k++) s += value[k] * w[index[k] + j];
    out[j] = activate(a, s);
  }
}

/**
 * A linear Dense layer evaluated one output at a time, for the head: only the allowed actions'
 * values are computed. The kernel is transposed so that each output's weights lie together.
 */
class LazyDense {
  readonly kernelT: Float32Array;
  readonly colMean: Float64Array;
  readonly biasMean: number;
  readonly sp: Sparse;
  constructor(readonly layer: DenseLayer) {
    const { inDim, units, kernel } = layer;
    this.kernelT = new Float32Array(inDim * units);
    this.colMean = new Float64Array(inDim);
    for (let i = 0; i < inDim; i++) {
      let s = 0;
      for (let j = 0; j < units; j++) {
        this.kernelT[j * inDim + i] = kernel[i * units + j];
        s += kernel[i * units + j];
      }
      this.colMean[i] = s / units;
    }
    let b = 0;
    for (let j = 0; j < units; j++) b += layer.bias[j];
    this.biasMean = b / units;
    this.sp = new Sparse(inDim);
  }
  /** Takes the layer's input for the next `value` and `mean` calls. */
  prepare(x: Float32Array): void {
    this.sp.gather(x, 1);
  }
  value(j: number): number {
    const { index, value, count } = this.sp;
    const w = this.kernelT;
    const row = j * this.layer.inDim;
    let s = this.layer.bias[j];
    for (let k = 0; k < count; k++) s += value[k] * w[row + index[k]];
    return s;
  }
  /** The mean of all outputs: Σ_i x_i·mean_j W_ij + mean_j b_j (the same sum as averaging them). */
  mean(): number {
    const { index, value, count } = this.sp;
    let s = this.biasMean;
    for (let k = 0; k < count; k++) s += value[k] * this.colMean[index[k]];
    return s;
  }
}

export function networkScorer(m: PolicyManifest, files: Map<string, Uint8Array>, dir: string): Scorer {
  const { layers, order, input, output } = readModel(m, files, dir);
  const values = new Map<string, Float32Array>();
  const out = layers.get(output)!;
  // The head: the output layer, computed per action. The body: every other layer, computed whole.
  let head: { kind: 'dense'; a: LazyDense } | { kind: 'dueling'; a: LazyDense; v: Float32Array } | null = null;
  const consumers = (name: string) => order.filter((l) => (l.kind === 'dense' ? l.input === name : l.inputs.includes(name))).length;
  if (out.kind === 'dense' && out.activation === 'linear') head = { kind: 'dense', a: new LazyDense(out) };
  else if (out.kind === 'dueling') {
    const a = layers.get(out.inputs[1]);
    const v = layers.get(out.inputs[0]);
    if (a?.kind === 'dense' && a.activation === 'linear' && consumers(a.name) === 1 && v) head = { kind: 'dueling', a: new LazyDense(a), v: v.out };
  }
  const skip = new Set<Layer>(head ? (head.kind === 'dense' ? [out] : [out, head.a.layer]) : []);
  const body = order.filter((l) => !skip.has(l));
  const obs = new Float32Array(m.observation.size);
  values.set(input, obs);
  for (const l of order) values.set(l.name, l.out);
  const sp = new Sparse(Math.max(obs.length, ...order.map((l) => l.out.length)));
  // Each layer's inputs, resolved once.
  const steps = body.map((l) => ({ l, x: values.get(l.kind === 'dense' ? l.input : l.inputs[0])!, y: l.kind === 'dueling' ? values.get(l.inputs[1])! : null }));
  const headInput = head ? values.get(head.a.layer.input)! : null;
  let mean = 0;
  const run = (x: Float32Array) => {
    obs.set(x);
    for (const { l, x: a, y } of steps) {
      if (l.kind === 'dense') denseForward(l, a, sp);
      else duelingForward(l, a, y!);
    }
    if (head) {
      head.a.prepare(headInput!);
      if (head.kind === 'dueling') mean = head.a.mean();
    }
  };
  return {
    load: run,
    q(j) {
      if (!head) return out.out[j];
      if (head.kind === 'dense') return head.a.value(j);
      return head.v[0] + (head.a.value(j) - mean);
    },
  };
}

function duelingForward(l: DuelingLayer, v: Float32Array, a: Float32Array): void {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j];
  const mean = s / a.length;
  for (let j = 0; j < a.length; j++) l.out[j] = v[0] + (a[j] - mean);
}
