import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunConfig, RUN_FORMAT, RunDir, RunDirError, type RunConfig } from '../../training/run-dir.js';
import { crossesMultiple, isBetter, type Validation } from '../../training/validation.js';
import { roundPlan } from '../../training/loop.js';
import { qlearningConfig } from '../../agents/config.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'rescoin-rundir-')), 'run');
const run = (over: Partial<RunConfig> = {}): RunConfig => ({
  format: RUN_FORMAT,
  algorithm: 'qlearning',
  scenario: 'paper-apartment',
  scenarioHash: '0123456789abcdef',
  seed: 1,
  episodes: 10,
  config: qlearningConfig.parse({}),
  days: 'episode e plays day daySeed(1, e)',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const validation = (episode: number, meanScore: number, violations = 0): Validation => ({ episode, meanScore, meanPeakKw: 3, violations, dayCount: 2, days: 'test' });
const saveText = (text: string) => async (dir: string) => writeFile(join(dir, 'agent.txt'), text);

describe('RunDir', () => {
  it('creates a run, refuses a second one in the same folder unless overwrite, and names no CLI flag', () => {
    const dir = tmp();
    RunDir.create(dir, run());
    expect(readRunConfig(dir)).toEqual(run());
    let error: unknown;
    try {
      RunDir.create(dir, run({ seed: 2 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunDirError);
    expect(error).toMatchObject({ problem: 'exists', dir });
    expect((error as Error).message).not.toMatch(/--/);
    writeFileSync(join(dir, 'metrics.csv'), 'old');
    RunDir.create(dir, run({ seed: 2 }), { overwrite: true });
    expect(readRunConfig(dir).seed).toBe(2);
    expect(existsSync(join(dir, 'metrics.csv'))).toBe(false);
  });

  it('refuses a folder without config.json and a config of another format, naming the folder and the format', () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    expect(() => RunDir.open(dir)).toThrow(expect.objectContaining({ problem: 'not-a-run', message: `${dir} is not a run folder: it has no config.json` }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(run({ format: 7 })));
    expect(() => readRunConfig(dir)).toThrow(expect.objectContaining({ problem: 'format', message: expect.stringMatching(/run format 7, this rescoin reads format 1/) }));
  });

  it('keeps the metrics rows before a checkpoint and the validation rows up to it', () => {
    const d = RunDir.create(tmp(), run());
    d.startMetrics(0);
    for (let e = 0; e < 6; e++) d.appendMetrics([e, 100 + e]);
    d.startMetrics(4);
    expect(readFileSync(d.metricsPath, 'utf8')).toBe('episode,day_seed,return,score,cost,peak_kw,par,rescoin,violations,epsilon,loss,steps,updates,elapsed_s\n0,100\n1,101\n2,102\n3,103\n');
    expect(d.startValidation(4)).toBe(-1);
    for (const e of [2, 4, 6]) d.appendValidation([e, 0.5, 3, 0, 0]);
    expect(d.startValidation(4)).toBe(4);
    expect(readFileSync(d.validationPath, 'utf8').trim().split('\n').slice(1)).toEqual(['2,0.5,3,0,0', '4,0.5,3,0,0']);
  });

  it('writes checkpoints whole: loop.json last; a crash between the two renames leaves .old, which open() puts back', async () => {
    const dir = tmp();
    const d = RunDir.create(dir, run());
    expect(d.readLoop()).toBeNull();
    await d.writeCheckpoint({ episodesDone: 3, elapsedSec: 1.5 }, saveText('three'));
    await d.writeCheckpoint({ episodesDone: 6, elapsedSec: 3 }, saveText('six'));
    expect(d.readLoop()).toEqual({ episodesDone: 6, elapsedSec: 3 });
    expect(readFileSync(join(d.checkpoint, 'agent.txt'), 'utf8')).toBe('six');
    // What a kill after `checkpoint → checkpoint.old` and before `checkpoint.tmp → checkpoint` leaves.
    renameSync(d.checkpoint, `${d.checkpoint}.old`);
    mkdirSync(`${d.checkpoint}.tmp`);
    writeFileSync(join(`${d.checkpoint}.tmp`, 'agent.txt'), 'half');
    const reopened = RunDir.open(dir);
    expect(reopened.readLoop()).toEqual({ episodesDone: 6, elapsedSec: 3 });
    expect(readFileSync(join(reopened.checkpoint, 'agent.txt'), 'utf8')).toBe('six');
    expect(existsSync(`${d.checkpoint}.tmp`)).toBe(false);
    expect(existsSync(`${d.checkpoint}.old`)).toBe(false);
  });

  it('keeps best/ only when it is not ahead of the checkpoint; model/ copies it', async () => {
    const d = RunDir.create(tmp(), run());
    await d.writeBest(validation(8, 0.2), saveText('policy at 8'));
    expect(d.readBest(10)).toEqual(validation(8, 0.2));
    await d.copyBestToModel();
    expect(readFileSync(join(d.model, 'agent.txt'), 'utf8')).toBe('policy at 8');
    expect(JSON.parse(readFileSync(join(d.model, 'validation.json'), 'utf8'))).toEqual(validation(8, 0.2));
    expect(d.readBest(6)).toBeNull();
    expect(existsSync(d.best)).toBe(false);
  });
});

describe('validation rules', () => {
  it('a new best has no violation and a strictly lower mean score', () => {
    expect(isBetter(validation(10, 0.3), null)).toBe(true);
    expect(isBetter(validation(10, 0.3, 1), null)).toBe(false);
    expect(isBetter(validation(20, 0.29), validation(10, 0.3))).toBe(true);
    expect(isBetter(validation(20, 0.3), validation(10, 0.3))).toBe(false);
    expect(isBetter(validation(20, 0.1, 2), validation(10, 0.3))).toBe(false);
  });

  it('a round of n episodes validates when it passes a multiple of every', () => {
    // every 3 episodes, rounds of 2: episodes done 2, 4, 6, 8 → after 4 (passed 3) and 6 (reached 6), not 8.
    expect([2, 4, 6, 8].map((done) => crossesMultiple(done, 2, 3))).toEqual([false, true, true, false]);
    expect([8, 16, 24].map((done) => crossesMultiple(done, 8, 64))).toEqual([false, false, false]);
    expect(crossesMultiple(64, 8, 64)).toBe(true);
  });

  it('rounds: a resumed run starts at its round; stopAfter ends after whole rounds', () => {
    expect(roundPlan(7, 2, 0)).toEqual({ rounds: 4, startRound: 0, stopRound: 4 });
    expect(roundPlan(7, 2, 4, 3)).toEqual({ rounds: 4, startRound: 2, stopRound: 4 });
    expect(roundPlan(30, 1, 11, 5)).toEqual({ rounds: 30, startRound: 11, stopRound: 16 });
  });
});
