import type { ActionCodec } from '../runtime/index.js';
import { PeakShapingVector, trainingDay, VectorHomeEnv, type Scenario, type VectorDaySummary, type VectorEnv } from '../env/index.js';
import type { Agent, Algorithm } from '../agents/agent.js';
import { dqnConfig, qlearningConfig, type DqnConfig, type QLearningConfig } from '../agents/config.js';
import type { RoundLog } from './callbacks.js';
import { RUN_FORMAT, scenarioHash, type RunConfig, type RunDir } from './run-dir.js';

/** The small pieces of the train loop (train.ts), each a function of its arguments. */

/** The algorithm's full config: its defaults with `overrides` applied. */
export function resolveConfig(algorithm: Algorithm, overrides: Record<string, unknown> = {}): QLearningConfig | DqnConfig {
  const schema = algorithm === 'dqn' ? dqnConfig : qlearningConfig;
  const parsed = schema.safeParse(overrides);
  if (!parsed.success) throw new Error(`invalid ${algorithm} config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function newRunConfig(o: { algorithm: Algorithm; scenario: Scenario; seed: number; episodes: number }, config: QLearningConfig | DqnConfig): RunConfig {
  return {
    format: RUN_FORMAT,
    algorithm: o.algorithm,
    // A user's file by its path: evaluate and export find it again from the run alone.
    scenario: o.scenario.origin ?? o.scenario.id,
    scenarioHash: scenarioHash(o.scenario),
    seed: o.seed,
    episodes: o.episodes,
    config,
    days: `episode e plays day daySeed(${o.seed}, e)`,
    createdAt: new Date().toISOString(),
  };
}

/** Homes stepped together: DQN's numEnvs, one for Q-learning. */
export function numEnvs(run: RunConfig): number {
  return run.algorithm === 'dqn' ? (run.config as DqnConfig).numEnvs : 1;
}

/**
 * Episodes go in rounds of n homes (home i of round k plays episode k·n + i); `stopAfter` ends this
 * call early, after whole rounds.
 */
export function roundPlan(episodes: number, n: number, episodesDone: number, stopAfter?: number): { rounds: number; startRound: number; stopRound: number } {
  const rounds = Math.ceil(episodes / n);
  const startRound = Math.floor(episodesDone / n);
  const stopRound = stopAfter !== undefined ? Math.min(rounds, startRound + Math.ceil(stopAfter / n)) : rounds;
  return { rounds, startRound, stopRound };
}

/** n homes, with peak-shaped rewards when the config asks for them (env/shaping.ts). */
export function trainingEnv(scenario: Scenario, n: number, config: QLearningConfig | DqnConfig): VectorEnv {
  const env = new VectorHomeEnv(scenario, n);
  return config.peakShaping ? new PeakShapingVector(env, config.gamma) : env;
}

/** The flat masks of every home (n × nActions) for the slot it is at. */
export function flatMasks(codec: ActionCodec, env: VectorEnv, masks: Uint8Array): Uint8Array {
  const A = codec.n;
  for (let i = 0; i < env.n; i++) codec.flatMask(env.view(i), masks.subarray(i * A, (i + 1) * A));
  return masks;
}

/** Flat actions as the vector env's MultiDiscrete actions (n × nComponents). */
export function unflattenAll(codec: ActionCodec, actions: Int32Array, out: Int32Array, scratch: Int32Array): Int32Array {
  for (let i = 0; i < actions.length; i++) out.set(codec.unflatten(actions[i], scratch), i * scratch.length);
  return out;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** A metrics.csv row (METRIC_COLUMNS); refuses a day that is not the run's training day `episode`. */
export function metricsRow(run: RunConfig, episode: number, s: VectorDaySummary, agent: Agent, meanLoss: number, elapsedSec: number): (number | string)[] {
  if (s.seed !== trainingDay(run.seed, episode)) throw new Error(`episode ${episode} played day ${s.seed}, not the run's training day ${trainingDay(run.seed, episode)}`);
  return [episode, s.seed, s.return, s.score, s.cost, s.peakKw, s.par, s.rescoin, s.violations, agent.epsilon, meanLoss, agent.steps, agent.updates, elapsedSec.toFixed(2)];
}

/** Writes round `round`'s metrics rows (one per home, episode round·n + i) and empties `losses`, the losses of each home's day. */
export function logRound(runDir: RunDir, run: RunConfig, agent: Agent, env: VectorEnv, round: number, losses: number[][], elapsedSec: number): RoundLog {
  const homeLosses = losses.map(mean);
  for (let i = 0; i < env.n; i++) runDir.appendMetrics(metricsRow(run, round * env.n + i, env.summaries[i]!, agent, homeLosses[i], elapsedSec));
  for (const l of losses) l.length = 0;
  const learned = homeLosses.filter((l) => !Number.isNaN(l));
  return { episodesDone: (round + 1) * env.n, returns: env.summaries.map((s) => s!.return), meanLoss: learned.length ? mean(learned) : null };
}
