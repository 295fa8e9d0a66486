import { Discrete } from './spaces.js';
import type { Env, HomeEnv, ResetOptions, StepInfo, StepResult } from './home.js';
import type { HomeView } from './core.js';
import { isAllowed } from './rules.js';

/**
 * FlattenAction: the home's MultiDiscrete action as one Discrete index, for agents that choose one
 * action among all joint ones (DQN). Index = ravel of the components in C order (the last
 * component varies fastest), as numpy's ravel_multi_index. The flat mask is exact for the joint
 * action: an index is allowed iff the whole action is (`isAllowed`: masks, contract, V2H).
 */
export class FlattenAction implements Env<Float32Array, number> {
  readonly actionSpace: Discrete;
  readonly observationSpace;
  readonly nvec: Int32Array;
  private readonly buf: Int32Array;

  /** The most joint actions we enumerate per step; beyond it use the MultiDiscrete env. */
  static readonly MAX_ACTIONS = 65_536;

  constructor(readonly env: HomeEnv) {
    this.nvec = env.actionSpace.nvec;
    const n = this.nvec.reduce((a, b) => a * b, 1);
    if (n > FlattenAction.MAX_ACTIONS)
      throw new Error(`FlattenAction: ${n} joint actions (${Array.from(this.nvec).join(' × ')}) is more than ${FlattenAction.MAX_ACTIONS}; use the MultiDiscrete env`);
    this.actionSpace = new Discrete(n);
    this.observationSpace = env.observationSpace;
    this.buf = new Int32Array(this.nvec.length);
  }

  /** Components of a flat index. */
  unflatten(index: number, out: Int32Array = new Int32Array(this.nvec.length)): Int32Array {
    let rest = index;
    for (let c = this.nvec.length - 1; c >= 0; c--) {
      out[c] = rest % this.nvec[c];
      rest = Math.floor(rest / this.nvec[c]);
    }
    return out;
  }

  /** Flat index of components. */
  flatten(action: ArrayLike<number>): number {
    let index = 0;
    for (let c = 0; c < this.nvec.length; c++) index = index * this.nvec[c] + action[c];
    return index;
  }

  /** The exact joint mask of the current slot (written into `out` when given). */
  flatMask(view: HomeView, out: Uint8Array = new Uint8Array(this.actionSpace.n)): Uint8Array {
    for (let a = 0; a < out.length; a++) out[a] = isAllowed(view, this.unflatten(a, this.buf)) ? 1 : 0;
    return out;
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
