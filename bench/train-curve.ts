import type { Policy } from '../env/index.js';
import { agentPolicy } from '../agents/agent.js';
import type { DqnConfig } from '../agents/config.js';
import type { TrainCallback, TrainContext } from '../training/train.js';

/**
 * The learning curve of `npm run bench:train`: a TrainCallback that, every `every` episodes (and
 * once before the first and after the last), plays the greedy policy on the held-out days and
 * records its gap against the training wall time. The evaluation's own time is measured and taken
 * off the clock, so the curve's time axis is what `rescoin train` alone would have spent.
 */

export interface CurvePoint {
  episodes: number;
  /** Wall time since train() was called, evaluations taken off: set-up, acting, learning, validation, teacher, checkpoints. */
  trainSeconds: number;
  /** Wall time since train() was called, evaluations included. */
  wallSeconds: number;
  gapPct: number;
  violations: number;
}

export interface CurveCallback extends TrainCallback {
  readonly points: CurvePoint[];
  /** Seconds spent in this callback's evaluations. */
  readonly evalSeconds: number;
}

/** Homes per round: DQN's numEnvs, one for Q-learning (training/loop.ts). */
const homesOf = (ctx: TrainContext) => (ctx.run.algorithm === 'dqn' ? (ctx.run.config as DqnConfig).numEnvs : 1);

/**
 * `startedAt`: performance.now() just before train() was called. `evaluate` plays a policy on the
 * held-out days and returns its gap and violations.
 */
export function curveCallback(opts: { every: number; startedAt: number; evaluate: (p: Policy) => Promise<{ gapPct: number; violations: number }>; log?: (p: CurvePoint) => void }): CurveCallback {
  const { every, startedAt } = opts;
  if (!Number.isInteger(every) || every < 1) throw new Error(`BENCH_TRAIN_EVERY: expected a positive integer, got ${every}`);
  const points: CurvePoint[] = [];
  let evalMs = 0;
  let policy: Policy | null = null;

  const record = async (ctx: TrainContext, episodes: number) => {
    const t = performance.now();
    policy ??= agentPolicy('bench', ctx.agent, ctx.scenario);
    const r = await opts.evaluate(policy);
    const now = performance.now();
    evalMs += now - t;
    const p = { episodes, trainSeconds: (now - startedAt - evalMs) / 1000, wallSeconds: (now - startedAt) / 1000, ...r };
    points.push(p);
    opts.log?.(p);
  };

  return {
    points,
    get evalSeconds() {
      return evalMs / 1000;
    },
    async onStart(ctx, episodesDone) {
      const n = homesOf(ctx);
      if (every % n !== 0) throw new Error(`BENCH_TRAIN_EVERY: expected a multiple of the agent's ${n} homes per round (numEnvs), got ${every}`);
      await record(ctx, episodesDone);
    },
    async onEpisodeEnd(ctx, round) {
      if (round.episodesDone % every === 0 || round.episodesDone === ctx.totalEpisodes) await record(ctx, round.episodesDone);
    },
  };
}

/** The first point at or below `targetPct`, or null when the curve never reached it. */
export function firstReached(points: readonly CurvePoint[], targetPct: number): { episodes: number; trainSeconds: number } | null {
  const p = points.find((x) => x.gapPct <= targetPct);
  return p ? { episodes: p.episodes, trainSeconds: p.trainSeconds } : null;
}
