import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../env/index.js';
import { loadAgent, train, validate } from '../../training/train.js';
import { evaluate } from '../../evaluation/evaluate.js';

const paper = loadScenario('paper-apartment');
// A killed run needs a process to kill: the CLI from its TypeScript sources (vite-node ships with
// vitest), never a build that may be stale.
const root = join(import.meta.dirname, '..', '..');
const cli = [join(root, 'node_modules', 'vite-node', 'vite-node.mjs'), join(root, 'cli', 'bin.ts')];
const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-train-'));

/** metrics.csv rows without the wall-clock column, which is the only one allowed to differ. */
function metricRows(dir: string): string[][] {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  return lines.slice(1).map((l) => l.split(',').slice(0, -1));
}

describe('rescoin train', () => {
  it('writes the run folder: config, metrics per episode, checkpoint, model, learning curve', async () => {
    const dir = join(tmp(), 'q');
    const r = await train({ scenario: paper, algorithm: 'qlearning', episodes: 12, seed: 3, out: dir, resume: false });
    expect(r.episodes).toBe(12);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ format: 1, algorithm: 'qlearning', scenario: 'paper-apartment', seed: 3, episodes: 12 });
    expect(config.config.gamma).toBe(1);
    const rows = metricRows(dir);
    expect(rows.map((x) => Number(x[0]))).toEqual(Array.from({ length: 12 }, (_, e) => e));
    // Each row's score is −return of the day.
    for (const row of rows) expect(Number(row[3])).toBeCloseTo(-Number(row[2]), 9);
    for (const f of ['checkpoint/loop.json', 'model', 'learning-curve.svg', 'learning-curve.png']) expect(existsSync(join(dir, f)), f).toBe(true);
    // Refused with the way out, in the library's words (the CLI names its flags): resume or overwrite.
    const again = train({ scenario: paper, algorithm: 'qlearning', episodes: 12, seed: 3, out: dir, resume: false });
    await expect(again).rejects.toThrow(/already holds a run: resume it \(resume: true\), replace it \(overwrite: true\)/);
    await expect(again).rejects.toMatchObject({ name: 'RunDirError', problem: 'exists', dir });
  });

  it('same seed, same metrics', async () => {
    const a = join(tmp(), 'a');
    const b = join(tmp(), 'b');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 20, seed: 4, out: a, resume: false });
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 20, seed: 4, out: b, resume: false });
    expect(metricRows(b)).toEqual(metricRows(a));
  });

  it('a stopped run resumes from its checkpoint and ends with the same metrics as one that never stopped', async () => {
    const whole = join(tmp(), 'whole');
    const parts = join(tmp(), 'parts');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 30, seed: 5, out: whole, resume: false });
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 30, seed: 5, out: parts, resume: false, stopAfter: 11 });
    expect(metricRows(parts)).toHaveLength(11);
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 30, seed: 5, out: parts, resume: true });
    expect(metricRows(parts)).toEqual(metricRows(whole));
  });

  it('a killed run resumes: no episode lost or repeated', async () => {
    const dir = join(tmp(), 'killed');
    const args = [...cli, 'train', '--agent', 'qlearning', '--episodes', '4000', '--seed', '6', '--out', dir, '--checkpoint-minutes', '0.003', '--no-progress'];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    // Kill it once it has checkpointed and written some episodes past the checkpoint.
    for (let k = 0; k < 600; k++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(join(dir, 'checkpoint', 'loop.json')) && metricRows(dir).length > 100) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = metricRows(dir).length;
    expect(before).toBeLessThan(4000);
    const resumed = spawn(process.execPath, [...cli, 'train', '--out', dir, '--resume', '--episodes', '4000', '--no-progress'], { stdio: 'ignore' });
    const code = await new Promise((r) => resumed.once('exit', r));
    expect(code).toBe(0);
    const episodes = metricRows(dir).map((x) => Number(x[0]));
    expect(episodes).toEqual(Array.from({ length: 4000 }, (_, e) => e));
  });
});

