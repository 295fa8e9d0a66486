import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ActionCodec } from './codec.js';
import { POLICY_FORMAT, POLICY_VERSION, type ControlMessage, type PolicyManifest, type Scorer, type WeightFile } from './manifest.js';
import { networkScorer } from './network.js';
import { tableScorer, type TableScorer } from './table.js';

export type * from './manifest.js';
export { POLICY_FORMAT, POLICY_VERSION } from './manifest.js';
export { makeTableKey } from './tablekey.js';

/** Loading and acting: an exported folder's policy, checked against the trainer (spec: manifest.ts). */

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
  const codec = new ActionCodec(nvec);
  const unflatten = (action: number): number[] => {
    if (!Number.isInteger(action) || action < 0 || action >= n) throw new Error(`action ${action} is not an integer in [0, ${n}) (policy.json action.n)`);
    return Array.from(codec.unflatten(action));
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
            '(the folder was exported by another rescoin version); export the run again with a matching rescoin',
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
