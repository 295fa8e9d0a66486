import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../env/rng.js';
import { loadFilled, saveFilled } from './replay.js';

/**
 * Learning from a teacher's labels (DAgger, Ross et al. 2011; DQfD's supervised loss, Hester et
 * al. 2018): a store of (observation, mask, teacher's action) that only grows, as DAgger
 * aggregates every state the learner visited with the teacher's label on it, and the losses that
 * pull the Q-network's greedy action onto the label.
 */

/** A sampled minibatch of labelled states, reused between updates. */
export interface DemoBatch {
  n: number;
  obs: Float32Array;
  masks: Uint8Array;
  actions: Int32Array;
}

const DEMO_FILES = ['obs', 'masks', 'actions'] as const;

/** Labelled states in typed arrays; when full, the oldest label is replaced (a ring, as the replay buffer). */
export class DemoBuffer {
  readonly obs: Float32Array;
  readonly masks: Uint8Array;
  readonly actions: Int32Array;
  size = 0;
  pos = 0;

  constructor(
    readonly capacity: number,
    readonly obsSize: number,
    readonly nActions: number,
  ) {
    this.obs = new Float32Array(capacity * obsSize);
    this.masks = new Uint8Array(capacity * nActions);
    this.actions = new Int32Array(capacity);
  }

  add(obs: Float32Array, mask: Uint8Array, action: number): void {
    if (obs.length !== this.obsSize || mask.length !== this.nActions) throw new Error(`DemoBuffer.add: expected obs of ${this.obsSize} and a mask of ${this.nActions}, got ${obs.length} and ${mask.length}`);
    if (!Number.isInteger(action) || action < 0 || action >= this.nActions || !mask[action]) throw new Error(`DemoBuffer.add: the label ${action} is not an allowed action of its mask`);
    const i = this.pos;
    this.obs.set(obs, i * this.obsSize);
    this.masks.set(mask, i * this.nActions);
    this.actions[i] = action;
    this.pos = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  sample(rng: Rng, out: DemoBatch): DemoBatch {
    if (this.size === 0) throw new Error('DemoBuffer.sample: no labels yet');
    const { obsSize: o, nActions: m } = this;
    for (let k = 0; k < out.n; k++) {
      const i = rng.int(0, this.size - 1);
      out.obs.set(this.obs.subarray(i * o, (i + 1) * o), k * o);
      out.masks.set(this.masks.subarray(i * m, (i + 1) * m), k * m);
      out.actions[k] = this.actions[i];
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    await saveFilled(dir, this, DEMO_FILES, this.capacity, this.size);
  }

  async load(dir: string, size: number, pos: number): Promise<void> {
    await loadFilled(dir, this, DEMO_FILES, this.capacity, size, `DemoBuffer.load: ${dir}/`);
    this.size = size;
    this.pos = pos;
  }
}

export function makeDemoBatch(n: number, obsSize: number, nActions: number): DemoBatch {
  return { n, obs: new Float32Array(n * obsSize), masks: new Uint8Array(n * nActions), actions: new Int32Array(n) };
}

export type ImitationLoss = 'cross-entropy' | 'margin';

/**
 * The supervised loss of Q on labelled states, over allowed actions only:
 * - 'cross-entropy': −log softmax_mask(Q)(a_E), Q read as logits (pure imitation: Q stops being a value);
 * - 'margin' (DQfD's J_E): max over the mask of [Q(s, a) + margin·(a ≠ a_E)] − Q(s, a_E), which
 *   is 0 once the label leads every other allowed action by `margin`, and leaves Q a value otherwise.
 */
export function imitationLoss(q: tf.Tensor2D, b: DemoBatch, kind: ImitationLoss, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const A = q.shape[1];
    const mask = tf.tensor2d(b.masks, [b.n, A], 'bool');
    const label = tf.oneHot(tf.tensor1d(b.actions, 'int32'), A);
    if (kind === 'cross-entropy') {
      // A large finite logit, not −∞: softmax's gradient of −∞ is NaN.
      const logits = tf.where(mask, q, tf.fill([b.n, A], -1e9));
      return tf.losses.softmaxCrossEntropy(label, logits) as tf.Scalar;
    }
    const lifted = tf.add(q, tf.mul(tf.sub(1, label), margin));
    const best = tf.max(tf.where(mask, lifted, tf.fill([b.n, A], -1e9)), 1);
    const taken = tf.sum(tf.mul(q, label), 1);
    return tf.mean(tf.sub(best, taken));
  });
}
