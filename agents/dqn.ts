import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../env/rng.js';
import { buildQNet, copyWeights, loadQNet, readTensors, saveQNet, writeTensors } from '../models/qnet.js';
import { linearSchedule, maskedArgmax, randomAllowed, type Agent, type Transition } from './agent.js';
import { dqnConfig, type DqnConfig } from './config.js';
import { makeBatch, NStepReturns, ReplayBuffer, type Batch } from './replay.js';
import { DemoBuffer, imitationLoss, makeDemoBatch, type DemoBatch } from './dqfd.js';
import { clipByGlobalNorm, restoreBetaPowers } from './optim.js';

export { ReplayBuffer, type Batch } from './replay.js';

/**
 * DQN over the flat joint action (FlattenAction), as CleanRL's dqn.py: a replay buffer with optional
 * n-step returns (replay.ts, shared with any other value-based agent), ε-greedy over the action mask, Double DQN targets that never bootstrap from a masked action,
 * Huber loss, Adam with global-norm clipping, and a hard or Polyak target network.
 *
 * Counting: `steps` counts transitions given to `learn`, so with 8 homes stepped together 8 steps
 * pass per slot; `learningStarts`, `trainFrequency` and the ε schedule are all in these steps.
 */

export interface DqnAgentOptions {
  obsSize: number;
  nActions: number;
  config: DqnConfig;
  seed: number;
  /** Steps of the whole run: ε decays over `epsilonFraction` of them. */
  totalSteps: number;
}

/**
 * TD targets y = r + γ^h·Q_target(s', a*) with a* the online net's masked argmax (Double DQN), or
 * y = r + γ^h·max over the mask of Q_target(s') when `double` is false; h is the row's horizon (1
 * for one-step rows, n for n-step returns). No bootstrap when the day ended or the next mask allows
 * nothing.
 */
export function tdTargets(online: tf.LayersModel, target: tf.LayersModel, b: Batch, gamma: number, double: boolean): tf.Tensor1D {
  const nActions = b.nextMasks.length / b.n;
  // The discount of each row's bootstrap, 0 where it does not bootstrap.
  const discount = new Float32Array(b.n);
  for (let k = 0; k < b.n; k++) {
    const bootstraps = !b.dones[k] && b.nextMasks.subarray(k * nActions, (k + 1) * nActions).includes(1);
    discount[k] = bootstraps ? gamma ** (b.horizons ? b.horizons[k] : 1) : 0;
  }
  return tf.tidy(() => {
    const next = tf.tensor2d(b.nextObs, [b.n, b.nextObs.length / b.n]);
    const mask = tf.tensor2d(b.nextMasks, [b.n, nActions], 'bool');
    const qTarget = target.apply(next) as tf.Tensor2D;
    const excluded = tf.fill([b.n, nActions], -Infinity);
    let value: tf.Tensor1D;
    if (double) {
      const best = tf.argMax(tf.where(mask, online.apply(next) as tf.Tensor2D, excluded), 1);
      value = tf.sum(tf.mul(qTarget, tf.oneHot(best, nActions)), 1);
    } else {
      value = tf.max(tf.where(mask, qTarget, excluded), 1);
    }
    // `where`, not a product: an empty mask's max is −∞ and 0·−∞ is NaN.
    const d = tf.tensor1d(discount);
    const future = tf.where(tf.greater(d, 0), tf.mul(value, d), tf.zerosLike(value));
    return tf.add(tf.tensor1d(b.rewards), future);
  });
}

/**
 * Mean Huber loss (δ = 1, SB3's smooth L1) of Q(s, a) against the targets. Q(s, a) is picked with a
 * one-hot product: tf.gather's gradient needs UnsortedSegmentSum, which the WASM backend lacks.
 */
export function tdLoss(online: tf.LayersModel, obs: tf.Tensor2D, actions: tf.Tensor1D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const q = online.apply(obs, { training: true }) as tf.Tensor2D;
    const taken = tf.sum(tf.mul(q, tf.oneHot(actions, q.shape[1])), 1);
    return tf.losses.huberLoss(targets, taken) as tf.Scalar;
  });
}

/** What `save` writes as agent.json, besides the weights, optimiser and buffer files. */
interface SavedAgent {
  format: 'rescoin-dqn';
  /** 2 added the replay buffer's horizons (n-step returns). */
  version: 1 | 2;
  obsSize: number;
  nActions: number;
  seed: number;
  totalSteps: number;
  config: DqnConfig;
  steps: number;
  updates: number;
  rng: number[];
  replay: { capacity: number; size: number; pos: number };
  /** The teacher's labels (config.teacher ≠ 'none'), in demo/. */
  demo?: { capacity: number; size: number; pos: number };
  /** Saved with `policyOnly`: the online net only, nothing to resume from. */
  policyOnly?: boolean;
}

