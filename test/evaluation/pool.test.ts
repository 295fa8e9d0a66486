import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { daySeed, drawDay, loadScenario, makeEnv, playDay, Rng } from '../../env/index.js';
import { highs, LinearModel, solve } from '../../baseline/lp.js';
import { mpcPolicy } from '../../baseline/mpc.js';
import { rescoin, rescoinJson } from '../cli/run.js';
import type { Job } from '../../evaluation/jobs.js';
import { closePool, runJobs } from '../../evaluation/pool.js';
import { reloadable } from '../../evaluation/day-jobs.js';
import { evaluate } from '../../evaluation/evaluate.js';

/**
 * The local pool (issue 16): results in list order whatever order the jobs finish in, the same
 * report for any number of workers, time limits, and HiGHS per thread. Real threads need compiled
 * code: the pool runs dist/evaluation/pool-worker.js (built by `npm install`; built here if missing).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = new URL('dist/evaluation/pool-worker.js', new URL('../../', import.meta.url));
const FIXTURE = new URL('../fixtures/pool-jobs.mjs', import.meta.url).href;
const tmp = mkdtempSync(join(tmpdir(), 'rescoin-pool-'));

const job = (id: string, fn: string, input: object): Job => ({ id, module: FIXTURE, fn, input });

beforeAll(() => {
  if (!existsSync(WORKER)) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
}, 180_000);
afterAll(async () => {
  await closePool();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runJobs on the pool', () => {
  it('returns the results in list order when the jobs finish out of order, from two threads', async () => {
    const dir = mkdtempSync(join(tmp, 'order-'));
    const rng = new Rng(16);
    // Job 2i waits for job 2i + 1 to finish: each pair finishes in reverse order.
    const jobs = Array.from({ length: 8 }, (_, k) => job(`o${k}`, 'ordered', { k, dir, ms: rng.int(0, 20), after: k % 2 === 0 ? k + 1 : undefined }));
    const progress: number[] = [];
    const results = await runJobs<{ k: number; square: number; threadId: number }>(jobs, { workers: 2, worker: WORKER, onProgress: (done, total) => progress.push(done / total) });
    expect(results.map((r) => [r.k, r.square])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => [k, k * k]));
    const order = readFileSync(join(dir, 'order'), 'utf8').trim().split('\n').map(Number);
    for (let i = 0; i < 8; i += 2) expect(order.indexOf(i + 1), `job ${i + 1} before job ${i}`).toBeLessThan(order.indexOf(i));
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
    expect(results.every((r) => r.threadId !== threadId)).toBe(true);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => n / 8));
  });

  it('runs every job in this thread with workers 1', async () => {
    const dir = mkdtempSync(join(tmp, 'inline-'));
    const jobs = [2, 0, 1].map((k) => job(`i${k}`, 'ordered', { k, dir, ms: 0 }));
    const results = await runJobs<{ k: number; threadId: number }>(jobs, { workers: 1, worker: WORKER });
    expect(results.map((r) => [r.k, r.threadId])).toEqual([2, 0, 1].map((k) => [k, threadId]));
  });

  it("stops a job at its time limit, even one that never yields (its thread is ended), and the pool goes on", async () => {
    await expect(runJobs([job('spin', 'spin', { ms: 20_000 }), job('o', 'ordered', { k: 1, dir: tmp, ms: 0 })], { workers: 2, worker: WORKER, timeoutMs: 300 })).rejects.toThrow(
      'job spin: stopped at its time limit of 300 ms',
    );
    const [r] = await runJobs<{ k: number }>([job('o', 'ordered', { k: 3, dir: tmp, ms: 0 }), job('o2', 'ordered', { k: 4, dir: tmp, ms: 0 })], { workers: 2, worker: WORKER, timeoutMs: 10_000 });
    expect(r.k).toBe(3);
  });

  it('stops an inline job at its time limit or when the caller aborts', async () => {
    await expect(runJobs([job('nap', 'nap', { ms: 20_000 })], { workers: 1, timeoutMs: 50 })).rejects.toThrow('job nap: stopped at its time limit of 50 ms');
    const stop = new AbortController();
    const run = runJobs([job('nap2', 'nap', { ms: 20_000 })], { workers: 1, signal: stop.signal });
    stop.abort();
    await expect(run).rejects.toThrow('job nap2: aborted');
  });

  it('keeps one HiGHS instance per thread, reused from job to job', async () => {
    const tags = await runJobs<string>(
      Array.from({ length: 6 }, (_, k) => job(`h${k}`, 'highsTag', {})),
      { workers: 2, worker: WORKER },
    );
    // "<thread>-1": each thread loaded one instance, whatever number of its jobs.
    for (const t of tags) expect(t).toMatch(/^\d+-1$/);
    expect(new Set(tags).size).toBeLessThanOrEqual(2);
  });
});

describe('HiGHS after a solver error', () => {
  // min x + 2y subject to x + y ≥ 1, 0 ≤ x, y ≤ 10: x = 1, y = 0, J = 1.
  const tiny = () => {
    const m = new LinearModel();
    const x = m.addCol('x', 0, 10, 1);
    const y = m.addCol('y', 0, 10, 2);
    m.addRow('c', [[x, 1], [y, 1]], 1, Infinity);
    return m;
  };

  it('keeps its instance when a model is merely infeasible, and loads a fresh one after a throw', async () => {
    expect((await solve(tiny())).objective).toBe(1);
    const h = await highs();
    const bad = new LinearModel();
    bad.addRow('c', [[bad.addCol('x', 0, 1, 1), 1]], 2, Infinity);
    expect((await solve(bad)).status).toBe('infeasible');
    expect(await highs()).toBe(h);
    const spy = vi.spyOn(h, 'createModel').mockImplementation(() => {
      // What a trapped WebAssembly call throws (WebAssembly.RuntimeError: unreachable).
      throw Object.assign(new Error('unreachable'), { name: 'RuntimeError' });
    });
    await expect(solve(tiny())).rejects.toThrow('unreachable');
    spy.mockRestore();
    const fresh = await highs();
    expect(fresh).not.toBe(h);
    const r = await solve(tiny());
    expect([r.status, r.objective, Array.from(r.values)]).toEqual(['optimal', 1, [1, 0]]);
  });
});

describe('rescoin evaluate --workers', () => {
  it('writes the same report.json, days.csv and payouts.json with 1 and 2 workers (timings aside)', () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [join(ROOT, 'dist/cli/bin.js'), ...args], { cwd: tmp, encoding: 'utf8' });
    const run = join(tmp, 'runs', 'q3');
    cli('train', '--agent', 'qlearning', '--episodes', '3', '--seed', '5', '--out', run, '--no-progress');
    // A DQN (untrained: its network is what counts here) loads TensorFlow.js in each thread.
    const dqn = join(tmp, 'runs', 'd16');
    writeFileSync(join(tmp, 'hp.json'), '{"validateEvery": 0}');
    cli('train', '--agent', 'dqn', '--teacher', 'none', '--episodes', '16', '--seed', '5', '--out', dqn, '--config', join(tmp, 'hp.json'), '--no-progress');
    const reports = [1, 2].map((n) => {
      const out = join(tmp, `w${n}`);
      cli('evaluate', '--days', '2', '--runs', run, dqn, '--workers', String(n), '--out', out, '--json');
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      for (const p of report.policies) {
        expect(p.stats.decisionMs).toBeGreaterThanOrEqual(0);
        delete p.stats.decisionMs;
      }
      return { report: JSON.stringify(report), csv: readFileSync(join(out, 'days.csv'), 'utf8'), payouts: readFileSync(join(out, 'payouts.json'), 'utf8') };
    });
    expect(JSON.parse(reports[0].report).policies.map((p: { name: string }) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'q3', 'd16', 'milp']);
    expect(reports[1]).toEqual(reports[0]);
  }, 180_000);
});

describe('rescoin baseline --days', () => {
  it('solves each day as its one-day run does, in day order, with 2 workers', async () => {
    const many = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'dist/cli/bin.js'), 'baseline', '--day', '3', '--days', '3', '--seed', '1', '--workers', '2', '--json'], { cwd: tmp, encoding: 'utf8' }));
    expect(many.map((r: { day: number; daySeed: number }) => [r.day, r.daySeed])).toEqual([3, 4, 5].map((d) => [d, daySeed(1, d)]));
    for (const [k, d] of [3, 4, 5].entries()) {
      const { solveMs: _a, ...one } = await rescoinJson('baseline', '--day', String(d), '--seed', '1');
      const { solveMs: _b, day: _c, daySeed: _d, ...row } = many[k];
      expect(row).toEqual(one);
    }
  }, 120_000);

  it('refuses the flags that draw one day', async () => {
    const r = await rescoin('baseline', '--days', '2', '--plot', join(tmp, 'x.svg'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--plot');
  });
});

describe('a policy played in any thread', () => {
  it('the MPC plays a day the same after another day as fresh (its state is reset per day)', async () => {
    const s = loadScenario('paper-apartment');
    const env = makeEnv(s);
    const [a, b] = [daySeed(1, 5), daySeed(1, 6)].map((seed) => drawDay(s, seed));
    const used = mpcPolicy(s, { forecast: 'expected' });
    await playDay(env, used, a);
    const after = await playDay(env, used, b);
    const fresh = await playDay(env, mpcPolicy(s, { forecast: 'expected' }), b);
    expect(after.summary).toEqual(fresh.summary);
    expect(Array.from(after.log.actions)).toEqual(Array.from(fresh.log.actions));
  });
});

describe('a scenario changed in code', () => {
  it('is not sent to other threads or to Redis: they could not load it', async () => {
    const paper = loadScenario('paper-apartment');
    const changed = { ...paper, name: 'changed in code' };
    expect([reloadable(paper), reloadable(changed)]).toEqual([true, false]);
    await expect(evaluate({ scenario: changed, runs: [], days: 1, seed: 7, out: join(tmp, 'changed'), timeLimitSec: 30, redis: 'redis://127.0.0.1:1' })).rejects.toThrow(
      'scenario paper-apartment was changed in code: a rescoin worker could not load it',
    );
  });
});
