import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../env/index.js';
import { train, type TrainCallback } from '../../training/train.js';

const paper = loadScenario('paper-apartment');
const tmp = () => join(mkdtempSync(join(tmpdir(), 'rescoin-callbacks-')), 'run');

/** Records each hook call as text. */
function recorder(calls: string[], writeModel = false): TrainCallback {
  return {
    onStart: (_ctx, done) => void calls.push(`start ${done}`),
    onEpisodeEnd: (ctx, round) => void calls.push(`episodes ${round.episodesDone} of ${ctx.totalEpisodes}: ${round.returns.length} returns`),
    onCheckpoint: (_ctx, done, final) => void calls.push(`checkpoint ${done}${final ? ' final' : ''}`),
    async onEnd(ctx, done, finished) {
      calls.push(`end ${done}${finished ? ' finished' : ''}`);
      if (!writeModel || !finished) return false;
      await ctx.runDir.writeModel((dir) => writeFile(join(dir, 'mine.txt'), 'chosen by a callback'));
      return true;
    },
  };
}

describe('train callbacks', () => {
  it('are called in the loop order: start, each round, the last checkpoint, the end', async () => {
    const calls: string[] = [];
    const out = tmp();
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 5, seed: 1, out, resume: false, stopAfter: 3, callbacks: [recorder(calls)] });
    expect(calls).toEqual(['start 0', 'episodes 1 of 5: 1 returns', 'episodes 2 of 5: 1 returns', 'episodes 3 of 5: 1 returns', 'checkpoint 3', 'end 3']);
    // A stopped run has no model/ yet.
    expect(existsSync(join(out, 'model'))).toBe(false);
    calls.length = 0;
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 5, seed: 1, out, resume: true, callbacks: [recorder(calls)] });
    expect(calls).toEqual(['start 3', 'episodes 4 of 5: 1 returns', 'episodes 5 of 5: 1 returns', 'checkpoint 5 final', 'end 5 finished']);
    expect(readdirSync(join(out, 'model')).sort()).toEqual(['agent.json', 'qtable.json']);
  });

  it('a callback that writes model/ itself replaces the final agent there', async () => {
    const calls: string[] = [];
    const out = tmp();
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 2, seed: 1, out, resume: false, callbacks: [recorder(calls, true)] });
    expect(readdirSync(join(out, 'model'))).toEqual(['mine.txt']);
    expect(readFileSync(join(out, 'model', 'mine.txt'), 'utf8')).toBe('chosen by a callback');
  });
});
