import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadScenario } from '../../env/index.js';
import { train } from '../../training/train.js';

/**
 * Same seed, same run, bit for bit. The figures below were first recorded from train() as it stood
 * before the loop was split into RunDir, validation and shaping pieces (issue 11), and re-recorded
 * for the non-anticipative EV rules (issue 12): any refactor of training/ or agents/ must leave every
 * one of them unchanged. A change that means to alter results (a new default, a new feature in the
 * observation, new env rules) re-records them and says why in its commit.
 */

const paper = loadScenario('paper-apartment');
const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-same-seed-'));
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 16);

/** metrics.csv without its wall-clock column (elapsed_s), the only one allowed to differ. */
function metrics(dir: string): string {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  return lines.map((l) => l.split(',').slice(0, -1).join(',')).join('\n');
}

/**
 * One hash over the files under `sub` (path and bytes), but for loop.json (it holds the wall clock)
 * and optimizer.json (tfjs names Adam's moments after variables it numbers per process, so the names
 * depend on what ran before; optimizer.bin holds their values, in order).
 */
function treeHash(dir: string, sub: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== 'loop.json' && name !== 'optimizer.json') h.update(`${relative(dir, p)}\n`).update(readFileSync(p));
    }
  };
  walk(join(dir, sub));
  return h.digest('hex').slice(0, 16);
}

function digest(dir: string) {
  const loop = JSON.parse(readFileSync(join(dir, 'checkpoint', 'loop.json'), 'utf8')) as { episodesDone: number };
  const lastRow = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').at(-1)!.split(',');
  return {
    metrics: sha(metrics(dir)),
    lastScore: Number(lastRow[3]),
    validation: existsSync(join(dir, 'validation.csv')) ? readFileSync(join(dir, 'validation.csv'), 'utf8') : null,
    best: existsSync(join(dir, 'best')) ? (JSON.parse(readFileSync(join(dir, 'best', 'validation.json'), 'utf8')) as unknown) : null,
    model: treeHash(dir, 'model'),
    checkpoint: treeHash(dir, 'checkpoint'),
    episodesDone: loop.episodesDone,
  };
}

const RECORDED = {
  plain: {
    metrics: 'beee38117d68e10c',
    lastScore: 1.4041536920096132,
    validation: null,
    best: null,
    model: '7baa3a9965d3c0f1',
    checkpoint: '3875acf662adbf68',
    episodesDone: 30,
  },
  qlearning: {
    metrics: 'beee38117d68e10c',
    lastScore: 1.4041536920096132,
    validation: ["episode,mean_score,mean_peak_kw,violations,best", "10,0.03114471866804913,2.9613333333333336,0,1", "20,0.1112280617674692,3.4650000000000003,0,0", "30,0.21769987185412262,3.2520000000000002,0,0", ""].join('\n'),
    best: { episode: 10, meanScore: 0.03114471866804913, meanPeakKw: 2.9613333333333336, violations: 0, dayCount: 3, days: 'daySeed(1, 2000000000 + k), k = 0…2' },
    model: 'a51f370b1ac31861',
    checkpoint: '191374ce98263805',
    episodesDone: 30,
  },
  dqn: {
    metrics: '68f206549ed7eb8e',
    lastScore: 0.670637895648047,
    validation: ["episode,mean_score,mean_peak_kw,violations,best", "4,-0.004624686252304347,3.378,0,1", "6,0.1428157042838803,4.3378250000000005,0,0", "8,0.18570717017192673,4.569000000000001,0,0", ""].join('\n'),
    best: { episode: 4, meanScore: -0.004624686252304347, meanPeakKw: 3.378, violations: 0, dayCount: 2, days: 'daySeed(1, 2000000000 + k), k = 0…1' },
    model: 'e81c6e37fe6b6759',
    checkpoint: '329a717288a936d0',
    episodesDone: 8,
  },
  dqnDefaults: {
    metrics: '79e9cb5c25bbbd1f',
    lastScore: 0.8264074343697717,
    validation: ["episode,mean_score,mean_peak_kw,violations,best", "8,-0.004564575908141466,2.923,0,1", "16,-0.021148032158141483,2.923,0,1", ""].join('\n'),
    best: { episode: 16, meanScore: -0.021148032158141483, meanPeakKw: 2.923, violations: 0, dayCount: 2, days: 'daySeed(2, 2000000000 + k), k = 0…1' },
    model: '7f009160662b5ce4',
    checkpoint: 'b365f4f0926f3a85',
    episodesDone: 16,
  },
};

describe('same seed, same result (recorded figures)', () => {
  const qOptions = { scenario: paper, algorithm: 'qlearning' as const, episodes: 30, seed: 1, overrides: { validateEvery: 10, validationDays: 3 } };

  it('Q-learning with its defaults, 30 episodes', async () => {
    const dir = join(tmp(), 'plain');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 30, seed: 1, out: dir, resume: false });
    expect(digest(dir)).toEqual(RECORDED.plain);
  });

  it('Q-learning, 30 episodes with peak shaping and validation', async () => {
    const dir = join(tmp(), 'q');
    await train({ ...qOptions, out: dir, resume: false });
    expect(digest(dir)).toEqual(RECORDED.qlearning);
  });

  it('Q-learning stopped after 11 episodes and resumed ends with the same figures', async () => {
    const dir = join(tmp(), 'q-parts');
    await train({ ...qOptions, out: dir, resume: false, stopAfter: 11 });
    await train({ ...qOptions, out: dir, resume: true });
    expect(digest(dir)).toEqual(RECORDED.qlearning);
  });

  const dqnOptions = {
    scenario: paper,
    algorithm: 'dqn' as const,
    episodes: 7,
    seed: 1,
    overrides: { teacher: 'none', numEnvs: 2, hidden: [16], bufferSize: 2_000, batchSize: 16, learningStarts: 50, targetUpdateSteps: 20, nStep: 3, peakShaping: true, validateEvery: 3, validationDays: 2 },
  };

  it('DQN, 7 episodes (rounded up to 8) on 2 homes with peak shaping, 3-step returns and validation every 3', async () => {
    const dir = join(tmp(), 'dqn');
    await train({ ...dqnOptions, out: dir, resume: false });
    expect(digest(dir)).toEqual(RECORDED.dqn);
  });

  it('DQN stopped after 2 rounds and resumed ends with the same figures, checkpoint included', async () => {
    const dir = join(tmp(), 'dqn-parts');
    await train({ ...dqnOptions, out: dir, resume: false, stopAfter: 4 });
    await train({ ...dqnOptions, out: dir, resume: true });
    expect(digest(dir)).toEqual(RECORDED.dqn);
  });

  it('DQN without a teacher on its default 8 homes, one-step, unshaped, 16 episodes', async () => {
    const dir = join(tmp(), 'dqn-defaults');
    const overrides = { teacher: 'none', hidden: [16], learningStarts: 200, validateEvery: 8, validationDays: 2 };
    await train({ scenario: paper, algorithm: 'dqn', episodes: 16, seed: 2, out: dir, resume: false, overrides });
    expect(digest(dir)).toEqual(RECORDED.dqnDefaults);
  });
});
