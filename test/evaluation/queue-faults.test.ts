import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executeJob, type Job } from '../../evaluation/jobs.js';
import { QueuedJobsFailed, resultsKey, runQueued } from '../../evaluation/queue.js';
import { FIXTURE, skipQueueTests, startRedis, startWorker, starts, stopAll, tempDir, until } from './queue-redis.js';

/**
 * Issue 16's failure semantics, with real processes: `rescoin worker` children of dist/ (one thread,
 * 1 s locks, stalled checks every 0.5 s) on a redis-server of the test's own. Each expectation is
 * the inline run's results, bit for bit, and the start log says which worker ran which job.
 */

interface DayInput {
  home: number;
  day: number;
  ms: number;
  bad?: boolean;
}

const jobsOf = (n: number, ms: number, bad?: [number, number]): Job<DayInput>[] =>
  Array.from({ length: n }, (_, k) => {
    const home = 1 + (k % 3);
    const day = k;
    return { id: `t-h${home}-d${day}`, module: FIXTURE, fn: 'day', input: { home, day, ms, ...(bad && bad[0] === home && bad[1] === day ? { bad: true } : {}) } };
  });

/** The same jobs run one after the other in this thread: what every queue run must return. */
const inline = (jobs: Job[]) => Promise.all(jobs.map((j) => executeJob(j)));

/** Log name of a job (the fixture's): `h<home>-d<day>`. */
const logName = (j: Job<DayInput>) => `h${j.input.home}-d${j.input.day}`;

/** The pids that started `job`, in order. */
const startersOf = (log: string, job: string) => starts(log).filter(([, j]) => j === job).map(([pid]) => pid);

