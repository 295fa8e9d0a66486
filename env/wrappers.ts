import { Discrete } from './spaces.js';
import type { Env, HomeEnv, ResetOptions, StepInfo, StepResult } from './home.js';
import type { HomeView } from './core.js';
import { controllerSpec } from './core.js';
import type { Scenario } from './scenario.js';
import { ActionCodec } from '../runtime/index.js';

export { ActionCodec };

/**
 * The flat action codec of a scenario (runtime/codec.ts): flatten, unflatten and the exact joint
 * mask, without building an environment. Refuses more joint actions than FlattenAction.MAX_ACTIONS.
 */
export function flatCodec(s: Scenario): ActionCodec {
  const codec = new ActionCodec(controllerSpec(s).action.nvec);
  if (codec.n > FlattenAction.MAX_ACTIONS)
    throw new Error(`FlattenAction: ${codec.n} joint actions (${Array.from(codec.nvec).join(' × ')}) is more than ${FlattenAction.MAX_ACTIONS}; use the MultiDiscrete env`);
  return codec;
}

/**
 * FlattenAction: the home's MultiDiscrete action as one Discrete index, for agents that choose one
 * action among all joint ones (DQN), with ActionCodec's encoding (C order, the last component
 * fastest) and its exact flat mask: an index is allowed iff the whole action is.
 */
export class FlattenAction implements Env<Float32Array, number> {
  readonly actionSpace: Discrete;
  readonly observationSpace;
  readonly nvec: Int32Array;
  readonly codec: ActionCodec;

  /** The most joint actions we enumerate per step; beyond it use the MultiDiscrete env. */
  static readonly MAX_ACTIONS = 65_536;

  constructor(readonly env: HomeEnv) {
    this.codec = flatCodec(env.scenario);
    this.nvec = this.codec.nvec;
    this.actionSpace = new Discrete(this.codec.n);
    this.observationSpace = env.observationSpace;
  }

  /** Components of a flat index. */
  unflatten(index: number, out?: Int32Array): Int32Array {
    return this.codec.unflatten(index, out);
  }

  /** Flat index of components. */
  flatten(action: ArrayLike<number>): number {
    return this.codec.flatten(action);
  }

  /** The exact joint mask of the current slot (written into `out` when given). */
  flatMask(view: HomeView, out?: Uint8Array): Uint8Array {
    return this.codec.flatMask(view, out);
  }

  private wrapInfo(info: StepInfo): StepInfo {
    return { ...info, actionMask: this.flatMask(info.home) };
  }

  reset(opts?: ResetOptions): { observation: Float32Array; info: StepInfo } {
    const r = this.env.reset(opts);
    return { observation: r.observation, info: this.wrapInfo(r.info) };
  }

  step(action: number): StepResult {
    if (!this.actionSpace.contains(action)) throw new Error(`FlattenAction.step(): action must be an integer in [0, ${this.actionSpace.n}), got ${action}`);
    const r = this.env.step(this.unflatten(action));
    return { ...r, info: this.wrapInfo(r.info) };
  }

  close(): void {
    this.env.close();
  }
}

export interface EpisodeStatistics {
  /** Sum of rewards. */
  return: number;
  length: number;
  /** Wall-clock time of the episode, ms. */
  timeMs: number;
}

/** RecordEpisodeStatistics: adds `info.episode` on the last step and keeps the recent episodes. */
export class RecordEpisodeStatistics<Obs, Act> implements Env<Obs, Act> {
  readonly actionSpace;
  readonly observationSpace;
  /** The last `bufferLength` episodes, oldest first. */
  readonly recent: EpisodeStatistics[] = [];
  private ret = 0;
  private len = 0;
  private start = 0;

  constructor(
    readonly env: Env<Obs, Act>,
    readonly bufferLength = 100,
  ) {
    this.actionSpace = env.actionSpace;
    this.observationSpace = env.observationSpace;
  }

  reset(opts?: ResetOptions) {
    this.ret = 0;
    this.len = 0;
    this.start = performance.now();
    return this.env.reset(opts);
  }

  step(action: Act) {
    const r = this.env.step(action);
    this.ret += r.reward;
    this.len++;
    if (r.terminated || r.truncated) {
      const episode: EpisodeStatistics = { return: this.ret, length: this.len, timeMs: performance.now() - this.start };
      this.recent.push(episode);
      if (this.recent.length > this.bufferLength) this.recent.shift();
      return { ...r, info: { ...r.info, episode } };
    }
    return r;
  }

  close(): void {
    this.env.close();
  }
}
