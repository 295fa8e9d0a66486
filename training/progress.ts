import cliProgress from 'cli-progress';
import { SLOTS } from '../env/index.js';
import type { TrainCallback } from './callbacks.js';

/** A progress bar on stderr (SB3's ProgressBarCallback): recent return, ε, loss and steps/s. */
export function progressCallback(): TrainCallback {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {value}/{total} episodes | return {ret} | ε {eps} | loss {loss} | {sps} steps/s | ETA {eta_formatted}',
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
  return {
    onStart(ctx, episodesDone) {
      bar.start(ctx.totalEpisodes, episodesDone, { ret: '-', eps: ctx.agent.epsilon.toFixed(3), loss: '-', sps: '-' });
      t0 = lastYield = performance.now();
    },
    async onEpisodeEnd(ctx, round) {
      returns.push(...round.returns);
      steps += round.returns.length * SLOTS;
      const recent = returns.slice(-20);
      bar.update(round.episodesDone, {
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
