/**
 * # rescoin gateway runtime (`policy.mjs`): the spec of an exported policy folder
 *
 * `rescoin export` compiles this file to plain JavaScript and copies it into the folder as
 * `policy.mjs`. It imports nothing but Node's built-in `node:fs`, `node:path` and `node:crypto`
 * (an eslint rule keeps it so): a home gateway needs Node.js ≥ 20 and the folder, nothing else — no
 * TensorFlow.js, no build step, no `node_modules`.
 *
 * ```js
 * import { loadPolicy } from './gateway/home/policy.mjs';
 * const policy = loadPolicy('./gateway/home');   // checks version, hashes and the trainer's check values
 * const a = policy.act(observation, actionMask);   // flat action index, inside the mask
 * policy.describe(a);                               // [{ device, command, powerKw }] per appliance and the EV
 * ```
 *
 * ## Folder
 * | file | holds |
 * | --- | --- |
 * | `policy.json` | the manifest below |
 * | `policy.mjs` | this runtime |
 * | `model.json` + `weights.bin` | DQN: the Q-network in the TensorFlow.js layers format (tfjs can load it too) |
 * | `qtable.json` | Q-learning: the table |
 *
 * ## policy.json (format `rescoin-gateway-policy`, version 1)
 * | field | meaning |
 * | --- | --- |
 * | `format`, `version` | `"rescoin-gateway-policy"`, 1. Any other version is refused: the fields below may mean something else. |
 * | `createdAt`, `generatedBy` | when and by which rescoin |
 * | `run` | `{ name, seed, episodes }` of the training run |
 * | `scenario` | `{ id, name, hash }`: the home it was trained on (`hash` as `scenarioHash` of training/train.ts) |
 * | `algorithm`, `config` | `"dqn"` or `"qlearning"`, and its full hyper-parameters (agents/config.ts) |
 * | `observation` | `{ size, dtype: "float32", features: [{ name, unit, scaling, low, high }] }`: feature k is observation[k] (env/home.ts `observationLayout`) |
 * | `action` | `{ n, nvec, encoding, appliances: [{ device, name, kind, cycleKw }], ev: { device, levels: [{ command, powerKw }] } or null }`. Flat index a ∈ [0, n) is the ravel of the components in C order (the last varies fastest): a = Σ_c v_c·Π_{c' > c} nvec[c'], component c < appliances.length is appliance c (0 wait, 1 run), the last (with an EV) the EV level |
 * | `home` | what a gateway needs to build observations and masks without the scenario: `{ contractKw, pvPeakKw, maxPriceKwh, priceKwh[96], ev: { capacityKwh, socMinKwh, chargeEfficiency, dischargeEfficiency, chargeStepKw, rateMax } or null }` |
 * | `weights` | `{ format: "tfjs-layers" or "qtable", quantization: "none", "float16" or "uint8", files: [{ path, bytes, sha256 }], agreement }`: every file the policy reads, with its SHA-256 (hex); `agreement` (DQN): how often these weights choose what the trainer's float32 network (tfjs) chooses, measured at export: `{ days, decisions, pct, medianQLoss }` (medianQLoss: what the disagreements lose in the trainer's own Q-values, in its units: reward × rewardScale) |
 * | `checks` | observations with what the trainer computed for them: `{ observation, q }` (DQN: tfjs's Q-values of the exported weights) or `{ observation, key }` (Q-learning: the trainer's table key). `loadPolicy` recomputes them and refuses a runtime that disagrees |
 * | `evaluation` | the run's figures from a `rescoin evaluate` report (`{ report, days, seed, meanScore, gapPct, … }`), or null |
 *
 * ## model.json + weights.bin (DQN)
 * TensorFlow.js layers format. `modelTopology` is a Keras functional model (`class_name` Model or
 * Functional) whose layers are `InputLayer`, `Dense` (activation linear, relu, tanh or sigmoid;
 * kernel [in, out] row-major; y = act(x·W + b)) and `DuelingCombine` (inputs [V (1), A (n)]:
 * Q = V + A − mean(A), models/qnet.ts). `weightsManifest` lists the weight files (`paths`,
 * concatenated in order) and the tensors stored one after the other in them:
 * `{ name: "<layer>/kernel" or "<layer>/bias", shape, dtype: "float32", quantization? }`. A value takes
 * 4 bytes (float32, little-endian), or with `quantization: { dtype: "float16" }` 2 bytes (IEEE 754
 * binary16, little-endian), or with `quantization: { dtype: "uint8", min, scale }` 1 byte q whose
 * value is q·scale + min rounded to float32 (per-tensor affine, tfjs-converter's scheme; `uint16`
 * likewise with 2 bytes). Dequantised at load exactly as tfjs does, so both run the same weights.
 *
 * ## qtable.json (Q-learning)
 * One JSON object: state key → the n Q-values of that state (agents/qlearning.ts `save`). A state
 * missing from the table reads n zeros, as in the trainer. The key is computed from the observation
 * by `makeTableKey`, a copy of the trainer's `stateKey`.
 *
 * ## Acting
 * `act(observation, actionMask)`: the allowed index (mask value truthy) with the highest Q, the
 * lowest index on ties (agents/agent.ts `maskedArgmax`). The observation is rounded to float32 first,
 * as the environment hands it out. Numerics of the network: products of float32 values are exact in
 * float64 and are summed in float64; each hidden layer's output is rounded to float32 as tfjs stores
 * it. tfjs sums in float32, so Q-values differ from tfjs's in the 7th digit: the argmax is the same
 * unless two actions are that close. For speed, the dueling head computes A only for allowed actions
 * and mean(A) from the kernel's column means (the same sum, reordered).
 *
 * ## Errors
 * Loading refuses, naming the field and the values: another format or version, a file whose SHA-256
 * is not the manifest's, tensors whose sizes do not match the weight bytes, a layer this runtime does
 * not know, and check values it cannot reproduce. `act` refuses an observation or a mask of the wrong
 * length, a non-finite observation value and a mask that allows nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

export const POLICY_FORMAT = 'rescoin-gateway-policy';
export const POLICY_VERSION = 1;

export interface FeatureSpec {
  name: string;
  unit: string;
  scaling: string;
  low: number;
  high: number;
}

export interface ApplianceSpec {
  /** The device name in control messages (the scenario's appliance id). */
  device: string;
  name: string;
  kind: 'non-interruptible' | 'interruptible';
  /** kW drawn in each slot of a cycle. */
  cycleKw: number[];
}

