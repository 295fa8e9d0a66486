/**
 * # rescoin gateway runtime (`policy.mjs`): the spec of an exported policy folder
 *
 * `rescoin export` bundles runtime/ (entry runtime/index.ts, with esbuild) into one plain
 * JavaScript file and copies it into the folder as `policy.mjs`. It imports nothing but Node's
 * built-in `node:fs`, `node:path` and `node:crypto` (an eslint rule keeps runtime/ so): a home
 * gateway needs Node.js ≥ 20 and the folder, nothing else — no TensorFlow.js, no build step, no
 * `node_modules`. docs/gateway.md shows an integration.
 *
 * ```js
 * import { loadController } from './gateway/home/policy.mjs';
 * const home = loadController('./gateway/home');   // checks version, hashes and the trainer's check values
 * home.begin();                                     // 00:00: a new day
 * const { action, messages } = home.step(readings); // each slot: readings in, control messages out
 * ```
 * `loadPolicy(dir)` gives the bare policy (`act(observation, flatMask)`) for who builds the
 * observation itself; the controller (runtime/controller.ts) builds it, the masks and the state a
 * gateway keeps, with the very code the simulator (env/) runs.
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
 * | `observation` | `{ size, dtype: "float32", features: [{ name, unit, scaling, low, high }] }`: feature k is observation[k] (runtime/features.ts, the table the controller computes them from) |
 * | `action` | `{ n, nvec, encoding, appliances: [{ device, name, kind, cycleKw }], ev: { device, levels: [{ command, powerKw }] } or null }`. Flat index a ∈ [0, n) is the ravel of the components in C order (the last varies fastest): a = Σ_c v_c·Π_{c' > c} nvec[c'], component c < appliances.length is appliance c (0 wait, 1 run), the last (with an EV) the EV level |
 * | `home` | what the controller needs to build observations and masks without the scenario: `{ contractKw, pvPeakKw, maxPriceKwh, priceKwh[96], ev: { capacityKwh, socMinKwh, chargeEfficiency, dischargeEfficiency, chargeStepKw, rateMax } or null }` |
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
 * by `makeTableKey` (runtime/tablekey.ts), the very function the trainer keys its table with.
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

/** What acting needs from a network or a table. */
export interface Scorer {
  /** Load an observation (already checked) and prepare its Q-values. */
  load(obs: Float32Array): void;
  /** Q of flat action j for the loaded observation. */
  q(j: number): number;
}

/** What the home controller needs of a home: a manifest's `action` and `home` (a PolicyManifest is one). */
export interface ControllerSpec {
  action: { nvec: ArrayLike<number>; appliances: readonly ApplianceSpec[]; ev: { device: string; levels: readonly EvLevel[] } | null };
  home: PolicyManifest['home'];
}
