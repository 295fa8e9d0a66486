/**
 * # Fan-out jobs (DESIGN.md, Scale)
 *
 * Heavy work (a MILP baseline of a day, a policy played on a day, a bound, a community day) is cut
 * into jobs: plain JSON in, plain JSON out, each a pure function of its input. One runner takes a
 * list of jobs and returns their results **in the order of the list**, whatever runs them: this
 * thread (`workers: 1`), a worker-thread pool (evaluation/pool.ts, piscina) or `rescoin worker`
 * processes fed through Redis (evaluation/queue.ts, BullMQ). So a report never depends on the
 * number of workers or on the order in which jobs finish.
 *
 * A job names its handler by module and export: `module` is a path relative to the package root's
 * compiled tree (`evaluation/day-jobs.js`, `community/jobs.js`), so a worker loads only what its job
 * needs and evaluation/ never imports the folders above it (community/ registers its own jobs by
 * naming its module).
 */

export interface Job<I = unknown> {
  /** Deterministic id: the same work always has the same id (`<run>-<home>-<day>` and the like). */
  id: string;
  /** The handler's module, relative to the package's compiled root (dist/ or the sources in tests). */
  module: string;
  /** The handler's export name in that module. */
  fn: string;
  /** JSON-serialisable input. */
  input: I;
}

export interface JobContext {
  /** Aborted when the job's time limit is over or the run is cancelled. */
  signal?: AbortSignal;
  /** Report progress in [0, 1] (a queue shows it in the progress bar). */
  progress?(fraction: number): void;
}

/** What a job's module exports under `fn`: JSON in, JSON out. */
export type JobHandler<I = unknown, R = unknown> = (input: I, ctx: JobContext) => Promise<R>;

export interface RunJobsOptions {
  /** Local worker threads; 1 runs every job in this thread. Default: the available cores. */
  workers?: number;
  /** redis://host:port: enqueue on BullMQ instead, and collect from the result store. */
  redis?: string;
  /** Called as results come in (done of total), for a progress bar. */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** A time limit per job, ms: its AbortSignal fires then (a pool thread running it is stopped). */
  timeoutMs?: number;
  /**
   * The pool's worker script (a file URL): by default the compiled evaluation/pool-worker.js; null
   * runs every job in this thread (as from the TypeScript sources, where there is none).
   */
  worker?: URL | null;
}

/** The compiled root of the package: a job's `module` is resolved against it. */
const ROOT = new URL('../', import.meta.url);

/**
 * Run one job in this thread: load its module (cached by Node after the first import), call its
 * handler. Every runner (inline, pool thread, queue worker) goes through this one function.
 */
export async function executeJob<R = unknown>(job: Job, ctx: JobContext = {}): Promise<R> {
  const ext = import.meta.url.endsWith('.ts') ? job.module.replace(/\.js$/, '.ts') : job.module;
  const mod = (await import(new URL(ext, ROOT).href)) as Record<string, unknown>;
  const fn = mod[job.fn];
  if (typeof fn !== 'function') throw new Error(`job ${job.id}: ${job.module} has no export ${job.fn}`);
  return (await (fn as JobHandler<unknown, R>)(job.input, ctx)) as R;
}