const VERSION = 2;

export class DqnAgent implements Agent {
  readonly algorithm = 'dqn' as const;
  readonly obsSize: number;
  readonly nActions: number;
  readonly config: DqnConfig;
  readonly seed: number;
  readonly totalSteps: number;
  readonly online: tf.LayersModel;
  readonly target: tf.LayersModel;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly variables: tf.Variable[];
  private readonly batch: Batch;
  private replay: ReplayBuffer | undefined;
  private demo: DemoBuffer | undefined;
  private readonly demoBatch: DemoBatch;
  private rng: Rng;
  private steps_ = 0;
  private updates_ = 0;
  private readonly nStep: NStepReturns;

  constructor(opts: DqnAgentOptions) {
    const { obsSize, nActions, seed, totalSteps } = opts;
    if (!Number.isInteger(obsSize) || obsSize < 1 || !Number.isInteger(nActions) || nActions < 1)
      throw new Error(`DqnAgent: obsSize and nActions must be positive integers, got ${obsSize} and ${nActions}`);
    if (!(totalSteps > 0)) throw new Error(`DqnAgent: totalSteps must be positive, got ${totalSteps}`);
    this.obsSize = obsSize;
    this.nActions = nActions;
    this.config = dqnConfig.parse(opts.config);
    this.seed = seed;
    this.totalSteps = totalSteps;
    this.rng = new Rng(seed);
    const spec = { obsSize, nActions, hidden: this.config.hidden, dueling: this.config.dueling };
    this.online = buildQNet(spec, () => this.rng.float(), 'online');
    this.target = buildQNet(spec, () => 0, 'target');
    copyWeights(this.online, this.target);
    // LayerVariable.read() is the tf.Variable itself, so gradients reach the model's weights.
    this.variables = this.online.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = tf.train.adam(this.config.learningRate);
    this.batch = makeBatch(this.config.batchSize, obsSize, nActions);
    this.demoBatch = makeDemoBatch(this.config.teacher === 'none' ? 0 : this.config.batchSize, obsSize, nActions);
    this.nStep = new NStepReturns(this.config.nStep, this.config.gamma);
  }

  get steps(): number {
    return this.steps_;
  }

  get updates(): number {
    return this.updates_;
  }

  get epsilon(): number {
    const c = this.config;
    return linearSchedule(c.epsilonStart ?? (c.teacher === 'none' ? 1 : 0.2), c.epsilonEnd, c.epsilonFraction * this.totalSteps, this.steps_);
  }

  /** Allocated on first use, so that a policy loaded for evaluation holds no buffer. */
  get buffer(): ReplayBuffer {
    return (this.replay ??= new ReplayBuffer(this.config.bufferSize, this.obsSize, this.nActions));
  }

  /** The teacher's labels so far (allocated on first use). */
  get demos(): DemoBuffer {
    return (this.demo ??= new DemoBuffer(this.config.demoBufferSize, this.obsSize, this.nActions));
  }

  /** Store the teacher's label `action` of a state (DAgger); the updates that `learn` runs learn it. */
  learnDemo(obs: Float32Array, mask: Uint8Array, action: number): void {
    if (this.config.teacher === 'none') throw new Error("DqnAgent.learnDemo: this agent's config has teacher 'none'");
    this.demos.add(obs, mask, action);
  }

  /** Q-values of n observations (row-major, n × nActions) from the online net. */
  qValues(obs: Float32Array, n = 1): Float32Array {
    const q = tf.tidy(() => this.online.apply(tf.tensor2d(obs.subarray(0, n * this.obsSize), [n, this.obsSize])) as tf.Tensor);
    // Read outside tidy: tidy walks a returned typed array element by element, looking for tensors.
    const values = q.dataSync() as Float32Array;
    q.dispose();
    return values;
  }

  act(obs: Float32Array, mask: Uint8Array, explore: boolean): number {
    return this.actBatch(obs, mask, 1, explore)[0];
  }

