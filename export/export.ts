import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { daySeed, flatCodec, loadScenario, makeEnv, noManagementAction, observationLayout, SLOTS, EV_RATE_MAX, type Scenario } from '../env/index.js';
import { maskedArgmax } from '../agents/agent.js';
import { calibrateUint8, uint8Code, uint8Grid, type CalibratedNet, type DenseNet, type Uint8Tensor } from '../models/quantize.js';
import { policyStats, type DayFigures } from '../evaluation/stats.js';
import { POLICY_FORMAT, POLICY_VERSION, type Agreement, type LoadedPolicy, type PolicyCheck, type PolicyManifest, type Quantization, type WeightFile } from '../runtime/policy.js';

/**
 * `rescoin export --run runs/NAME --out gateway/NAME [--quantize none|float16|uint8]`: a run's final
 * policy as a self-contained folder for a home gateway. runtime/manifest.ts is the spec of the folder
 * (policy.json, the weights formats, policy.mjs); this module writes it:
 *   1. reads the run (config.json, model/) and the scenario it was trained on (same hash, or refuse);
 *   2. writes the weights: DQN `model.json` + `weights.bin` (quantised when asked; uint8 is calibrated
 *      on the decisions of the run's first 60 training days, models/quantize.ts), Q-learning `qtable.json`;
 *   3. computes the check values with the trainer's own code (tfjs for DQN, `stateKey` for Q-learning);
 *   4. writes the runtime bundled from runtime/ as `policy.mjs`, writes `policy.json` last, then loads the folder
 *      through that policy.mjs, which recomputes the checks: a folder that does not act like the
 *      trainer is never left behind as a success;
 *   5. (DQN) measures how often the exported weights choose the trainer's float32 action on the
 *      decisions of 10 held-out days, and records it as policy.json `weights.agreement`: quantised
 *      weights lose decisions where the trainer's Q-values are nearly tied, and a gateway integrator
 *      should see how many.
 * Evaluation figures come from `--report reports/X` or, without it, the newest report under
 * `reports/` whose report.md lists this run and whose days.csv has its rows (see findEvaluation).
 */

export const QUANTIZATIONS = ['none', 'float16', 'uint8'] as const;

export interface ExportOptions {
  run: string;
  out: string;
  quantize?: Quantization;
  /** Scenario id or path; default the run's. Its hash must be the run's. */
  scenario?: string;
  /** A `rescoin evaluate` report folder to take the evaluation figures from. */
  report?: string;
  /** Replace a non-empty --out folder. */
  overwrite?: boolean;
}

export interface ExportResult {
  dir: string;
  manifest: PolicyManifest;
  /** Every file of the folder with its size, and their total in bytes. */
  files: { path: string; bytes: number }[];
  bytes: number;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** rescoin's version, from package.json above the sources or above dist/. */
function packageVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '..', 'package.json'), join(here, '..', '..', 'package.json')])
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  return 'unknown';
}

/**
 * esbuild's options for policy.mjs; package.json's build script passes the same flags to its CLI.
 * Whitespace only is minified (names and messages stay): the folder of the default DQN must stay
 * under 100 KB with uint8 weights, and the runtime is a third of it.
 */
const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  minifyWhitespace: true,
  banner: { js: "// rescoin gateway runtime (policy.mjs), bundled from rescoin's runtime/: docs/gateway.md tells how to use it, runtime/manifest.ts is the spec of policy.json." },
} as const;

/**
 * The gateway runtime as one file, policy.mjs: bundled with esbuild from runtime/index.ts whenever
 * the sources are there (a checkout, the tests: never a stale copy), else the bundle that
 * `npm run build` wrote to dist/runtime/policy.mjs (an installed package ships no sources).
 */
