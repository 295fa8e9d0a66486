import { WaitingError, Worker, type Job as BullJob } from 'bullmq';
import { executeJob, type Job, type JobContext } from './jobs.js';
import { connect, doneChannel, QUEUE_NAME, resultsKey, type QueuedData } from './queue.js';

/**
 * The processing side of evaluation/queue.ts (`rescoin worker`): a BullMQ Worker whose processor
 * runs a job, writes its result into the result hash with HSETNX (the first result of a job is
 * kept, a duplicate delivery's is dropped), publishes a nudge, and only then completes the job. A
 * crash between the write and the completion makes BullMQ deliver the job again; the processor then
 * finds the result and completes at once.
 */

/** Runs one job: the pool's thread, or executeJob in this thread. */
export type Execute = (job: Job, ctx: JobContext) => Promise<unknown>;

export interface QueueWorkerOptions {
  redis: string;
  queue?: string;
  /** Jobs processed at the same time (each on one pool thread). Default 1. */
  concurrency?: number;
  /** How long a job's lock lasts without renewal (ms): a worker silent for longer loses the job. */
  lockDurationMs?: number;
  /** How often stalled jobs (lock lost) are put back in the queue (ms). */
  stalledIntervalMs?: number;
  /** How many times a job may stall (its worker killed or frozen) before it fails. Default 2. */
  maxStalledCount?: number;
  execute?: Execute;
  /** Told when an attempt of a job fails (the worker prints it). */
  onAttemptFailed?(id: string, attempt: number, attempts: number, error: string): void;
}

export interface QueueWorker {
  /** Waits for the jobs in hand to finish (force: stops them and puts them back in the queue), then disconnects. */
  close(force?: boolean): Promise<void>;
  /** Resolves when connected to Redis and taking jobs. */
  ready: Promise<void>;
}

/** progress() calls at most every 200 ms reach Redis (and the last one, at 1). */
function progressOf(job: BullJob): (fraction: number) => void {
  let last = 0;
  return (f) => {
    const now = performance.now();
    if (f < 1 && now - last < 200) return;
    last = now;
    job.updateProgress(f).catch(() => {});
  };
}

export function startQueueWorker(opts: QueueWorkerOptions): QueueWorker {
  const name = opts.queue ?? QUEUE_NAME;
  const key = resultsKey(name);
  const channel = doneChannel(name);
  const execute = opts.execute ?? ((job, ctx) => executeJob(job, ctx));
  const store = connect(opts.redis);
  const abort = new AbortController();
  const processor = async (bj: BullJob, token?: string) => {
    const { job, timeoutMs } = bj.data as QueuedData;
    if ((await store.hexists(key, job.id)) === 1) return;
    const signal = timeoutMs === undefined ? abort.signal : AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
    let value: unknown;
    try {
      value = await execute(job, { signal, progress: progressOf(bj) });
    } catch (e) {
      // Stopped by a second signal: hand the job back untouched (no attempt spent) for another worker.
      if (abort.signal.aborted) {
        await bj.moveToWait(token);
        throw new WaitingError();
      }
      if (timeoutMs !== undefined && signal.aborted) throw new Error(`stopped at its time limit of ${timeoutMs} ms`, { cause: e });
      throw e;
    }
    const replies = await store.multi().hsetnx(key, job.id, JSON.stringify(value ?? null)).publish(channel, job.id).exec();
    const err = replies === null ? new Error(`job ${job.id}: its result was not stored (transaction discarded)`) : replies.find(([e]) => e)?.[0];
    if (err) throw err;
  };
  const inflight = new Set<Promise<void>>();
  const tracked = (bj: BullJob, token?: string) => {
    const p = processor(bj, token);
    const done = p.then(
      () => {},
      () => {},
    );
    inflight.add(done);
    void done.then(() => inflight.delete(done));
    return p;
  };
  const worker = new Worker(name, tracked, {
    connection: store,
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
  });
  // Connection errors while Redis is away are retried; BullMQ would otherwise print each one.
  worker.on('error', () => {});
  worker.on('failed', (bj, err) => {
    if (bj?.id !== undefined) opts.onAttemptFailed?.(bj.id, bj.attemptsMade, bj.opts.attempts ?? 1, err.message);
  });
  let closing: Promise<void> | null = null;
  return {
    ready: worker.waitUntilReady().then(() => {}),
    async close(force = false) {
      if (force) {
        abort.abort(new Error('worker stopped'));
        // The jobs in hand go back to the queue before the connection closes (bounded: 5 s).
        await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 5000).unref())]);
      }
      closing ??= worker.close(force).finally(() => store.disconnect());
      return closing;
    },
  };
}
