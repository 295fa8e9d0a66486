import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { controllerSpec, flatCodec, HELD_OUT_SEED, heldOutDay, trainingDay, loadScenario, makeEnv, noManagementAction, observationLayout, SLOTS, type Scenario } from '../env/index.js';
import { maskedArgmax } from '../agents/agent.js';
import { quantizeModel } from '../models/weights.js';
import { newestReportOf, readReport, REPORT_FILE, runFigures } from '../evaluation/report.js';
import { POLICY_FORMAT, POLICY_VERSION, type Agreement, type LoadedPolicy, type PolicyCheck, type PolicyManifest, type Quantization, type WeightFile } from '../runtime/policy.js';

/**
 * `rescoin export --run runs/NAME --out gateway/NAME [--quantize none|float16|uint8]`: a run's final
 * policy as a self-contained folder for a home gateway. runtime/manifest.ts is the spec of the folder
 * (policy.json, the weights formats, policy.mjs); this module writes it:
 *   1. reads the run (config.json, model/) and the scenario it was trained on (same hash, or refuse);
 *   2. writes the weights: DQN `model.json` + `weights.bin` (quantised when asked, models/weights.ts;
 *      uint8 is calibrated on the decisions of the run's first 60 training days, models/quantize.ts),
 *      Q-learning `qtable.json`;
 *   3. computes the check values with the trainer's own code (tfjs for DQN, `stateKey` for Q-learning);
 *   4. writes the runtime bundled from runtime/ as `policy.mjs`, writes `policy.json` last, then loads the folder
 *      through that policy.mjs, which recomputes the checks: a folder that does not act like the
 *      trainer is never left behind as a success;
 *   5. (DQN) measures how often the exported weights choose the trainer's float32 action on the
 *      decisions of 10 held-out days, and records it as policy.json `weights.agreement`: quantised
 *      weights lose decisions where the trainer's Q-values are nearly tied, and a gateway integrator
 *      should see how many.
 * Evaluation figures come from the report.json of `--report reports/X` or, without it, of the newest
 * report under `reports/` that lists this run (see findEvaluation).
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
// The manifest

/** The action layout: what each component and each of its values commands (the controller's, plus the flat encoding). */
export function actionLayout(s: Scenario): PolicyManifest['action'] {
  const { nvec, appliances, ev: levels } = controllerSpec(s).action;
  const ev = s.ev;
  return {
    n: flatCodec(s).n,
    nvec: Array.from(nvec),
    encoding:
      'flat index = ravel of the component values in C order, the last component varying fastest: a = Σ_c v_c·Π_{c′>c} nvec[c′]. ' +
      'Components: each appliance in order (0 wait, 1 run: an interruptible one runs one slot of its cycle, a non-interruptible one starts and then runs to its end), ' +
      (ev ? `then the EV (index into ev.levels: 0 idle, 1…${ev.chargeSteps} charge${ev.dischargeSteps ? `, ${ev.chargeSteps + 1}…${ev.chargeSteps + ev.dischargeSteps} discharge (V2H)` : ''}).` : 'no EV.'),
    appliances: [...appliances],
    ev: levels && { device: levels.device, levels: [...levels.levels] },
  };
}

/** The scenario's numbers a gateway needs to build observations and masks: the controller's own (env/core.ts controllerSpec). */
export function homeSpec(s: Scenario): PolicyManifest['home'] {
  return controllerSpec(s).home;
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
 * The run's figures from the report.json of `report`, or without it of the newest report under
 * ./reports that evaluated this run folder (evaluation/report.ts); none found → null.
 */
export function findEvaluation(runDir: string, report?: string): Record<string, unknown> | null {
  const name = basename(resolve(runDir));
  const found = report === undefined ? newestReportOf(runDir, 'reports') : { dir: report, report: readReport(report) };
  const figures = found && runFigures(found.report, name);
  if (report !== undefined && !figures) throw new Error(`--report: ${join(report, REPORT_FILE)} has no policy ${name} (the run folder's name)`);
  return figures && { report: found.dir, ...figures };
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
    await playGreedy(trainer, s, (d) => trainingDay(trainingSeed, d), CALIBRATION_DAYS, (obs) => calibration!.push(obs.slice()));
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
 * Plays the days of seeds daySeed(0…days−1) with `model`'s greedy masked choice (tfjs, float32),
 * calling `visit` with each decision's observation, mask, Q-values and the action played.
 */
async function playGreedy(model: import('@tensorflow/tfjs').LayersModel, s: Scenario, daySeed: (d: number) => number, days: number, visit: (obs: Float32Array, mask: Uint8Array, q: Float32Array | Int32Array | Uint8Array, action: number) => void): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const env = makeEnv(s);
  const flat = flatCodec(s);
  for (let d = 0; d < days; d++) {
    let { observation, info } = env.reset({ seed: daySeed(d) });
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

/** Export measures agreement on the first held-out days (those `rescoin evaluate` plays by default). */
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
  await playGreedy(model, s, heldOutDay, AGREEMENT_DAYS, (obs, mask, q, trainer) => {
    const mine = exported.act(obs, mask);
    decisions++;
    if (mine !== trainer) losses.push(q[trainer] - q[mine]);
  });
  model.dispose();
  losses.sort((a, b) => a - b);
  return {
    days: `daySeed(${HELD_OUT_SEED}, d), d = 0…${AGREEMENT_DAYS - 1}`,
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
