import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Job, RunJobsOptions } from './jobs.js';

/**
 * # Jobs across machines: BullMQ on Redis (DESIGN.md, Scale)
 *
 * `runQueued` enqueues jobs on a BullMQ queue with their deterministic ids; `rescoin worker`
 * processes (evaluation/queue-worker.ts) run them and write each result into one Redis hash,
 * `<queue>:results`, with HSETNX. The hash is the only source of results: not QueueEvents (its
 * stream is trimmed, and a client that was disconnected misses events) and not BullMQ's return
 * values (a duplicate delivery would complete twice). So:
 * - a duplicate delivery (a worker paused past its lock, a killed worker's job taken over) keeps
 *   exactly the first result, and a result is never counted twice;
 * - re-running the same command enqueues only the jobs that have no result yet (an interrupted
 *   run resumes; a run already done enqueues nothing);
 * - results come back in the order of the list, whatever finished first.
 *
 * A job that still throws after its attempts stays in BullMQ's failed set (removeOnFail: false),
 * whence runQueued reads its error. runQueued waits for all the others, then throws
 * QueuedJobsFailed naming each failed job (its id names home and day) and its error; the results
 * of the others stay in the hash, so a re-run after the fix redoes only the failed jobs (it removes
 * them from the failed set first, since BullMQ ignores an add whose id it still holds).
 */

/** The default queue name (and prefix of our keys). */
export const QUEUE_NAME = 'rescoin';
export const resultsKey = (queue: string) => `${queue}:results`;
/** Workers publish a finished job's id here: a nudge only; the hash is polled too. */
export const doneChannel = (queue: string) => `${queue}:done`;

/** The URL without a password, for messages. */
export const showUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

const redisUrl = z.string().refine((s) => /^rediss?:\/\/[^/\s]+(\/\d+)?\/?$/.test(s), { message: 'expected redis://host:port' });

/** The URL, or an error naming the field `redis` and the value given. */
export function checkRedisUrl(url: string): string {
  const r = redisUrl.safeParse(url);
  if (!r.success) throw new Error(`redis: ${r.error.issues[0].message}, got ${JSON.stringify(showUrl(url))}`);
  return url;
}


/**
 * A connection that waits out a Redis restart: commands queue while it reconnects and are sent
 * again afterwards (BullMQ needs maxRetriesPerRequest null for its blocking connection anyway).
 */
export function connect(url: string): Redis {
  const r = new Redis(checkRedisUrl(url), { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(50 * times, 1000) });
  // Errors while Redis is away are retried by ioredis; without a listener Node would print each.
  r.on('error', () => {});
  return r;
}

/**
 * Resolves once Redis answers a PING; rejects after `ms` naming the URL and the last connection
 * error, so that a wrong address fails the command instead of waiting for ever (later outages
 * are waited out: connect()).
 */
export async function reachable(redis: Redis, url: string, ms = 10_000): Promise<void> {
  let last = 'no answer';
  const onError = (e: Error) => void (last = e.message || String(e));
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([redis.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`redis: cannot reach ${showUrl(url)} within ${ms / 1000} s: ${last}`)), ms)))]);
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** Why a job id cannot be a BullMQ job id, or null. */
export function badJobId(id: string): string | null {
  if (id === '') return 'is empty';
  if (id.includes(':')) return 'contains ":" (BullMQ reserves it)';
  if (`${parseInt(id, 10)}` === id) return 'is an integer (BullMQ reserves those)';
  return null;
}

export interface QueueOptions extends RunJobsOptions {
  redis: string;
  /** Queue name; also the prefix of the result hash. Default `rescoin`. */
  queue?: string;
  /** Tries per job before it is reported as failed. Default 3. */
  attempts?: number;
  /** First retry delay, doubled at each retry. Default 1000 ms. */
  backoffMs?: number;
  /** How often the hash is read in full when no nudge comes (ms). Default 250. */
  pollMs?: number;
  /** How long the first connection may take before the run fails (ms). Default 10 s. */
  connectTimeoutMs?: number;
}

/** What a BullMQ job carries: the job, and its time limit (RunJobsOptions.timeoutMs) if any. */
export interface QueuedData {
  job: Job;
  timeoutMs?: number;
}

export interface FailedJob {
  id: string;
  error: string;
}

/** Thrown by runQueued after every other job has finished. */
export class QueuedJobsFailed extends Error {
  constructor(
    readonly failed: FailedJob[],
    readonly total: number,
  ) {
    super(`${failed.length} of ${total} jobs failed after their attempts:\n${failed.map((f) => `  ${f.id}: ${f.error}`).join('\n')}`);
    this.name = 'QueuedJobsFailed';
  }
}

const CHUNK = 1000;
const WINDOW = 10_000;

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

function checkJobs(jobs: readonly Job[]): void {
  const seen = new Set<string>();
  for (const j of jobs) {
    const bad = badJobId(j.id);
    if (bad !== null) throw new Error(`job id ${JSON.stringify(j.id)} ${bad}`);
    if (seen.has(j.id)) throw new Error(`job id ${JSON.stringify(j.id)} is given twice: ids must be unique`);
    seen.add(j.id);
  }
}

/** The results of those ids that have one, as raw JSON. */
async function readResults(redis: Redis, key: string, ids: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const part of chunks(ids)) {
    const vals = await redis.hmget(key, ...part);
    vals.forEach((v, i) => v !== null && found.set(part[i], v));
  }
  return found;
}

/** Failed jobs of ours in BullMQ's failed set, with their errors. */
async function readFailed(queue: Queue, wanted: ReadonlySet<string>): Promise<FailedJob[]> {
  const failed = await queue.getFailed(0, -1);
  return failed.filter((j) => j?.id !== undefined && wanted.has(j.id)).map((j) => ({ id: j.id!, error: j.failedReason || 'failed' }));
}