export interface EvLevel {
  command: 'idle' | 'charge' | 'discharge';
  /** Grid-side power, kW: positive charges, negative discharges (V2H). */
  powerKw: number;
}

export interface WeightFile {
  path: string;
  bytes: number;
  sha256: string;
}

export type Quantization = 'none' | 'float16' | 'uint8';

/** How often exported weights choose the trainer's action (see policy.json `weights.agreement`). */
export interface Agreement {
  /** The days the decisions come from, e.g. "daySeed(100000, d), d = 0…9". */
  days: string;
  decisions: number;
  /** Decisions where the exported policy chose the trainer's action, %. */
  pct: number;
  /** Median over the disagreements of Q(trainer's action) − Q(exported action), with the trainer's Q; null when none. */
  medianQLoss: number | null;
}

export interface PolicyCheck {
  observation: number[];
  /** DQN: the Q-values tfjs computes for `observation` with the exported weights. */
  q?: number[];
  /** Q-learning: the trainer's table key of `observation`. */
  key?: string;
}

export interface PolicyManifest {
  format: typeof POLICY_FORMAT;
  version: number;
  createdAt: string;
  generatedBy: string;
  run: { name: string; seed: number; episodes: number };
  scenario: { id: string; name: string; hash: string };
  algorithm: 'dqn' | 'qlearning';
  config: Record<string, unknown>;
  observation: { size: number; dtype: 'float32'; features: FeatureSpec[] };
  action: { n: number; nvec: number[]; encoding: string; appliances: ApplianceSpec[]; ev: { device: string; levels: EvLevel[] } | null };
  home: {
    contractKw: number;
    pvPeakKw: number;
    maxPriceKwh: number;
    priceKwh: number[];
    ev: { capacityKwh: number; socMinKwh: number; chargeEfficiency: number; dischargeEfficiency: number; chargeStepKw: number; rateMax: number } | null;
  };
  weights: { format: 'tfjs-layers' | 'qtable'; quantization: Quantization; files: WeightFile[]; agreement?: Agreement | null };
  checks: PolicyCheck[];
  evaluation: Record<string, unknown> | null;
}