describe.skipIf(skipQueueTests)('runQueued with rescoin worker processes (issue 16 failure semantics)', () => {
  afterEach(stopAll);

  it('a worker killed (SIGKILL) mid-job: another worker takes the job over, results identical to the inline run', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    const a = await startWorker(redis.url, log);
    const jobs = jobsOf(5, 800);
    const run = runQueued(jobs, { redis: redis.url, pollMs: 50 });
    run.catch(() => {});
    const taken = await until('worker A to start a job', () => starts(log).find(([pid]) => pid === a.pid)?.[1]);
    a.proc.kill('SIGKILL');
    const b = await startWorker(redis.url, log);
    expect(await run).toEqual(await inline(jobs));
    expect(startersOf(log, taken)).toEqual([a.pid, b.pid]);
    expect(await redis.client().hlen(resultsKey('rescoin'))).toBe(5);
  });

  it('a worker paused (SIGSTOP) past its lock, then resumed: the job is delivered twice and the first result is the one kept', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    const a = await startWorker(redis.url, log);
    // Signed: each value names the process that computed it, so the two copies differ.
    const jobs = jobsOf(4, 1500).map((j) => ({ ...j, input: { ...j.input, signed: true } }));
    const run = runQueued<{ by: number }>(jobs, { redis: redis.url, pollMs: 50 });
    run.catch(() => {});
    const taken = await until('worker A to start a job', () => starts(log).find(([pid]) => pid === a.pid)?.[1]);
    a.proc.kill('SIGSTOP');
    const b = await startWorker(redis.url, log);
    // A's lock lapses (1 s), B's stalled check puts the job back, B starts it again.
    await until('worker B to start the paused job', () => startersOf(log, taken).includes(b.pid), 20_000);
    a.proc.kill('SIGCONT');
    const results = await run;
    const unsigned = (xs: unknown[]) => xs.map((x) => ({ ...(x as object), by: undefined }));
    expect(unsigned(results)).toEqual(unsigned(await inline(jobs)));
    expect(startersOf(log, taken)).toEqual([a.pid, b.pid]);
    // Both copies end and write; the copy that ended first wrote first, and its value stays.
    await until('both copies to end', () => starts(log, 'end').filter(([, j]) => j === taken).length === 2);
    await new Promise((r) => setTimeout(r, 500));
    const first = starts(log, 'end').find(([, j]) => j === taken)![0];
    const k = jobs.findIndex((j) => logName(j) === taken);
    expect(results[k].by).toBe(first);
    const hash = await redis.client().hgetall(resultsKey('rescoin'));
    expect(Object.keys(hash).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(jobs.map((j) => JSON.parse(hash[j.id]) as unknown)).toEqual(results);
  });

  it('Redis killed and restarted on its AOF: the workers resume, nothing lost, nothing counted twice', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    await startWorker(redis.url, log);
    await startWorker(redis.url, log);
    const jobs = jobsOf(8, 400);
    const run = runQueued(jobs, { redis: redis.url, pollMs: 50 });
    run.catch(() => {});
    const probe = redis.client();
    await until('two results', async () => (await probe.hlen(resultsKey('rescoin'))) >= 2);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.restart();
    expect(await run).toEqual(await inline(jobs));
    expect(await redis.client().hlen(resultsKey('rescoin'))).toBe(8);
    // Every job ran at least once; a job may run twice (its lock lapsed while Redis was away), never be counted twice.
    for (const j of jobs) expect(startersOf(log, logName(j)).length).toBeGreaterThanOrEqual(1);
  });

  it('a job that throws (a bad day) is retried with backoff, then reported failed naming home and day; the rest completes', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    await startWorker(redis.url, log);
    await startWorker(redis.url, log);
    const jobs = jobsOf(6, 100, [2, 4]);
    const err = await runQueued(jobs, { redis: redis.url, pollMs: 50, backoffMs: 100 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueuedJobsFailed);
    const failed = err as QueuedJobsFailed;
    expect(failed.failed).toEqual([{ id: 't-h2-d4', error: 'bad day: home 2, day 4' }]);
    expect(failed.message).toContain('1 of 6 jobs failed');
    expect(failed.message).toContain('t-h2-d4: bad day: home 2, day 4');
    expect(startersOf(log, 'h2-d4')).toHaveLength(3);
    const hash = await redis.client().hgetall(resultsKey('rescoin'));
    const good = jobs.filter((j) => !j.input.bad);
    expect(Object.keys(hash).sort()).toEqual(good.map((j) => j.id).sort());
    expect(good.map((j) => JSON.parse(hash[j.id]) as unknown)).toEqual(await inline(good));

    // The day fixed, the same command again: only the failed job runs, and the results are complete.
    const fixed = jobs.map((j) => ({ ...j, input: { ...j.input, bad: undefined } }));
    const before = starts(log).length;
    expect(await runQueued(fixed, { redis: redis.url, pollMs: 50 })).toEqual(await inline(fixed));
    expect(starts(log).slice(before).map(([, j]) => j)).toEqual(['h2-d4']);
  });

  it('a job past its time limit is stopped on its worker thread and reported failed with the limit', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    await startWorker(redis.url, log);
    const jobs = jobsOf(2, 3000);
    const err = await runQueued(jobs, { redis: redis.url, pollMs: 50, timeoutMs: 300, attempts: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueuedJobsFailed);
    expect((err as QueuedJobsFailed).failed).toEqual(jobs.map((j) => ({ id: j.id, error: 'stopped at its time limit of 300 ms' })));
    expect(starts(log, 'end')).toEqual([]);
  });

  it('SIGTERM: the worker finishes the job in hand, then exits 0', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    const a = await startWorker(redis.url, log);
    const jobs = jobsOf(1, 800);
    const run = runQueued(jobs, { redis: redis.url, pollMs: 50 });
    run.catch(() => {});
    await until('worker A to start the job', () => starts(log).length === 1);
    a.proc.kill('SIGTERM');
    expect(await new Promise((r) => a.proc.once('exit', r))).toBe(0);
    expect(starts(log, 'end')).toEqual([[a.pid, logName(jobs[0])]]);
    expect(await run).toEqual(await inline(jobs));
  });

  it('a second SIGTERM stops the job in hand and puts it back, no attempt spent: another worker does it', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    const a = await startWorker(redis.url, log);
    const jobs = jobsOf(1, 2000);
    const run = runQueued(jobs, { redis: redis.url, pollMs: 50, attempts: 1 });
    run.catch(() => {});
    await until('worker A to start the job', () => starts(log).length === 1);
    a.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    a.proc.kill('SIGTERM');
    expect(await new Promise((r) => a.proc.once('exit', r))).toBe(0);
    expect(a.stderr()).not.toContain('failed');
    // With attempts: 1, a spent attempt would have failed the job; B does it instead.
    const b = await startWorker(redis.url, log);
    expect(await run).toEqual(await inline(jobs));
    expect(starts(log).map(([pid]) => pid)).toEqual([a.pid, b.pid]);
    expect(starts(log, 'end').map(([pid]) => pid)).toEqual([b.pid]);
  });

  it('re-running the same command enqueues only what has no result; the bar ends at the total', async () => {
    const redis = await startRedis();
    const log = join(tempDir(), 'starts.log');
    await startWorker(redis.url, log);
    const jobs = jobsOf(4, 50);
    const seen: [number, number][] = [];
    const first = await runQueued(jobs, { redis: redis.url, pollMs: 50, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.at(-1)).toEqual([4, 4]);
    expect(seen.every(([d], i) => i === 0 || d >= seen[i - 1][0])).toBe(true);
    expect(starts(log)).toHaveLength(4);
    expect(await runQueued(jobs, { redis: redis.url, pollMs: 50 })).toEqual(first);
    expect(starts(log)).toHaveLength(4);
    await redis.client().hdel(resultsKey('rescoin'), jobs[2].id);
    expect(await runQueued(jobs, { redis: redis.url, pollMs: 50 })).toEqual(first);
    expect(starts(log).slice(4).map(([, j]) => j)).toEqual([logName(jobs[2])]);
  });
});
