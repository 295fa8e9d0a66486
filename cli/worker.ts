import { availableParallelism } from 'node:os';
import { defineCommand, println, processIo } from './command.js';
import { UsageError } from './errors.js';

/**
 * `rescoin worker`: takes jobs from a BullMQ queue on Redis and runs them through a local pool of
 * worker threads (one job per thread; the threads keep HiGHS and tfjs loaded), writing each result
 * into the queue's result hash (evaluation/queue.ts, queue-worker.ts). SIGTERM or SIGINT: finish
 * the jobs in hand, then exit; a second signal stops them and puts them back in the queue, no
 * attempt spent (another worker takes them).
 */

export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'Process the jobs that evaluate, baseline and the other fan-out commands enqueue with --redis, on local worker threads, until stopped (SIGTERM or Ctrl-C)',
  options: {
    redis: { type: 'string', required: true, description: 'The Redis to take jobs from, redis://host:6379 (the same as the command that enqueues them)' },
    workers: { type: 'number', integer: true, min: 1, description: 'Worker threads (default: the available cores)' },
    concurrency: { type: 'number', integer: true, min: 1, description: 'Jobs in hand at a time (default: --workers); more than --workers only keeps threads fed' },
    queue: { type: 'string', default: 'rescoin', description: 'Queue name (the same as the enqueuing side)' },
    'lock-duration': { type: 'number', default: 30_000, integer: true, min: 100, description: "ms a job's lock lasts unrenewed: a worker silent for longer (killed, frozen) loses the job to another" },
    'stalled-interval': { type: 'number', default: 30_000, integer: true, min: 100, description: 'ms between the checks that put jobs of lost workers back in the queue' },
  },
  async run(a, io) {
    const { checkRedisUrl, connect, reachable, showUrl } = await import('../evaluation/queue.js');
    try {
      checkRedisUrl(a.redis);
    } catch (e) {
      throw new UsageError('--redis', (e as Error).message.replace(/^redis: /, ''));
    }
    const probe = connect(a.redis);
    try {
      await reachable(probe, a.redis);
    } finally {
      probe.disconnect();
    }
    const { startQueueWorker } = await import('../evaluation/queue-worker.js');
    const { threadExecutor } = await import('../evaluation/queue-threads.js');
    const workers = a.workers ?? availableParallelism();
    const threads = threadExecutor(workers);
    const w = startQueueWorker({
      redis: a.redis,
      queue: a.queue,
      concurrency: a.concurrency ?? workers,
      lockDurationMs: a['lock-duration'],
      stalledIntervalMs: a['stalled-interval'],
      execute: threads.execute,
      onAttemptFailed: (id, attempt, attempts, error) => println(io.stderr, `job ${id} failed (attempt ${attempt} of ${attempts}): ${error}`),
    });
    const stopped = new Promise<void>((resolve) => {
      let signals = 0;
      const stop = () => {
        signals++;
        if (signals === 1) println(io.stderr, 'worker: stopping after the jobs in hand (again: stop them and put them back in the queue)');
        void w.close(signals > 1).then(resolve, resolve);
      };
      if (io === processIo) for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, stop);
    });
    await w.ready;
    println(io.stderr, `worker: ready on ${showUrl(a.redis)}, queue ${a.queue}, ${workers} thread${workers === 1 ? '' : 's'}`);
    await stopped;
    await threads.close();
    println(io.stderr, 'worker: stopped');
  },
});