export interface ControlMessage {
  device: string;
  command: string;
  powerKw: number;
}

export interface LoadedPolicy {
  readonly manifest: PolicyManifest;
  /** The allowed flat action with the highest Q (lowest index on ties). */
  act(observation: ArrayLike<number>, actionMask: ArrayLike<number | boolean>): number;
  /** Q-values of every flat action (DQN: the network; Q-learning: the table row, zeros when unseen). */
  qValues(observation: ArrayLike<number>): Float64Array;
  /** The component values of a flat action (appliances 0 wait / 1 run, then the EV level). */
  unflatten(action: number): number[];
  /**
   * One control message per appliance and for the EV. A running appliance's power is
   * `appliancePowerKw[i]` when given (the slot of its cycle it runs now), else its cycle's peak.
   */
  describe(action: number, appliancePowerKw?: ArrayLike<number>): ControlMessage[];
}

/** Loads and checks an exported policy folder (see the spec above). Synchronous: files are small. */
export function loadPolicy(dir: string): LoadedPolicy {
  const manifestPath = join(dir, 'policy.json');
  const manifest = readManifest(manifestPath);
  const files = new Map<string, Uint8Array>();
  manifest.weights.files.forEach((f, k) => files.set(f.path, readVerified(dir, f, k)));
  const scorer = manifest.algorithm === 'dqn' ? networkScorer(manifest, files, dir) : tableScorer(manifest, files, dir);
  const policy = makePolicy(manifest, scorer);
  verifyChecks(manifest, scorer, manifestPath);
  return policy;
}

// ---------------------------------------------------------------------------------------------
// Manifest and files

