import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

/**
 * The queue tests' own Redis and workers: a redis-server on a free loopback port in a temporary
 * folder (AOF on, fsync always, noeviction, no RDB snapshots), `rescoin worker` processes from
 * dist/, and a log of which process started which job (test/fixtures/queue-jobs.mjs writes it).
 * Everything started here is killed by stopAll().
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
export const FIXTURE = new URL('../fixtures/queue-jobs.mjs', import.meta.url).href;

export const haveRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
/** Skip only where Redis is missing and this is not CI (under CI a missing Redis fails the tests). */
export const skipQueueTests = !haveRedis && !process.env.CI;
if (skipQueueTests) console.warn('queue tests skipped: redis-server is not on PATH (npm test installs it: scripts/ensure-redis.sh)');

const started = new Set<ChildProcess>();
const folders: string[] = [];
const clients: Redis[] = [];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check` does, retrying every 50 ms; fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** SIGKILL: no shutdown save; what survives is what the AOF holds. */
  kill(): Promise<void>;
  /** Start again on the same folder (its AOF) and port. */
  restart(): Promise<void>;
  client(): Redis;
}

async function ping(port: number): Promise<boolean> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function startRedis(): Promise<TestRedis> {
  if (!haveRedis) throw new Error('redis-server is not on PATH: npm test installs it first (scripts/ensure-redis.sh); under CI the queue tests need it');
  const dir = mkdtempSync(join(tmpdir(), 'rescoin-redis-'));
  folders.push(dir);
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--save', '', '--daemonize', 'no', '--logfile', join(dir, 'redis.log')];
  const start = async () => {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    proc.on('error', () => {});
    started.add(proc);
    await until(`redis-server on port ${port}`, () => ping(port), 10_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async kill() {
      const p = proc!;
      p.kill('SIGKILL');
      await until('redis-server to die', () => p.exitCode !== null || p.signalCode !== null, 5_000);
      started.delete(p);
    },
    restart: start,
    client() {
      const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
  };
}

export interface TestWorker {
  proc: ChildProcess;
  pid: number;
  stderr(): string;
}

/** A `rescoin worker` process (one thread), by default with short locks; resolves once it says it is ready. */
export async function startWorker(url: string, log: string, { lockMs = 1000, stalledMs = 500 } = {}): Promise<TestWorker> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const args = [BIN, 'worker', '--redis', url, '--workers', '1', '--lock-duration', String(lockMs), '--stalled-interval', String(stalledMs)];
  const proc = spawn(process.execPath, args, { env: { ...process.env, RESCOIN_QUEUE_TEST_LOG: log }, stdio: ['ignore', 'ignore', 'pipe'] });
  started.add(proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until('the worker to be ready', () => err.includes('worker: ready') || (proc.exitCode !== null ? Promise.reject(new Error(`worker exited: ${err}`)) : undefined), 20_000);
  return { proc, pid: proc.pid!, stderr: () => err };
}

/** The log's start lines (or end lines) as [pid, job] pairs. */
export function starts(log: string, event: 'start' | 'end' = 'start'): [number, string][] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(` ${event}`))
    .map((l) => {
      const [pid, job] = l.split(' ');
      return [Number(pid), job];
    });
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rescoin-queue-'));
  folders.push(d);
  return d;
}

/** Kill every process started here (CONT first: a stopped process does not die of SIGTERM) and remove the folders. */
export async function stopAll(): Promise<void> {
  for (const p of started) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
  }
  await Promise.all([...started].map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.once('exit', r)))));
  started.clear();
  for (const c of clients.splice(0)) c.disconnect();
  for (const d of folders.splice(0)) rmSync(d, { recursive: true, force: true });
}
