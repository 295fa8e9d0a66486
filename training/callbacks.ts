import type { Scenario } from '../env/index.js';
import type { Agent } from '../agents/agent.js';
import type { RunConfig, RunDir } from './run-dir.js';

/**
 * Hooks into the train loop, as SB3's callbacks: validation (validation.ts) and the progress bar
 * (progress.ts) are callbacks, so the loop itself only acts, steps, learns, logs and checkpoints.
 * Hooks run in the order the callbacks are given.
 */

export interface TrainContext {
  readonly agent: Agent;
  readonly scenario: Scenario;
  readonly run: RunConfig;
  readonly runDir: RunDir;
  /** Episodes of the whole run: rounds × homes, `run.episodes` rounded up to whole rounds. */
  readonly totalEpisodes: number;
}

/** A round: n homes played one day each, episodes `episodesDone − n` … `episodesDone − 1`. */
export interface RoundLog {
  episodesDone: number;
  /** Return of each home's day, in episode order. */
  returns: number[];
  /** Mean over the homes that learned of their mean loss, or null when none did. */
  meanLoss: number | null;
}

export interface TrainCallback {
  /** Before the first round of this call; `episodesDone` > 0 on a resumed run. */
  onStart?(ctx: TrainContext, episodesDone: number): void | Promise<void>;
  /** After each round, once its metrics rows are written and before any checkpoint. */
  onEpisodeEnd?(ctx: TrainContext, round: RoundLog): void | Promise<void>;
  /** Before a checkpoint is written; `final` on the last one of a finished run. */
  onCheckpoint?(ctx: TrainContext, episodesDone: number, final: boolean): void | Promise<void>;
  /**
   * After this call's last checkpoint. A callback that writes model/ itself (validation: the best
   * policy) returns true; a finished run's model/ is otherwise the final agent.
   */
  onEnd?(ctx: TrainContext, episodesDone: number, finished: boolean): boolean | void | Promise<boolean | void>;
}