function readManifest(path: string): PolicyManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: no such file: expected an exported policy folder (rescoin export --run runs/NAME --out DIR)`);
  }
  let m: PolicyManifest;
  try {
    m = JSON.parse(text) as PolicyManifest;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object' || m.format !== POLICY_FORMAT) throw new Error(`${path}: field "format" is ${JSON.stringify(m?.format)}, expected "${POLICY_FORMAT}"`);
  if (m.version !== POLICY_VERSION)
    throw new Error(`${path}: field "version" is ${JSON.stringify(m.version)}, but this policy.mjs reads format version ${POLICY_VERSION}: export the run again with a matching rescoin`);
  if (m.algorithm !== 'dqn' && m.algorithm !== 'qlearning') throw new Error(`${path}: field "algorithm" is ${JSON.stringify(m.algorithm)}, expected "dqn" or "qlearning"`);
  const obs = m.observation;
  if (!obs || !Array.isArray(obs.features) || obs.size !== obs.features.length)
    throw new Error(`${path}: field "observation.size" is ${obs?.size}, but "observation.features" lists ${obs?.features?.length} features`);
  const act = m.action;
  const product = Array.isArray(act?.nvec) ? act.nvec.reduce((a, b) => a * b, 1) : NaN;
  if (!act || act.n !== product) throw new Error(`${path}: field "action.n" is ${act?.n}, but the product of "action.nvec" is ${product}`);
  if (act.nvec.length !== act.appliances.length + (act.ev ? 1 : 0))
    throw new Error(`${path}: field "action.nvec" has ${act.nvec.length} components, expected ${act.appliances.length + (act.ev ? 1 : 0)} (the appliances, then the EV)`);
  if (!m.weights || !Array.isArray(m.weights.files) || m.weights.files.length === 0) throw new Error(`${path}: field "weights.files" lists no file`);
  return m;
}

function readVerified(dir: string, f: WeightFile, k: number): Uint8Array {
  const path = join(dir, f.path);
  let data: Uint8Array;
  try {
    data = readFileSync(path);
  } catch {
    throw new Error(`${path}: no such file, but policy.json weights.files[${k}] lists it`);
  }
  const sha = createHash('sha256').update(data).digest('hex');
  if (sha !== f.sha256)
    throw new Error(`${path}: SHA-256 ${sha} does not match policy.json weights.files[${k}].sha256 ${f.sha256}: the file was changed or damaged after export; refusing to act on it`);
  return data;
}

/** What acting needs from a network or a table. */
interface Scorer {
  /** Load an observation (already checked) and prepare its Q-values. */
  load(obs: Float32Array): void;
  /** Q of flat action j for the loaded observation. */
  q(j: number): number;
}

function makePolicy(m: PolicyManifest, scorer: Scorer): LoadedPolicy {
  const size = m.observation.size;
  const n = m.action.n;
  const x = new Float32Array(size);
  const nvec = m.action.nvec;
  const names = m.observation.features.map((f) => f.name);
  const loadObservation = (observation: ArrayLike<number>, where: string) => {
    if (observation == null || typeof observation.length !== 'number')
      throw new Error(`${where}: observation must be an array of ${size} numbers (policy.json observation.size), got ${typeof observation}`);
    if (observation.length !== size)
      throw new Error(`${where}: observation has ${observation.length} values, expected ${size} (policy.json observation.size: ${names[0]} … ${names[size - 1]})`);
    for (let i = 0; i < size; i++) {
      const v = observation[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: observation[${i}] (${names[i]}) is ${v}, expected a finite number`);
      x[i] = v;
    }
    scorer.load(x);
  };
  const unflatten = (action: number): number[] => {
    if (!Number.isInteger(action) || action < 0 || action >= n) throw new Error(`action ${action} is not an integer in [0, ${n}) (policy.json action.n)`);
    const out = new Array<number>(nvec.length);
    let rest = action;
    for (let c = nvec.length - 1; c >= 0; c--) {
      out[c] = rest % nvec[c];
      rest = Math.floor(rest / nvec[c]);
    }
    return out;
  };
  return {
    manifest: m,
    act(observation, actionMask) {
      if (actionMask == null || actionMask.length !== n)
        throw new Error(`act: actionMask has ${actionMask?.length} values, expected ${n} (policy.json action.n: one per flat action)`);
      loadObservation(observation, 'act');
      let best = -1;
      let bestQ = -Infinity;
      for (let j = 0; j < n; j++) {
        if (!actionMask[j]) continue;
        const q = scorer.q(j);
        if (best < 0 || q > bestQ) {
          best = j;
          bestQ = q;
        }
      }
      if (best < 0) throw new Error('act: the action mask allows no action');
      return best;
    },
    qValues(observation) {
      loadObservation(observation, 'qValues');
      const out = new Float64Array(n);
      for (let j = 0; j < n; j++) out[j] = scorer.q(j);
      return out;
    },
    unflatten,
    describe(action, appliancePowerKw) {
      const v = unflatten(action);
      const msgs: ControlMessage[] = m.action.appliances.map((a, i) => ({
        device: a.device,
        command: v[i] === 1 ? 'run' : 'wait',
        powerKw: v[i] === 1 ? (appliancePowerKw ? appliancePowerKw[i] : Math.max(...a.cycleKw)) : 0,
      }));
      const ev = m.action.ev;
      if (ev) {
        const level = ev.levels[v[v.length - 1]];
        msgs.push({ device: ev.device, command: level.command, powerKw: level.powerKw });
      }
      return msgs;
    },
  };
}

