import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../env/index.js';
import { train, type TrainContext } from '../../training/train.js';
import { curveCallback, firstReached, type CurvePoint } from '../../bench/train-curve.js';

const paper = loadScenario('paper-apartment');

describe('bench:train learning curve', () => {
  it('evaluates before the first round, every `every` episodes and after the last, and finds the first point at a target', async () => {
    const gaps = [90, 50, 30, 10];
    let k = 0;
    const startedAt = performance.now();
    const curve = curveCallback({ every: 2, startedAt, evaluate: async () => ({ gapPct: gaps[k++], violations: 0 }) });
    const out = join(mkdtempSync(join(tmpdir(), 'rescoin-bench-curve-')), 'run');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 5, seed: 3, out, resume: false, progress: false, callbacks: [curve] });
    expect(curve.points.map((p) => [p.episodes, p.gapPct])).toEqual([
      [0, 90],
      [2, 50],
      [4, 30],
      [5, 10],
    ]);
    for (const p of curve.points) expect(p.trainSeconds).toBeLessThanOrEqual(p.wallSeconds);
    expect(firstReached(curve.points, 30)?.episodes).toBe(4);
    expect(firstReached(curve.points, 5)).toBeNull();
  });

  it('reports the training time, not the wall time, at which a target was first reached', () => {
    const points: CurvePoint[] = [
      { episodes: 0, trainSeconds: 1, wallSeconds: 1, gapPct: 40, violations: 0 },
      { episodes: 8, trainSeconds: 3, wallSeconds: 5, gapPct: 20, violations: 0 },
    ];
    expect(firstReached(points, 20)).toEqual({ episodes: 8, trainSeconds: 3 });
    expect(firstReached(points, 45)).toEqual({ episodes: 0, trainSeconds: 1 });
  });

  it("refuses a period that is not a multiple of the agent's homes per round", async () => {
    const curve = curveCallback({ every: 4, startedAt: 0, evaluate: async () => ({ gapPct: 0, violations: 0 }) });
    const ctx = { run: { algorithm: 'dqn', config: { numEnvs: 8 } } } as unknown as TrainContext;
    await expect(curve.onStart?.(ctx, 0)).rejects.toThrow(/BENCH_TRAIN_EVERY: expected a multiple of the agent's 8 homes per round \(numEnvs\), got 4/);
  });
});
