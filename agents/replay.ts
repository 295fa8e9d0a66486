import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rng } from '../env/rng.js';
import type { Transition } from './agent.js';

/** Experience replay for value-based agents: a circular buffer in typed arrays and n-step returns. */

/** A sampled minibatch, reused between updates. */
export interface Batch {
  n: number;
  obs: Float32Array;
  actions: Int32Array;
  /** Rewards as stored (already times `rewardScale`). */
  rewards: Float32Array;
  nextObs: Float32Array;
  nextMasks: Uint8Array;
  dones: Uint8Array;
  /** Rewards summed into each row (n-step returns): the bootstrap is discounted by γ^horizon. 1 when absent. */
  horizons?: Uint8Array;
}

export function makeBatch(n: number, obsSize: number, nActions: number): Batch {
  return {
    n,
    obs: new Float32Array(n * obsSize),
    actions: new Int32Array(n),
    rewards: new Float32Array(n),
    nextObs: new Float32Array(n * obsSize),
    nextMasks: new Uint8Array(n * nActions),
    dones: new Uint8Array(n),
    horizons: new Uint8Array(n),
  };
}

/** The buffer's arrays, as files replay/<name>.bin. */
const BUFFER_FILES = ['obs', 'nextObs', 'actions', 'rewards', 'nextMasks', 'dones', 'horizons'] as const;

/** Circular replay buffer in typed arrays (about 1 KB per transition with 192 actions). */
export class ReplayBuffer {
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly nextMasks: Uint8Array;
  readonly dones: Uint8Array;
  readonly horizons: Uint8Array;
  size = 0;
  /** Where the next transition goes. */
  pos = 0;

  constructor(
    readonly capacity: number,
    readonly obsSize: number,
    readonly nActions: number,
  ) {
    this.obs = new Float32Array(capacity * obsSize);
    this.nextObs = new Float32Array(capacity * obsSize);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.nextMasks = new Uint8Array(capacity * nActions);
    this.dones = new Uint8Array(capacity);
    this.horizons = new Uint8Array(capacity);
  }

  /** Stores a transition; `horizon` rewards were summed into t.reward (n-step returns). */
  add(t: Transition, rewardScale: number, horizon = 1): void {
    if (t.obs.length !== this.obsSize || t.nextObs.length !== this.obsSize || t.nextMask.length !== this.nActions)
      throw new Error(`ReplayBuffer.add: expected obs of ${this.obsSize} and a mask of ${this.nActions}, got ${t.obs.length}, ${t.nextObs.length} and ${t.nextMask.length}`);
    if (!Number.isInteger(t.action) || t.action < 0 || t.action >= this.nActions) throw new Error(`ReplayBuffer.add: action ${t.action} is not in [0, ${this.nActions})`);
    const i = this.pos;
    this.obs.set(t.obs, i * this.obsSize);
    this.nextObs.set(t.nextObs, i * this.obsSize);
    this.actions[i] = t.action;
    this.rewards[i] = t.reward * rewardScale;
    this.nextMasks.set(t.nextMask, i * this.nActions);
    this.dones[i] = t.done ? 1 : 0;
    this.horizons[i] = horizon;
    this.pos = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Uniform with replacement (as SB3's buffer, which CleanRL uses). */
  sample(rng: Rng, out: Batch): Batch {
    if (this.size === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    const { obsSize: o, nActions: m } = this;
    for (let k = 0; k < out.n; k++) {
      const i = rng.int(0, this.size - 1);
      out.obs.set(this.obs.subarray(i * o, (i + 1) * o), k * o);
      out.nextObs.set(this.nextObs.subarray(i * o, (i + 1) * o), k * o);
      out.actions[k] = this.actions[i];
      out.rewards[k] = this.rewards[i];
      out.nextMasks.set(this.nextMasks.subarray(i * m, (i + 1) * m), k * m);
      out.dones[k] = this.dones[i];
      if (out.horizons) out.horizons[k] = this.horizons[i];
    }
    return out;
  }

  /** Writes the filled part as `dir`/<array>.bin (platform byte order, little-endian everywhere we run). */
  async save(dir: string): Promise<void> {
    await saveFilled(dir, this, BUFFER_FILES, this.capacity, this.size);
  }

  /** Reads what `save` wrote of a buffer that held `size` transitions and would write the next at `pos`. */
  async load(dir: string, size: number, pos: number): Promise<void> {
    await loadFilled(dir, this, BUFFER_FILES, this.capacity, size, 'DqnAgent.load: replay/');
    this.size = size;
    this.pos = pos;
  }
}

type Arrays<K extends string> = Record<K, Float32Array | Int32Array | Uint8Array>;

/** The first `size` rows of each array of a ring buffer of `capacity` rows, as `dir`/<name>.bin. */
export async function saveFilled<K extends string>(dir: string, arrays: Arrays<K>, names: readonly K[], capacity: number, size: number): Promise<void> {
  for (const name of names) {
    const a = arrays[name];
    const used = a.subarray(0, (a.length / capacity) * size);
    await writeFile(join(dir, `${name}.bin`), new Uint8Array(used.buffer, used.byteOffset, used.byteLength));
  }
}

/** Reads what saveFilled wrote of `size` rows back into the arrays; a file of the wrong size is refused, named with `what`. */
export async function loadFilled<K extends string>(dir: string, arrays: Arrays<K>, names: readonly K[], capacity: number, size: number, what: string): Promise<void> {
  for (const name of names) {
    const a = arrays[name];
    const data = await readFile(join(dir, `${name}.bin`));
    const expected = (a.byteLength / capacity) * size;
    if (data.byteLength !== expected) throw new Error(`${what}${name}.bin has ${data.byteLength} bytes, expected ${expected}`);
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(data);
  }
}

/**
 * n-step returns (Sutton & Barto 2018, §7.1; Rainbow's multi-step targets): each stream's (home's)
 * last n transitions wait in a queue; the oldest leaves with r_0 + γ·r_1 + … + γ^(n−1)·r_(n−1) and
 * the n-th next observation, and all of them leave, shortened, when the day ends. So a day yields
 * exactly its 96 transitions, and a checkpoint, taken between days, never holds a half-filled queue.
 */
export class NStepReturns {
  /** Per stream (Transition.stream), the transitions not yet emitted. */
  private readonly pending = new Map<number, Transition[]>();

  constructor(
    readonly nStep: number,
    readonly gamma: number,
  ) {}

  /** Queues `t` (copied) and emits, with its horizon, each n-step transition it completes. */
  add(t: Transition, emit: (t: Transition, horizon: number) => void): void {
    const s = t.stream ?? 0;
    let queue = this.pending.get(s);
    if (!queue) this.pending.set(s, (queue = []));
    queue.push({ obs: t.obs.slice(), action: t.action, reward: t.reward, nextObs: t.nextObs.slice(), nextMask: t.nextMask.slice(), done: t.done });
    const next = () => {
      let reward = 0;
      for (let k = queue.length - 1; k >= 0; k--) reward = queue[k].reward + this.gamma * reward;
      const last = queue[queue.length - 1];
      emit({ obs: queue[0].obs, action: queue[0].action, reward, nextObs: last.nextObs, nextMask: last.nextMask, done: last.done }, queue.length);
      queue.shift();
    };
    if (t.done) while (queue.length) next();
    else if (queue.length === this.nStep) next();
  }
}
