import { flatCodec, type Policy, type Scenario } from '../env/index.js';

/**
 * What every learning agent offers the training loop (training/train.ts). Agents see only what the
 * environment shows a policy: observations, the flat action mask (FlattenAction) and rewards.
 */

export interface Transition {
  obs: Float32Array;
  /** Flat action index (FlattenAction). */
  action: number;
  reward: number;
  nextObs: Float32Array;
  /** Flat mask of the next slot: the target's max runs over these actions only. */
  nextMask: Uint8Array;
  /** The day ended with this transition (no bootstrap). */
  done: boolean;
  /** Which home of the vector env it comes from (agents that keep per-home state, e.g. n-step returns). 0 when absent. */
  stream?: number;
}

export type Algorithm = 'qlearning' | 'dqn';

export interface Agent {
  readonly algorithm: Algorithm;
  /** Exploration rate now. */
  readonly epsilon: number;
  /** Environment steps seen so far. */
  readonly steps: number;
  /** Gradient or table updates done so far. */
  readonly updates: number;
  /** A flat action inside the mask: ε-greedy when `explore`, greedy (masked argmax) otherwise. */
  act(obs: Float32Array, mask: Uint8Array, explore: boolean): number;
  /** `act` for n homes at once: obs is n × obsSize, masks n × nActions (DQN runs one forward pass). */
  actBatch(obs: Float32Array, masks: Uint8Array, n: number, explore: boolean): Int32Array;
  /** Learn from one transition; the loss of the update it ran, or null when it ran none. */
  learn(t: Transition): number | null;
  /** Store a teacher's label (its flat action) of the state `obs` with flat mask `mask` (DAgger); agents without a teacher lack it. */
  learnDemo?(obs: Float32Array, mask: Uint8Array, action: number): void;
  /** Called after each day, for schedules that move per episode. */
  endEpisode(): void;
  /**
   * Write everything a resume needs (weights, optimiser, buffer, RNG, counters) under `dir`, or with
   * `policyOnly` just what acting needs (a run's final model/: no replay buffer of tens of MB).
   */
  save(dir: string, opts?: { policyOnly?: boolean }): Promise<void>;
  /** Free tensors and memory. */
  dispose(): void;
}

/** A trained agent as a Policy: greedy over the exact joint mask. */
export function agentPolicy(name: string, agent: Agent, scenario: Scenario): Policy {
  const flat = flatCodec(scenario);
  const out = new Int32Array(flat.nvec.length);
  return {
    name,
    act(obs, info) {
      return flat.unflatten(agent.act(obs, flat.flatMask(info.home), false), out);
    },
  };
}

/** Masked argmax: the allowed index with the highest value (the lowest index on ties). */
export function maskedArgmax(values: ArrayLike<number>, mask: Uint8Array, offset = 0): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let a = 0; a < mask.length; a++) {
    if (!mask[a]) continue;
    const v = values[offset + a];
    if (best < 0 || v > bestValue) {
      best = a;
      bestValue = v;
    }
  }
  if (best < 0) throw new Error('maskedArgmax: the mask allows no action');
  return best;
}

/** Masked max: the highest value among allowed actions (0 when none is allowed, e.g. after the last slot). */
export function maskedMax(values: ArrayLike<number>, mask: Uint8Array, offset = 0): number {
  let m = -Infinity;
  for (let a = 0; a < mask.length; a++) if (mask[a] && values[offset + a] > m) m = values[offset + a];
  return m === -Infinity ? 0 : m;
}

/** Linear schedule from `start` to `end` over `duration` units, then flat. */
export function linearSchedule(start: number, end: number, duration: number, at: number): number {
  if (duration <= 0) return end;
  const f = Math.min(1, Math.max(0, at / duration));
  return start + (end - start) * f;
}

/** Uniform among the allowed actions of row `row` of n × nActions masks. */
export function randomAllowed(rng: { int(lo: number, hi: number): number }, masks: Uint8Array, nActions: number, row: number): number {
  const mask = masks.subarray(row * nActions, (row + 1) * nActions);
  let count = 0;
  for (let a = 0; a < nActions; a++) count += mask[a] ? 1 : 0;
  if (count === 0) throw new Error(`randomAllowed: the mask of row ${row} allows no action`);
  let k = rng.int(0, count - 1);
  for (let a = 0; a < nActions; a++) if (mask[a] && k-- === 0) return a;
  throw new Error('unreachable');
}