export async function runtimeBundle(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, '..', 'runtime', 'policy.mjs');
  for (const root of [join(here, '..'), join(here, '..', '..')]) {
    const entry = join(root, 'runtime', 'index.ts');
    if (!existsSync(entry)) continue;
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      break;
    }
    const r = await esbuild.build({ ...BUNDLE_OPTIONS, entryPoints: [entry], write: false });
    return r.outputFiles[0].text;
  }
  if (existsSync(built)) return readFileSync(built, 'utf8');
  throw new Error(`cannot find the gateway runtime: neither runtime/index.ts with esbuild nor ${built} from ${here}: run \`npm run build\` first`);
}

// ---------------------------------------------------------------------------------------------
// Quantisation (what tfjs-converter's quantization.py does, per tensor)

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

// ---------------------------------------------------------------------------------------------
// The manifest

/** The action layout: what each component and each of its values commands. */
export function actionLayout(s: Scenario): PolicyManifest['action'] {
  const nvec = Array.from(flatCodec(s).nvec);
  const ev = s.ev;
  const levels: PolicyManifest['action']['ev'] = ev
    ? {
        device: 'ev',
        levels: [
          { command: 'idle', powerKw: 0 },
          ...Array.from({ length: ev.chargeSteps }, (_, k) => ({ command: 'charge' as const, powerKw: (k + 1) * ev.chargeStepKw })),
          ...Array.from({ length: ev.dischargeSteps }, (_, m) => ({ command: 'discharge' as const, powerKw: -(m + 1) * ev.dischargeStepKw })),
        ],
      }
    : null;
  return {
    n: nvec.reduce((a, b) => a * b, 1),
    nvec,
    encoding:
      'flat index = ravel of the component values in C order, the last component varying fastest: a = Σ_c v_c·Π_{c′>c} nvec[c′]. ' +
      'Components: each appliance in order (0 wait, 1 run: an interruptible one runs one slot of its cycle, a non-interruptible one starts and then runs to its end), ' +
      (ev ? `then the EV (index into ev.levels: 0 idle, 1…${ev.chargeSteps} charge${ev.dischargeSteps ? `, ${ev.chargeSteps + 1}…${ev.chargeSteps + ev.dischargeSteps} discharge (V2H)` : ''}).` : 'no EV.'),
    appliances: s.appliances.map((a) => ({ device: a.id, name: a.name, kind: a.kind, cycleKw: [...a.cycleKw] })),
    ev: levels,
  };
}

/** The scenario's numbers a gateway needs to build observations and masks (see gateway.ts). */
export function homeSpec(s: Scenario): PolicyManifest['home'] {
  return {
    contractKw: s.grid.contractKw,
    pvPeakKw: s.pv.peakKw,
    maxPriceKwh: Math.max(1e-12, ...s.tariff.bands.map((b) => b.eurPerKwh)),
    priceKwh: Array.from(s.priceKwh),
    ev: s.ev
      ? {
          capacityKwh: s.ev.capacityKwh,
          socMinKwh: s.ev.socMinKwh,
          chargeEfficiency: s.ev.chargeEfficiency,
          dischargeEfficiency: s.ev.dischargeEfficiency,
          chargeStepKw: s.ev.chargeStepKw,
          rateMax: EV_RATE_MAX,
        }
      : null,
  };
}

/** Observations for the checks: one no-management day, at slots spread over it (evening requests included). */
function checkObservations(s: Scenario, slots: number[]): Float32Array[] {
  const env = makeEnv(s);
  let { observation, info } = env.reset({ seed: 1 });
  const out: Float32Array[] = [];
  const action = new Int32Array(env.nComponents);
  for (let t = 0; t < SLOTS; t++) {
    if (slots.includes(t)) out.push(observation.slice());
    const r = env.step(noManagementAction(info.home, action));
    observation = r.observation;
    info = r.info;
  }
  return out;
}

/** Eight significant digits: enough for the runtime's 1e-4 check, and a smaller policy.json. */
const round8 = (x: number): number => Number(x.toPrecision(8));
/** Nine significant digits give back the same float32 (the runtime reads observations as float32). */
const float32Text = (obs: Float32Array): number[] => Array.from(obs, (x) => Number(x.toPrecision(9)));

