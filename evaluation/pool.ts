import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { executeJob, type Job, type RunJobsOptions } from './jobs.js';

/**
 * `runJobs`: the one entry point of every fan-out (DESIGN.md, Scale). With `redis` the jobs go to
 * BullMQ (queue.ts); else they run here, in this thread (`workers: 1`, a single job, or from the
 * TypeScript sources where there is no compiled worker) or on a piscina pool of worker threads.
 * Results come back in the order of the list whatever order the jobs finish in, and each job is a
 * pure function of its input, so the results are the same for any number of workers.
 *
 * At most one job per thread is in flight (the rest wait here, not in piscina's queue), so a job's
 * time limit counts from its start, and after the first failure no new job starts.
 */

/** The compiled worker beside this file; from the TypeScript sources there is none. */
const defaultWorker = (): URL | null => (import.meta.url.endsWith('.ts') ? null : new URL('./pool-worker.js', import.meta.url));

/** The pool of this process, made at the first call that needs it and kept for the next ones (its threads keep HiGHS loaded). */
let shared: { pool: Piscina; file: string; threads: number } | null = null;

function poolOf(file: URL, threads: number): Piscina {
  if (shared && shared.file === file.href && shared.threads === threads) return shared.pool;
  if (shared) void shared.pool.destroy();
  // Idle threads are unref'd by piscina: a kept pool does not hold the process open.
  const pool = new Piscina({ filename: file.href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  shared = { pool, file: file.href, threads };
  return pool;
}

/** End the pool's threads (tests; a command simply exits). */
export async function closePool(): Promise<void> {
  const s = shared;
  shared = null;
  await s?.pool.destroy();
}

/** The error of a job stopped by its signal: the job's id, and the time limit when that was the reason. */
function abortError(job: Job, signal: AbortSignal, timeoutMs?: number): Error {
  const reason = signal.reason as { name?: string } | undefined;
  const why = reason?.name === 'TimeoutError' ? `stopped at its time limit of ${timeoutMs} ms` : 'aborted';
  return Object.assign(new Error(`job ${job.id}: ${why}`, { cause: signal.reason }), { name: 'AbortError' });
}

/** `p`, or a rejection as soon as `signal` fires (the inline job itself runs on to its next await). */
function abortable<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const listener = () => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', listener));
  });
}

type Runner = (job: Job, signal: AbortSignal) => Promise<unknown>;

const inline: Runner = (job, signal) => executeJob(job, { signal });

const pooled =
  (pool: Piscina): Runner =>
  (job, signal) =>
    pool.run(job, { signal });

/** Run `jobs` on `lanes` lanes; results in list order. */
async function dispatch<R>(jobs: Job[], lanes: number, run: Runner, opts: RunJobsOptions): Promise<R[]> {
  const out = new Array<R>(jobs.length);
  const stop = new AbortController();
  const outer = [stop.signal, ...(opts.signal ? [opts.signal] : [])];
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < jobs.length && !stop.signal.aborted) {
      const k = next++;
      const job = jobs[k];
      const signal = AbortSignal.any(opts.timeoutMs === undefined ? outer : [...outer, AbortSignal.timeout(opts.timeoutMs)]);
      try {
        out[k] = (await abortable(run(job, signal), signal, () => abortError(job, signal, opts.timeoutMs))) as R;
      } catch (e) {
        stop.abort(e);
        throw e;
      }
      opts.onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}

/** Run the jobs (jobs.ts) and return their results in the order of the list. */
export async function runJobs<R>(jobs: Job[], opts: RunJobsOptions = {}): Promise<R[]> {
  if (opts.redis) {
    const { runQueued } = await import('./queue.js');
    return runQueued<R>(jobs, { ...opts, redis: opts.redis });
  }
  const workers = Math.max(1, Math.floor(opts.workers ?? availableParallelism()));
  const file = opts.worker === undefined ? defaultWorker() : opts.worker;
  const lanes = Math.min(workers, jobs.length);
  if (lanes <= 1 || !file) return dispatch<R>(jobs, 1, inline, opts);
  return dispatch<R>(jobs, lanes, pooled(poolOf(file, workers)), opts);
}
