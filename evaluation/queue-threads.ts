import { Piscina } from 'piscina';
import { executeJob } from './jobs.js';
import type { Execute } from './queue-worker.js';

/**
 * The threads of `rescoin worker`: the local pool's worker script (pool-worker.ts) on a piscina pool
 * of its own, one job per thread. Off the main thread even with one worker, so that a long solve
 * never blocks the renewal of BullMQ's job locks (a blocked worker would lose its job to another).
 * From the TypeScript sources (no compiled pool-worker.js) jobs run in this thread.
 */
export function threadExecutor(threads: number): { execute: Execute; close(): Promise<void> } {
  if (import.meta.url.endsWith('.ts')) return { execute: (job, ctx) => executeJob(job, ctx), close: async () => {} };
  const pool = new Piscina({ filename: new URL('./pool-worker.js', import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  return {
    execute: (job, ctx) => pool.run(job, { signal: ctx.signal }) as Promise<unknown>,
    close: () => pool.destroy(),
  };
}
