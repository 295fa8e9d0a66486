import { makeEnv, playDay, validationDay, VALIDATION_DAY_OFFSET, type Scenario } from '../env/index.js';
import { agentPolicy, type Agent } from '../agents/agent.js';
import type { TrainCallback, TrainContext } from './callbacks.js';

/**
 * Validation as a callback, like SB3's EvalCallback with best_model_save_path: every `every`
 * episodes and at the end, the greedy policy plays the run's validation days (env/days.ts); each
 * result is a row of validation.csv, the best (lowest mean J, no violation) is kept in best/, and
 * the finished run's model/ is that best policy. Validation days are neither training nor
 * held-out days, so choosing a policy on them does not peek at the final score.
 */

export interface Validation {
  /** Episodes trained when the policy was validated. */
  episode: number;
  meanScore: number;
  meanPeakKw: number;
  violations: number;
  /** How many validation days, and which. */
  dayCount: number;
  days: string;
}

/** The greedy policy's mean score J on the run's validation days. */
export async function validate(agent: Agent, scenario: Scenario, seed: number, days: number, episode: number): Promise<Validation> {
  const env = makeEnv(scenario);
  const policy = agentPolicy('validation', agent, scenario);
  let score = 0;
  let peak = 0;
  let violations = 0;
  for (let k = 0; k < days; k++) {
    const { summary } = await playDay(env, policy, validationDay(seed, k));
    score += summary.score;
    peak += summary.peakKw;
    violations += summary.violations;
  }
  return { episode, meanScore: score / days, meanPeakKw: peak / days, violations, dayCount: days, days: `daySeed(${seed}, ${VALIDATION_DAY_OFFSET} + k), k = 0…${days - 1}` };
}

/** A new best: no violation, and a lower mean score than the best so far. */
export function isBetter(v: Validation, best: Validation | null): boolean {
  return v.violations === 0 && (best === null || v.meanScore < best.meanScore);
}

/** Whether the round that brought the run from `episodesDone − n` to `episodesDone` episodes passed a multiple of `every`. */
export function crossesMultiple(episodesDone: number, n: number, every: number): boolean {
  return Math.floor(episodesDone / every) > Math.floor((episodesDone - n) / every);
}

export interface ValidationCallback extends TrainCallback {
  /** The best validated policy so far (what best/ holds), or null. */
  readonly best: Validation | null;
}

export function validationCallback(opts: { every: number; days: number }): ValidationCallback {
  const { every, days } = opts;
  if (!Number.isInteger(every) || every < 1) throw new Error(`validationCallback: every must be a positive integer, got ${every}`);
  if (!Number.isInteger(days) || days < 1) throw new Error(`validationCallback: days must be a positive integer, got ${days}`);
  let best: Validation | null = null;
  let lastValidated = -1;

  const validateNow = async (ctx: TrainContext, episodesDone: number) => {
    const v = await validate(ctx.agent, ctx.scenario, ctx.run.seed, days, episodesDone);
    lastValidated = episodesDone;
    const better = isBetter(v, best);
    ctx.runDir.appendValidation([v.episode, v.meanScore, v.meanPeakKw, v.violations, better ? 1 : 0]);
    if (!better) return;
    await ctx.runDir.writeBest(v, (dir) => ctx.agent.save(dir, { policyOnly: true }));
    best = v;
  };

  return {
    get best() {
      return best;
    },
    onStart(ctx, episodesDone) {
      lastValidated = ctx.runDir.startValidation(episodesDone);
      best = ctx.runDir.readBest(episodesDone);
    },
    async onEpisodeEnd(ctx, round) {
      // The last round is validated by onCheckpoint, once the run is finished.
      if (crossesMultiple(round.episodesDone, round.returns.length, every) && round.episodesDone < ctx.totalEpisodes) await validateNow(ctx, round.episodesDone);
    },
    async onCheckpoint(ctx, episodesDone, final) {
      // Before the checkpoint, so that no validation is ever behind the checkpoint it belongs to.
      if (final && lastValidated !== episodesDone) await validateNow(ctx, episodesDone);
    },
    async onEnd(ctx, _episodesDone, finished) {
      if (!finished || !best) return false;
      await ctx.runDir.copyBestToModel();
      return true;
    },
  };
}
