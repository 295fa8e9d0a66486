import cliProgress from 'cli-progress';
import { SLOTS } from '../env/index.js';
import type { TrainCallback, TrainContext } from './callbacks.js';
import { teaches } from './teacher.js';

/**
 * A progress bar on stderr (SB3's ProgressBarCallback): recent return, ε, loss and steps/s. While a
 * teacher labels the days (agents/config.ts teacherEpisodes) the bar says so: those days are the
 * slow ones, and the ETA, taken from them, is then too long.
 */
export function progressCallback(): TrainCallback {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {value}/{total} episodes{phase} | return {ret} | ε {eps} | loss {loss} | {sps} steps/s | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const returns: number[] = [];
  let t0 = 0;
  let lastYield = 0;
  let steps = 0;
  const phase = (ctx: TrainContext, episodesDone: number) => {
    const c = ctx.run.config;
    return teaches(c, episodesDone) ? ` (the ${c.teacher} teaches${c.teacherEpisodes ? ` the first ${c.teacherEpisodes}` : ''})` : '';
  };
  return {
    onStart(ctx, episodesDone) {
      bar.start(ctx.totalEpisodes, episodesDone, { phase: phase(ctx, episodesDone), ret: '-', eps: ctx.agent.epsilon.toFixed(3), loss: '-', sps: '-' });
      t0 = lastYield = performance.now();
    },
    async onEpisodeEnd(ctx, round) {
      returns.push(...round.returns);
      steps += round.returns.length * SLOTS;
      const recent = returns.slice(-20);
      bar.update(round.episodesDone, {
        phase: phase(ctx, round.episodesDone),
        ret: (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4),
        eps: ctx.agent.epsilon.toFixed(3),
        loss: round.meanLoss === null ? '-' : round.meanLoss.toExponential(2),
        sps: Math.round(steps / ((performance.now() - t0) / 1000)).toLocaleString('en-US'),
      });
      // The loop is synchronous: yield now and then, or the bar's timer never fires.
      if (performance.now() - lastYield > 200) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    },
    onEnd() {
      bar.stop();
    },
  };
}