/** Enqueue the jobs that have no result yet; failed ones of an earlier run are removed first. */
async function enqueue(queue: Queue, jobs: readonly Job[], opts: QueueOptions): Promise<void> {
  const ids = new Set(jobs.map((j) => j.id));
  for (const f of await readFailed(queue, ids)) await queue.remove(f.id);
  const jobOpts = { attempts: opts.attempts ?? 3, backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 }, removeOnComplete: true, removeOnFail: false };
  const data = (job: Job): QueuedData => (opts.timeoutMs === undefined ? { job } : { job, timeoutMs: opts.timeoutMs });
  for (const part of chunks(jobs)) await queue.addBulk(part.map((j) => ({ name: j.fn, data: data(j), opts: { ...jobOpts, jobId: j.id } })));
}

/** Sleeps until `ms` pass, a nudge comes or the signal aborts. */
function waiter(signal?: AbortSignal) {
  let wake: (() => void) | null = null;
  return {
    nudge: () => wake?.(),
    wait: (ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => (clearTimeout(t), signal?.removeEventListener('abort', done), (wake = null), resolve());
        const t = setTimeout(done, ms);
        wake = done;
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

/** Finished jobs plus the progress of our running ones, for the bar. */
async function progressDone(queue: Queue, index: ReadonlyMap<string, number>, results: number): Promise<number> {
  const active = await queue.getActive();
  let running = 0;
  for (const j of active) if (j?.id !== undefined && index.has(j.id) && typeof j.progress === 'number') running += Math.min(1, Math.max(0, j.progress));
  return Math.floor(results + running);
}

/**
 * Run the jobs through Redis and return their results in the order of the list. Needs at least one
 * `rescoin worker` on the same Redis and queue (it waits for one). Throws QueuedJobsFailed after
 * the others finished when some job failed after its attempts; throws the signal's reason when
 * aborted (the jobs stay queued: a re-run picks them up).
 */
export async function runQueued<R>(jobs: readonly Job[], opts: QueueOptions): Promise<R[]> {
  checkJobs(jobs);
  const name = opts.queue ?? QUEUE_NAME;
  const key = resultsKey(name);
  const redis = connect(opts.redis);
  const sub = redis.duplicate();
  sub.on('error', () => {});
  const queue = new Queue(name, { connection: redis });
  // Connection errors while Redis is away: the commands wait and are retried (connect()).
  queue.on('error', () => {});
  const index = new Map(jobs.map((j, k) => [j.id, k]));
  const raw = new Map<string, string>();
  const failed = new Map<string, string>();
  // The full read covers the first WINDOW jobs without a result, in list order (BullMQ hands jobs
  // out first in, first out, so those are the ones finishing): its cost stays bounded for a city's
  // millions of jobs, while the nudges bring the results of any job at once.
  let first = 0;
  const missing = (limit = Infinity) => {
    while (first < jobs.length && raw.has(jobs[first].id)) first++;
    const ids: string[] = [];
    for (let k = first; k < jobs.length && ids.length < limit; k++) if (!raw.has(jobs[k].id)) ids.push(jobs[k].id);
    return ids;
  };
  const { nudge, wait } = waiter(opts.signal);
  const nudged = new Set<string>();
  try {
    await reachable(redis, opts.redis, opts.connectTimeoutMs);
    for (const [id, v] of await readResults(redis, key, jobs.map((j) => j.id))) raw.set(id, v);
    let shown = -1;
    const show = (done: number) => {
      if (done !== shown) opts.onProgress?.((shown = done), jobs.length);
    };
    show(raw.size);
    if (raw.size < jobs.length) {
      await sub.subscribe(doneChannel(name));
      sub.on('message', (_c: string, id: string) => {
        if (!index.has(id) || raw.has(id)) return;
        nudged.add(id);
        nudge();
      });
      await enqueue(queue, jobs.filter((j) => !raw.has(j.id)), opts);
    }
    const pollMs = opts.pollMs ?? 250;
    let lastFull = 0;
    let lastFailedCount = -1;
    let lastBar = 0;
    while (raw.size + failed.size < jobs.length) {
      opts.signal?.throwIfAborted();
      const now = performance.now();
      const full = now - lastFull >= pollMs;
      const ids = full ? missing(WINDOW) : [...nudged].filter((id) => !raw.has(id));
      nudged.clear();
      if (full) lastFull = now;
      for (const [id, v] of await readResults(redis, key, ids)) {
        raw.set(id, v);
        failed.delete(id);
      }
      if (full) {
        const count = await queue.getFailedCount();
        if (count !== lastFailedCount) {
          lastFailedCount = count;
          for (const f of await readFailed(queue, new Set(missing()))) failed.set(f.id, f.error);
        }
      }
      if (opts.onProgress && (raw.size + failed.size === jobs.length || now - lastBar > 250)) {
        lastBar = now;
        show(raw.size + failed.size === jobs.length ? raw.size : await progressDone(queue, index, raw.size));
      }
      if (raw.size + failed.size < jobs.length && nudged.size === 0) await wait(pollMs);
    }
    if (failed.size > 0) {
      // A duplicate delivery may have kept a result after its twin failed: the result wins.
      for (const [id, v] of await readResults(redis, key, [...failed.keys()])) {
        raw.set(id, v);
        failed.delete(id);
      }
    }
    if (failed.size > 0) throw new QueuedJobsFailed(jobs.filter((j) => failed.has(j.id)).map((j) => ({ id: j.id, error: failed.get(j.id)! })), jobs.length);
    return jobs.map((j) => JSON.parse(raw.get(j.id)!) as R);
  } finally {
    await queue.close().catch(() => {});
    sub.disconnect();
    redis.disconnect();
  }
}