describe('validation', () => {
  const rows = (dir: string) =>
    readFileSync(join(dir, 'validation.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));

  it('validates every validateEvery episodes and at the end; model/ is the best validated policy; a resumed run validates the same', async () => {
    const overrides = { validateEvery: 10, validationDays: 3 };
    const whole = join(tmp(), 'val-whole');
    const r = await train({ scenario: paper, algorithm: 'qlearning', episodes: 35, seed: 7, out: whole, resume: false, overrides });
    const v = rows(whole);
    expect(v.map((x) => x[0])).toEqual([10, 20, 30, 35]);
    // The best column marks each new best, and the selected policy is the lowest mean score.
    let best = Infinity;
    for (const [, score, , violations, flag] of v) {
      const better = violations === 0 && score < best;
      expect(flag).toBe(better ? 1 : 0);
      if (better) best = score;
    }
    expect(r.selected?.meanScore).toBe(best);
    expect(JSON.parse(readFileSync(join(whole, 'best', 'validation.json'), 'utf8'))).toEqual(r.selected);
    // model/ is that policy: validated again, it scores the same.
    const agent = await loadAgent('qlearning', join(whole, 'model'), paper);
    expect((await validate(agent, paper, 7, 3, r.selected!.episode)).meanScore).toBe(best);
    agent.dispose();
    expect(readFileSync(join(whole, 'model', 'qtable.json'), 'utf8')).toBe(readFileSync(join(whole, 'best', 'qtable.json'), 'utf8'));

    const parts = join(tmp(), 'val-parts');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 35, seed: 7, out: parts, resume: false, overrides, stopAfter: 15 });
    expect(rows(parts).map((x) => x[0])).toEqual([10]);
    const resumed = await train({ scenario: paper, algorithm: 'qlearning', episodes: 35, seed: 7, out: parts, resume: true });
    expect(rows(parts)).toEqual(v);
    expect(resumed.selected).toEqual(r.selected);
  });
});

describe('rescoin evaluate', () => {
  it('reports every policy on the same held-out days; nothing beats the MILP; gaps are 0 % and 100 % at the ends', async () => {
    const run = join(tmp(), 'qrun');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 16, seed: 7, out: run, resume: false });
    const out = join(tmp(), 'report');
    const r = await evaluate({ scenario: paper, runs: [run], days: 4, seed: 100000, out, timeLimitSec: 60 });
    expect(r.policies.map((p) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'qrun', 'milp']);
    const byName = Object.fromEntries(r.policies.map((p) => [p.name, p]));
    expect(byName.milp.gapPct).toBe(0);
    expect(byName.asap.gapPct).toBe(100);
    for (let d = 0; d < 4; d++) {
      const rows = r.days.filter((x) => x.day === d);
      const jStar = rows.find((x) => x.policy === 'milp')!.summary.score;
      for (const x of rows) expect(x.summary.score).toBeGreaterThanOrEqual(jStar - 1e-6);
      expect(new Set(rows.map((x) => x.seed)).size).toBe(1);
    }
    for (const p of r.policies) expect(p.violations).toBe(0);
    for (const f of ['report.md', 'days.csv', 'days.parquet', 'gaps.svg', 'gaps.png', 'schedules-day0.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const { parquetReadObjects } = await import('hyparquet');
    const buf = readFileSync(join(out, 'days.parquet'));
    const parquetRows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(parquetRows).toHaveLength(24);
    const milpRow = parquetRows.find((x) => x.policy === 'milp' && x.day === 0)!;
    expect(milpRow.score).toBe(r.days.find((x) => x.policy === 'milp' && x.day === 0)!.summary.score);
    expect(readFileSync(join(out, 'days.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 4 * 6);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| qrun |');
  });

  it('refuses held-out days that a run trained on', async () => {
    const run = join(tmp(), 'overlap');
    await train({ scenario: paper, algorithm: 'qlearning', episodes: 3, seed: 100000, out: run, resume: false });
    await expect(evaluate({ scenario: paper, runs: [run], days: 2, seed: 100000, out: join(tmp(), 'x'), timeLimitSec: 60 })).rejects.toThrow(/training days/);
  });
});
