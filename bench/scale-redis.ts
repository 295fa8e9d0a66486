import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

/**
 * bench/scale.ts's Redis and workers: a redis-server of its own on a free loopback port in a
 * temporary folder (AOF on with fsync always and noeviction, as issue 16 asks of a real one), and
 * `rescoin worker` processes of this build (dist/cli/bin.js).
 */

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

function freePort(): Promise<number> {
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

/**
 * CPU ms (user + system) that processes have used so far, from /proc (Linux; clock ticks of 10 ms),
 * or null elsewhere: the bench's wall times mean little on cores shared with other work, its CPU
 * times much more.
 */
export function cpuMsOf(pids: readonly number[]): number | null {
  try {
    let ticks = 0;
    for (const pid of pids) {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks * 10;
  } catch {
    return null;
  }
}

export interface BenchRedis {
  url: string;
  pid: number;
  client: Redis;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'rescoin-bench-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--save', '', '--logfile', join(dir, 'redis.log')];
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on('error', () => {});
  for (let i = 0; ; i++) {
    if (await client.ping().catch(() => null)) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port} (is it installed? scripts/ensure-redis.sh)`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid!,
    client,
    async stop() {
      client.disconnect();
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `rescoin worker` with `threads` threads; resolves once it says it is ready. */
export async function startWorker(url: string, threads: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--workers', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; !err.includes('worker: ready'); i++) {
    if (i > 400 || proc.exitCode !== null) throw new Error(`rescoin worker did not start: ${err}`);
    await sleep(50);
  }
  return proc;
}

/** SIGTERM (the worker finishes what it holds), then wait for the exit. */
export async function stopWorker(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}