/** JSON with objects indented, and arrays of numbers or strings and small flat objects on one line: readable, and short. */
export function formatJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return JSON.stringify(value);
    const inner = indent + ' ';
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    // A small flat object (a feature, an EV level) reads best on one line.
    const line = JSON.stringify(value);
    if (line.length <= 140 && entries.every(([, v]) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object')))) return line;
    const inner = indent + ' ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Evaluation figures

/**
 * The run's figures from a `rescoin evaluate` report: its rows of days.csv (policy = the run
 * folder's name) against the asap and milp rows of the same days. With `report` undefined, looks
 * for the newest folder under ./reports whose report.md names this run (its "Runs:" line, resolved
 * from the current directory) and whose days.csv has its rows; none found → null.
 */
export function findEvaluation(runDir: string, report?: string): Record<string, unknown> | null {
  const name = basename(resolve(runDir));
  const candidates: string[] = [];
  if (report !== undefined) {
    if (!existsSync(join(report, 'days.csv'))) throw new Error(`--report: ${report} has no days.csv: expected a \`rescoin evaluate\` report folder`);
    candidates.push(report);
  } else if (existsSync('reports')) {
    const runAbs = resolve(runDir);
    for (const d of readdirSync('reports')) {
      const md = join('reports', d, 'report.md');
      if (!existsSync(md) || !existsSync(join('reports', d, 'days.csv'))) continue;
      const runs = /^.*Runs: (.*)\.$/m.exec(readFileSync(md, 'utf8'))?.[1]?.split(', ') ?? [];
      if (runs.some((r) => resolve(r) === runAbs)) candidates.push(join('reports', d));
    }
    candidates.sort((a, b) => statSync(join(b, 'days.csv')).mtimeMs - statSync(join(a, 'days.csv')).mtimeMs);
  }
  for (const dir of candidates) {
    const lines = readFileSync(join(dir, 'days.csv'), 'utf8').trim().split('\n');
    const head = lines[0].split(',');
    const col = (c: string) => head.indexOf(c);
    const rows = lines.slice(1).map((l) => l.split(','));
    const of = (policy: string) => new Map(rows.filter((r) => r[col('policy')] === policy).map((r) => [Number(r[col('day')]), r]));
    const mine = of(name);
    if (mine.size === 0) {
      if (report !== undefined) throw new Error(`--report: ${dir}/days.csv has no rows of policy ${name} (the run folder's name)`);
      continue;
    }
    const milp = of('milp');
    const asap = of('asap');
    const days = [...mine.keys()];
    // The report's own figures: its days.csv rows through evaluate's policyStats.
    const figures = (r: string[]): DayFigures => ({ score: Number(r[col('score')]), cost: Number(r[col('cost')]), peakKw: Number(r[col('peakKw')]), par: Number(r[col('par')]), rescoin: Number(r[col('rescoin')]), violations: Number(r[col('violations')]) });
    const complete = days.every((d) => milp.has(d) && asap.has(d));
    const rowsOf = (policy: string, m: Map<number, string[]>) => (complete ? days.map((d) => ({ policy, summary: figures(m.get(d)!) })) : []);
    const st = policyStats([name], [...days.map((d) => ({ policy: name, summary: figures(mine.get(d)!) })), ...rowsOf('milp', milp), ...rowsOf('asap', asap)])[0];
    return {
      report: dir,
      policy: name,
      days: days.length,
      daySeeds: days.map((d) => Number(mine.get(d)![col('seed')])),
      meanScore: st.meanScore,
      meanCost: st.meanCost,
      meanPeakKw: st.meanPeakKw,
      meanRescoin: st.meanRescoin,
      violations: st.violations,
      gapPct: complete ? st.gapPct : null,
    };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Export

/** Training days whose decisions calibrate uint8 weights (export's agreement days are held out). */
const CALIBRATION_DAYS = 60;

async function dqnWeights(modelDir: string, out: string, quantize: Quantization, s: Scenario, obsSize: number, nActions: number, trainingSeed: number): Promise<{ files: string[]; checks: PolicyCheck[] }> {
  const agent = JSON.parse(readFileSync(join(modelDir, 'agent.json'), 'utf8')) as { obsSize: number; nActions: number };
  if (agent.obsSize !== obsSize || agent.nActions !== nActions)
    throw new Error(`${modelDir}: the network takes ${agent.obsSize} features and gives ${agent.nActions} actions, but scenario ${s.id} has ${obsSize} and ${nActions}: retrain it with this version`);
  const { initBackend } = await import('../models/backend.js');
  await initBackend('auto');
  const tf = await import('@tensorflow/tfjs');
  const { loadQNet } = await import('../models/qnet.js');
  let calibration: Float32Array[] | undefined;
  if (quantize === 'uint8') {
    const trainer = await loadQNet(join(modelDir, 'online'));
    calibration = [];
    await playGreedy(trainer, s, trainingSeed, CALIBRATION_DAYS, (obs) => calibration!.push(obs.slice()));
    trainer.dispose();
  }
  const { modelJson, weights } = quantizeModel(join(modelDir, 'online'), quantize, calibration);
  writeFileSync(join(out, 'weights.bin'), weights);
  writeFileSync(join(out, 'model.json'), JSON.stringify(modelJson));
  // Check values: what tfjs computes with the exported (quantised) weights, as the trainer does.
  const model = await loadQNet(out);
  const checks = checkObservations(s, [0, 84]).map((obs) => {
    const q = tf.tidy(() => model.predict(tf.tensor2d(obs, [1, obs.length])) as import('@tensorflow/tfjs').Tensor);
    const values = Array.from(q.dataSync(), round8);
    q.dispose();
    return { observation: float32Text(obs), q: values };
  });
  model.dispose();
  return { files: ['model.json', 'weights.bin'], checks };
}

/**
 * Plays days daySeed(seed, 0…days−1) with `model`'s greedy masked choice (tfjs, float32), calling
 * `visit` with each decision's observation, mask, Q-values and the action played.
 */
async function playGreedy(model: import('@tensorflow/tfjs').LayersModel, s: Scenario, seed: number, days: number, visit: (obs: Float32Array, mask: Uint8Array, q: Float32Array | Int32Array | Uint8Array, action: number) => void): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const env = makeEnv(s);
  const flat = flatCodec(s);
  for (let d = 0; d < days; d++) {
    let { observation, info } = env.reset({ seed: daySeed(seed, d) });
    for (;;) {
      const mask = flat.flatMask(info.home);
      // Read outside tidy, as DqnAgent.qValues does.
      const t = tf.tidy(() => model.predict(tf.tensor2d(observation, [1, observation.length])) as import('@tensorflow/tfjs').Tensor);
      const q = t.dataSync();
      t.dispose();
      const action = maskedArgmax(q, mask);
      visit(observation, mask, q, action);
      const r = env.step(flat.unflatten(action));
      observation = r.observation;
      info = r.info;
      if (r.terminated) break;
    }
  }
}

async function tableWeights(modelDir: string, out: string, s: Scenario): Promise<{ files: string[]; checks: PolicyCheck[] }> {
  const { QLearningAgent } = await import('../agents/qlearning.js');
  const agent = await QLearningAgent.load(modelDir);
  const names = observationLayout(s).map((f) => f.name).join(', ');
  if (agent.layout.map((f) => f.name).join(', ') !== names) throw new Error(`${modelDir}: the table was trained on observations of [${agent.layout.map((f) => f.name).join(', ')}], but scenario ${s.id} gives [${names}]: retrain it with this version`);
  copyFileSync(join(modelDir, 'qtable.json'), join(out, 'qtable.json'));
  const checks = checkObservations(s, [0, 20, 40, 60, 72, 80, 84, 88, 95]).map((obs) => ({ observation: float32Text(obs), key: agent.stateKey(obs) }));
  agent.dispose();
  return { files: ['qtable.json'], checks };
}

/** The held-out days `rescoin evaluate` plays by default: export measures agreement on them. */
const AGREEMENT_SEED = 100000;
const AGREEMENT_DAYS = 10;

/**
 * How often the exported policy chooses what the trainer's float32 network (tfjs) chooses, on every
 * decision of the first held-out days played by that network, and what the disagreements lose by
 * the trainer's own Q-values (near-ties lose little). Quantised weights are judged by this.
 */
async function measureAgreement(onlineDir: string, exported: LoadedPolicy, s: Scenario): Promise<Agreement> {
  const { loadQNet } = await import('../models/qnet.js');
  const model = await loadQNet(onlineDir);
  let decisions = 0;
  const losses: number[] = [];
  await playGreedy(model, s, AGREEMENT_SEED, AGREEMENT_DAYS, (obs, mask, q, trainer) => {
    const mine = exported.act(obs, mask);
    decisions++;
    if (mine !== trainer) losses.push(q[trainer] - q[mine]);
  });
  model.dispose();
  losses.sort((a, b) => a - b);
  return {
    days: `daySeed(${AGREEMENT_SEED}, d), d = 0…${AGREEMENT_DAYS - 1}`,
    decisions,
    pct: Math.round((10000 * (decisions - losses.length)) / decisions) / 100,
    medianQLoss: losses.length ? round8(losses[losses.length >> 1]) : null,
  };
}

/** Writes the gateway folder of a run (see the module comment). */
export async function exportPolicy(o: ExportOptions): Promise<ExportResult> {
  const quantize = o.quantize ?? 'none';
  // train.ts (and its progress bar) is loaded on use, so that `rescoin --help` stays quick.
  const { readRunConfig, scenarioHash } = await import('../training/train.js');
  if (!(QUANTIZATIONS as readonly string[]).includes(quantize)) throw new Error(`--quantize must be one of ${QUANTIZATIONS.join(', ')}, got ${quantize}`);
  const run = readRunConfig(o.run);
  const modelDir = join(o.run, 'model');
  if (!existsSync(modelDir)) throw new Error(`${o.run} has no model/: the run has not finished (resume it with \`rescoin train --out ${o.run} --resume\`)`);
  const s = loadScenario(o.scenario ?? run.scenario);
  if (scenarioHash(s) !== run.scenarioHash)
    throw new Error(`${o.run} was trained on scenario ${run.scenario} with hash ${run.scenarioHash}, but ${o.scenario ?? run.scenario} now has hash ${scenarioHash(s)}: export must describe the home the policy learned (give that scenario file with --scenario)`);
  if (run.algorithm === 'qlearning' && quantize !== 'none') throw new Error(`--quantize ${quantize}: expected none for a Q-learning run (its table is exported as it is)`);
  const evaluation = findEvaluation(o.run, o.report);

  const out = o.out;
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!o.overwrite) throw new Error(`--out ${out} is not empty: expected a new folder, or add --overwrite to replace it`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  const layout = observationLayout(s);
  const action = actionLayout(s);
  const { files, checks } =
    run.algorithm === 'dqn' ? await dqnWeights(modelDir, out, quantize, s, layout.length, action.n, run.seed) : await tableWeights(modelDir, out, s);
  const weightFiles: WeightFile[] = files.map((path) => {
    const data = readFileSync(join(out, path));
    return { path, bytes: data.byteLength, sha256: sha256(data) };
  });
  writeFileSync(join(out, 'policy.mjs'), await runtimeBundle());
  const manifest: PolicyManifest = {
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    createdAt: new Date().toISOString(),
    generatedBy: `rescoin ${packageVersion()}`,
    run: { name: basename(resolve(o.run)), seed: run.seed, episodes: run.episodes },
    scenario: { id: s.id, name: s.name, hash: run.scenarioHash },
    algorithm: run.algorithm,
    config: run.config as unknown as Record<string, unknown>,
    observation: { size: layout.length, dtype: 'float32', features: layout.map(({ name, unit, scaling, low, high }) => ({ name, unit, scaling, low, high })) },
    action,
    home: homeSpec(s),
    weights: { format: run.algorithm === 'dqn' ? 'tfjs-layers' : 'qtable', quantization: quantize, files: weightFiles },
    checks,
    evaluation,
  };
  writeFileSync(join(out, 'policy.json'), `${formatJson(manifest)}\n`);
  // The proof: the folder loads through its own policy.mjs, which recomputes the checks.
  const rt = (await import(pathToFileURL(resolve(out, 'policy.mjs')).href)) as typeof import('../runtime/index.js');
  const loaded = rt.loadPolicy(out);
  if (run.algorithm === 'dqn') {
    manifest.weights.agreement = await measureAgreement(join(modelDir, 'online'), loaded, s);
    writeFileSync(join(out, 'policy.json'), `${formatJson(manifest)}\n`);
  }
  const listing = readdirSync(out).map((path) => ({ path, bytes: statSync(join(out, path)).size }));
  return { dir: out, manifest, files: listing, bytes: listing.reduce((a, f) => a + f.bytes, 0) };
}

// ---------------------------------------------------------------------------------------------
// The command

function exportOptions(y: Argv) {
  return y
    .option('run', { type: 'string', demandOption: true, describe: 'Run folder (rescoin train --out): its config.json and model/' })
    .option('out', { type: 'string', demandOption: true, describe: 'Folder to write: policy.json, policy.mjs, and model.json + weights.bin (DQN) or qtable.json (Q-learning)' })
    .option('quantize', { choices: QUANTIZATIONS, default: 'none' as Quantization, describe: 'DQN weights as float32 (none), IEEE half (float16) or per-tensor affine uint8' })
    .option('scenario', { type: 'string', describe: "Scenario id or path, when the run's is not found under its id (its hash must match the run's)" })
    .option('report', { type: 'string', describe: 'A `rescoin evaluate` report folder whose days.csv holds the run: its figures go into policy.json (default: the newest report under ./reports that lists the run)' })
    .option('overwrite', { type: 'boolean', default: false, describe: 'Replace --out when it is not empty' });
}

type ExportArgs = Awaited<ReturnType<typeof exportOptions>['argv']>;

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: "Export a run's policy to a self-contained gateway folder (no tfjs needed to act: policy.mjs)",
  builder: exportOptions as unknown as CommandModule<object, ExportArgs>['builder'],
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    const r = await exportPolicy({ run: args.run, out: args.out, quantize: args.quantize, scenario: args.scenario, report: args.report, overwrite: args.overwrite });
    const m = r.manifest;
    console.log(`exported ${m.algorithm} run ${m.run.name} (${m.scenario.id}, weights ${m.weights.quantization}) to ${r.dir}: ${r.files.map((f) => `${f.path} ${f.bytes.toLocaleString('en-US')} B`).join(', ')}; ${(r.bytes / 1024).toFixed(1)} KiB in all`);
    const ag = m.weights.agreement;
    if (ag)
      console.log(
        `${m.weights.quantization === 'none' ? 'float32' : m.weights.quantization} weights choose the trainer's action (tfjs, float32) on ${ag.pct.toFixed(2)} % of ${ag.decisions} decisions of ${ag.days}` +
          (ag.medianQLoss === null ? '' : `; the others lose a median ${ag.medianQLoss} of its Q-value units (reward × rewardScale)`),
      );
    if (!m.evaluation) console.log('no evaluation report lists this run: policy.json has evaluation null (give --report reports/X)');
    else console.log(`evaluation from ${m.evaluation.report}: ${m.evaluation.days} days, gap ${typeof m.evaluation.gapPct === 'number' ? `${m.evaluation.gapPct.toFixed(1)} %` : '-'}`);
  },
};
