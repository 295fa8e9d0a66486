import { afterEach, describe, expect, it } from 'vitest';
import { executeJob, type Job } from '../../evaluation/jobs.js';
import { badJobId, checkRedisUrl, resultsKey, runQueued, showUrl } from '../../evaluation/queue.js';
import { startQueueWorker, type QueueWorker } from '../../evaluation/queue-worker.js';
import { rescoin } from '../cli/run.js';
import { FIXTURE, skipQueueTests, startRedis, stopAll } from './queue-redis.js';

describe('queue checks (no Redis needed)', () => {
  it('takes redis:// URLs and names the field and the value of anything else', () => {
    expect(checkRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(checkRedisUrl('redis://:secret@10.0.0.5:6380/2')).toBe('redis://:secret@10.0.0.5:6380/2');
    expect(() => checkRedisUrl('http://127.0.0.1:6379')).toThrow('redis: expected redis://host:port, got "http://127.0.0.1:6379"');
    expect(() => checkRedisUrl('127.0.0.1:6379')).toThrow('got "127.0.0.1:6379"');
    expect(showUrl('redis://:secret@10.0.0.5:6380')).toBe('redis://***@10.0.0.5:6380');
    expect(() => checkRedisUrl('http://:secret@10.0.0.5:6380')).toThrow('got "http://***@10.0.0.5:6380"');
  });

  it("refuses ids BullMQ cannot hold: ':' , integers, empty", () => {
    expect(badJobId('run1-h3-d7')).toBeNull();
    expect(badJobId('a:b')).toContain('":"');
    expect(badJobId('42')).toContain('integer');
    expect(badJobId('')).toBe('is empty');
  });

  it('refuses duplicate or bad ids before it connects anywhere', async () => {
    const job = (id: string): Job => ({ id, module: FIXTURE, fn: 'day', input: {} });
    // Port 1 on loopback: nothing listens there, and no connection is tried anyway.
    await expect(runQueued([job('a-1'), job('a-1')], { redis: 'redis://127.0.0.1:1' })).rejects.toThrow('job id "a-1" is given twice');
    await expect(runQueued([job('x:y')], { redis: 'redis://127.0.0.1:1' })).rejects.toThrow('job id "x:y" contains ":"');
  });

  it('fails naming the address when no Redis answers there, instead of waiting for ever', async () => {
    const job: Job = { id: 'u-h1-d1', module: FIXTURE, fn: 'day', input: {} };
    await expect(runQueued([job], { redis: 'redis://127.0.0.1:1', connectTimeoutMs: 300 })).rejects.toThrow(/^redis: cannot reach redis:\/\/127\.0\.0\.1:1 within 0\.3 s: .*ECONNREFUSED/);
  });

  it('rescoin worker: --redis is required and must be a redis:// URL (exit 2, naming the flag)', async () => {
    const none = await rescoin('worker');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('rescoin worker: --redis: required');
    const bad = await rescoin('worker', '--redis', 'localhost:6379');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('rescoin worker: --redis: expected redis://host:port, got "localhost:6379"');
  });
});

describe.skipIf(skipQueueTests)('runQueued with an in-process worker', () => {
  let worker: QueueWorker | null = null;
  afterEach(async () => {
    await worker?.close(true);
    worker = null;
    await stopAll();
  });

  it('returns the results in the order of the list, each kept once in the result hash', async () => {
    const redis = await startRedis();
    // Later jobs are quicker, so they finish first with two at a time.
    const jobs: Job[] = [0, 1, 2, 3, 4, 5].map((k) => ({ id: `o-h1-d${k}`, module: FIXTURE, fn: 'day', input: { home: 1, day: k, ms: 120 - 20 * k } }));
    worker = startQueueWorker({ redis: redis.url, concurrency: 2 });
    await worker.ready;
    const out = await runQueued(jobs, { redis: redis.url, pollMs: 50 });
    expect(out).toEqual(await Promise.all(jobs.map((j) => executeJob(j))));
    expect((out as { day: number }[]).map((r) => r.day)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await redis.client().hlen(resultsKey('rescoin'))).toBe(6);
  });

  it('a queue of another name is another queue, with its own results', async () => {
    const redis = await startRedis();
    const jobs: Job[] = [{ id: 'n-h2-d1', module: FIXTURE, fn: 'day', input: { home: 2, day: 1, ms: 10 } }];
    worker = startQueueWorker({ redis: redis.url, queue: 'city2' });
    await worker.ready;
    expect(await runQueued(jobs, { redis: redis.url, queue: 'city2', pollMs: 50 })).toEqual([await executeJob(jobs[0])]);
    expect(await redis.client().hkeys(resultsKey('city2'))).toEqual(['n-h2-d1']);
    expect(await redis.client().exists(resultsKey('rescoin'))).toBe(0);
  });
});