  /**
   * Actions for n homes with one forward pass: each row is random among its allowed actions with
   * probability ε when `explore`, else the masked argmax of Q (lowest index on ties).
   */
  actBatch(obs: Float32Array, masks: Uint8Array, n: number, explore: boolean): Int32Array {
    if (obs.length < n * this.obsSize || masks.length < n * this.nActions)
      throw new Error(`DqnAgent.actBatch: need ${n} observations of ${this.obsSize} and masks of ${this.nActions}`);
    const out = new Int32Array(n);
    const eps = explore ? this.epsilon : 0;
    const greedy: number[] = [];
    for (let i = 0; i < n; i++) {
      if (eps > 0 && this.rng.float() < eps) out[i] = randomAllowed(this.rng, masks, this.nActions, i);
      else greedy.push(i);
    }
    if (greedy.length === 0) return out;
    const q = this.qValues(obs, n);
    for (const i of greedy) out[i] = maskedArgmax(q, masks.subarray(i * this.nActions, (i + 1) * this.nActions), i * this.nActions);
    return out;
  }

  learn(t: Transition): number | null {
    this.steps_++;
    if (this.config.nStep === 1) this.buffer.add(t, this.config.rewardScale);
    else this.nStep.add(t, (row, horizon) => this.buffer.add(row, this.config.rewardScale, horizon));
    const c = this.config;
    if (this.steps_ <= c.learningStarts || this.steps_ % c.trainFrequency !== 0) return null;
    return this.update();
  }

  endEpisode(): void {}

  /** One gradient step on a sampled minibatch; returns its loss (in scaled reward units). */
  private update(): number {
    const c = this.config;
    if (c.teacher !== 'none') return this.updateWithLabels();
    const b = this.buffer.sample(this.rng, this.batch);
    const loss = tf.tidy(() => {
      const y = tdTargets(this.online, this.target, b, c.gamma, c.double);
      const obs = tf.tensor2d(b.obs, [b.n, this.obsSize]);
      const actions = tf.tensor1d(b.actions, 'int32');
      const { value, grads } = tf.variableGrads(() => tdLoss(this.online, obs, actions, y), this.variables);
      this.optimizer.applyGradients(clipByGlobalNorm(grads, c.maxGradNorm));
      return value;
    });
    return this.afterUpdate(loss);
  }

  /** DQfD's update: imitationWeight × the labels' loss + tdWeight × the TD loss on the agent's own transitions. */
  private updateWithLabels(): number {
    const c = this.config;
    const td = c.tdWeight > 0 ? this.buffer.sample(this.rng, this.batch) : null;
    const demo = c.imitationWeight > 0 && this.demos.size > 0 ? this.demos.sample(this.rng, this.demoBatch) : null;
    const loss = tf.tidy(() => {
      const y = td ? tdTargets(this.online, this.target, td, c.gamma, c.double) : null;
      const { value, grads } = tf.variableGrads(() => {
        let total = tf.scalar(0);
        if (td && y) total = tf.add(total, tf.mul(tdLoss(this.online, tf.tensor2d(td.obs, [td.n, this.obsSize]), tf.tensor1d(td.actions, 'int32'), y), c.tdWeight));
        if (demo) {
          const q = this.online.apply(tf.tensor2d(demo.obs, [demo.n, this.obsSize]), { training: true }) as tf.Tensor2D;
          total = tf.add(total, tf.mul(imitationLoss(q, demo, c.imitationLoss, c.margin), c.imitationWeight));
        }
        return total as tf.Scalar;
      }, this.variables);
      this.optimizer.applyGradients(clipByGlobalNorm(grads, c.maxGradNorm));
      return value;
    });
    return this.afterUpdate(loss);
  }

  private afterUpdate(loss: tf.Scalar): number {
    const c = this.config;
    const out = loss.dataSync()[0];
    loss.dispose();
    this.updates_++;
    if (c.tau < 1) copyWeights(this.online, this.target, c.tau);
    else if (this.updates_ % c.targetUpdateSteps === 0) copyWeights(this.online, this.target);
    return out;
  }