/** Recomputes the trainer's check values: a runtime that disagrees with the trainer must not act. */
function verifyChecks(m: PolicyManifest, scorer: Scorer, path: string): void {
  const x = new Float32Array(m.observation.size);
  m.checks.forEach((c, k) => {
    if (!Array.isArray(c.observation) || c.observation.length !== x.length) throw new Error(`${path}: checks[${k}].observation has ${c.observation?.length} values, expected ${x.length}`);
    x.set(c.observation);
    if (c.key !== undefined) {
      if (m.algorithm !== 'qlearning') throw new Error(`${path}: checks[${k}] has a table key, but the policy's algorithm is ${m.algorithm}`);
      const key = (scorer as TableScorer).keyOf(x);
      if (key !== c.key)
        throw new Error(
          `${path}: checks[${k}]: the trainer's table key is ${JSON.stringify(c.key)}, this policy.mjs computes ${JSON.stringify(key)}: its key function differs from the trainer's ` +
            '(runtime/policy.ts makeTableKey must follow agents/qlearning.ts stateKey); export the run again with a matching rescoin',
        );
    }
    if (c.q !== undefined) {
      if (c.q.length !== m.action.n) throw new Error(`${path}: checks[${k}].q has ${c.q.length} values, expected ${m.action.n} (policy.json action.n)`);
      scorer.load(x);
      for (let j = 0; j < c.q.length; j++) {
        const mine = scorer.q(j);
        if (!(Math.abs(mine - c.q[j]) <= 1e-4 * (1 + Math.abs(c.q[j]))))
          throw new Error(`${path}: checks[${k}].q[${j}] is ${c.q[j]} (tfjs), this policy.mjs computes ${mine}: the network is not read as the trainer reads it`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The network (DQN)

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

interface WeightSpecJson {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
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

const BYTES: Record<string, number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };

/** IEEE 754 binary16 → number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decodes one tensor's bytes to float32 values, as tfjs's `decodeWeights` does. */
export function decodeTensor(spec: WeightSpecJson, data: Uint8Array, offset: number, where: string): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  if (spec.dtype !== 'float32') throw new Error(`${where}: weight ${spec.name} has dtype ${spec.dtype}, expected float32`);
  const kind = q ? q.dtype : 'float32';
  if (!(kind in BYTES)) throw new Error(`${where}: weight ${spec.name} has quantization dtype ${kind}, expected float16, uint8 or uint16`);
  const view = new DataView(data.buffer, data.byteOffset + offset, size * BYTES[kind]);
  const out = new Float32Array(size);
  if (kind === 'float32') for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
  else if (kind === 'float16') for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else {
    const { min, scale } = q as { min: number; scale: number };
    if (typeof min !== 'number' || typeof scale !== 'number') throw new Error(`${where}: weight ${spec.name} is quantized to ${kind} without numeric "min" and "scale"`);
    for (let i = 0; i < size; i++) out[i] = (kind === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) * scale + min;
  }
  return out;
}

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

function networkScorer(m: PolicyManifest, files: Map<string, Uint8Array>, dir: string): Scorer {
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

// ---------------------------------------------------------------------------------------------
// The table (Q-learning)

interface TableScorer extends Scorer {
  keyOf(obs: Float32Array): string;
}

function tableScorer(m: PolicyManifest, files: Map<string, Uint8Array>, dir: string): TableScorer {
  const where = join(dir, 'qtable.json');
  const raw = files.get('qtable.json');
  if (!raw) throw new Error(`${join(dir, 'policy.json')}: weights.files lists no qtable.json, which a Q-learning policy needs`);
  const rows = JSON.parse(new TextDecoder().decode(raw)) as Record<string, number[]>;
  const n = m.action.n;
  const table = new Map<string, Float64Array>();
  for (const [k, q] of Object.entries(rows)) {
    if (!Array.isArray(q) || q.length !== n) throw new Error(`${where}: state ${JSON.stringify(k)} has ${q?.length} values, expected ${n} (policy.json action.n)`);
    table.set(k, Float64Array.from(q));
  }
  const keyOf = makeTableKey(m.observation.features.map((f) => f.name));
  const zeros = new Float64Array(n);
  let row: Float64Array = zeros;
  return {
    keyOf,
    load(obs) {
      row = table.get(keyOf(obs)) ?? zeros;
    },
    q: (j) => row[j],
  };
}

// ==== Q-learning table key: a copy of agents/qlearning.ts `stateKey` (its doc comment is the spec). ====
// Keep the two in step: `rescoin export` stores the trainer's keys of a few observations in
// policy.json `checks`, and loadPolicy refuses a policy whose keys this function does not reproduce.
const KEY_SLOTS = 96;
const SLACK_EDGES = [1, 3];
const PV_EDGES = [0.01, 0.1, 0.3, 0.6];
const EV_SPARE_EDGES = [-8, -4, -2, 0, 1, 2, 4, 8, 16];
const PEAK_STEP = 0.05;
const PEAK_MAX = 20;
const NEED_EPS = 1e-5;

function bucket(x: number, edges: readonly number[]): number {
  let b = 0;
  while (b < edges.length && x >= edges[b]) b++;
  return b;
}

/** The trainer's table key of an observation, given the observation's feature names in order. */
export function makeTableKey(names: readonly string[]): (obs: ArrayLike<number>) => string {
  const at = (name: string): number => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`policy.json observation.features has no feature '${name}', which the Q-table key needs`);
    return i;
  };
  const ids = names.filter((f) => f.endsWith('.pending')).map((f) => f.slice(0, -'.pending'.length));
  const sin = at('time_sin');
  const cos = at('time_cos');
  const price = at('price_now');
  const pv = at('pv_now');
  const peak = at('peak');
  const apps = ids.map((id) => ({ pending: at(`${id}.pending`), remaining: at(`${id}.remaining`), slack: at(`${id}.slack`) }));
  const ev = names.includes('ev.home') ? { home: at('ev.home'), needed: at('ev.needed'), due: at('ev.due') } : null;
  return (obs) => {
    const angle = Math.atan2(obs[sin], obs[cos]);
    const slot = (Math.round((angle / (2 * Math.PI)) * KEY_SLOTS) + KEY_SLOTS) % KEY_SLOTS;
    const band = Math.round(20 * obs[price]);
    const pvBucket = bucket(obs[pv], PV_EDGES);
    const peakBucket = Math.min(PEAK_MAX, Math.floor(obs[peak] / PEAK_STEP));
    const parts = apps.map((a) => {
      if (obs[a.pending] < 0.5) return '-';
      const started = obs[a.remaining] < 1 - 1e-6 ? 1 : 0;
      const slack = bucket(Math.round(obs[a.slack] * KEY_SLOTS), SLACK_EDGES);
      return `${started}${slack}`;
    });
    let evPart = '';
    if (ev) {
      if (obs[ev.home] < 0.5) evPart = '|-';
      else {
        const needed = obs[ev.needed];
        const spare = Math.round(obs[ev.due] * KEY_SLOTS) - needed * KEY_SLOTS;
        evPart = needed < NEED_EPS ? '|ok' : `|${bucket(spare, EV_SPARE_EDGES)}`;
      }
    }
    return `${slot}|${band}|${pvBucket}|${peakBucket}|${parts.join(',')}${evPart}`;
  };
}
// ==== end of the table key ====