  /**
   * Writes a resumable checkpoint: online/ and target/ (tfjs layers format), optimizer.{json,bin}
   * (Adam's moments and step), replay/*.bin (the filled part, platform byte order, little-endian
   * everywhere we run) and agent.json (config, counters, RNG state) last, so that its presence
   * marks a complete checkpoint.
   */
  async save(dir: string, opts: { policyOnly?: boolean } = {}): Promise<void> {
    await mkdir(dir, { recursive: true });
    await saveQNet(this.online, join(dir, 'online'));
    if (opts.policyOnly) {
      await writeFile(join(dir, 'agent.json'), JSON.stringify(this.savedAgent({ capacity: this.config.bufferSize, size: 0, pos: 0 }, true), null, 2));
      return;
    }
    await mkdir(join(dir, 'replay'), { recursive: true });
    await saveQNet(this.target, join(dir, 'target'));
    const opt = await this.optimizer.getWeights();
    try {
      await writeTensors(join(dir, 'optimizer'), opt);
    } finally {
      // getWeights() returns the live moment variables plus a fresh scalar for the step count.
      tf.dispose(opt.filter((w) => w.name === 'iter').map((w) => w.tensor));
    }
    const buf = this.buffer;
    await buf.save(join(dir, 'replay'));
    const saved = this.savedAgent({ capacity: buf.capacity, size: buf.size, pos: buf.pos }, false);
    if (this.config.teacher !== 'none') {
      await mkdir(join(dir, 'demo'), { recursive: true });
      await this.demos.save(join(dir, 'demo'));
      saved.demo = { capacity: this.demos.capacity, size: this.demos.size, pos: this.demos.pos };
    }
    await writeFile(join(dir, 'agent.json'), JSON.stringify(saved, null, 2));
  }

  private savedAgent(replay: SavedAgent['replay'], policyOnly: boolean): SavedAgent {
    return {
      format: 'rescoin-dqn',
      version: VERSION,
      policyOnly,
      obsSize: this.obsSize,
      nActions: this.nActions,
      seed: this.seed,
      totalSteps: this.totalSteps,
      config: this.config,
      steps: this.steps_,
      updates: this.updates_,
      rng: this.rng.state(),
      replay,
    };
  }

  /** Restores everything `save` wrote: training continues as if it had never stopped. */
  static async load(dir: string): Promise<DqnAgent> {
    const { agent, saved } = await DqnAgent.restore(dir);
    try {
      if (saved.policyOnly) throw new Error(`${join(dir, 'agent.json')}: a policy-only save (a run's final model/) cannot resume training: resume from the run's checkpoint/`);
      if (saved.version !== VERSION) throw new Error(`${join(dir, 'agent.json')}: a version ${saved.version} checkpoint cannot resume training (its buffer lacks n-step horizons); retrain or evaluate it only`);
      const target = await loadQNet(join(dir, 'target'));
      copyWeights(target, agent.target);
      target.dispose();
      const opt = await readTensors(join(dir, 'optimizer'));
      // Adam copies these into fresh variables; its moments are matched by position, which is
      // the order of the trainable weights, the same in every agent of this architecture.
      await agent.optimizer.setWeights(opt);
      tf.dispose(opt.map((w) => w.tensor));
      restoreBetaPowers(agent.optimizer);
      const buf = agent.buffer;
      if (saved.replay.capacity !== buf.capacity) throw new Error(`DqnAgent.load: replay capacity ${saved.replay.capacity} ≠ config.bufferSize ${buf.capacity}`);
      await buf.load(join(dir, 'replay'), saved.replay.size, saved.replay.pos);
      if (saved.demo) await agent.demos.load(join(dir, 'demo'), saved.demo.size, saved.demo.pos);
    } catch (e) {
      agent.dispose();
      throw e;
    }
    return agent;
  }

  /**
   * The online weights, counters and RNG only (no buffer, target or optimiser files read): enough
   * to act and to evaluate. Learning from it starts with an empty buffer and fresh Adam moments.
   */
  static async loadPolicyOnly(dir: string): Promise<DqnAgent> {
    return (await DqnAgent.restore(dir)).agent;
  }

  private static async restore(dir: string): Promise<{ agent: DqnAgent; saved: SavedAgent }> {
    const saved = JSON.parse(await readFile(join(dir, 'agent.json'), 'utf8')) as SavedAgent;
    if (saved.format !== 'rescoin-dqn' || (saved.version !== 1 && saved.version !== VERSION)) throw new Error(`${join(dir, 'agent.json')}: not a rescoin DQN checkpoint (format ${saved.format}, version ${saved.version})`);
    const agent = new DqnAgent({ obsSize: saved.obsSize, nActions: saved.nActions, config: saved.config, seed: saved.seed, totalSteps: saved.totalSteps });
    try {
      const online = await loadQNet(join(dir, 'online'));
      copyWeights(online, agent.online);
      copyWeights(online, agent.target);
      online.dispose();
    } catch (e) {
      agent.dispose();
      throw e;
    }
    agent.rng = Rng.fromState(saved.rng);
    agent.steps_ = saved.steps;
    agent.updates_ = saved.updates;
    return { agent, saved };
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.optimizer.dispose();
    this.replay = undefined;
    this.demo = undefined;
  }
}
