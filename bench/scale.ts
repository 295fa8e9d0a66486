import { loadavg } from 'node:os';
import { heldOutDay, loadScenario } from '../env/index.js';
import { dayJobs, scenarioRef } from '../evaluation/day-jobs.js';
import type { Job, RunJobsOptions } from '../evaluation/jobs.js';
import { closePool, runJobs } from '../evaluation/pool.js';
import { resultsKey } from '../evaluation/queue.js';
import { writeResults } from './common.js';
import { cpuMsOf, startRedis, startWorker, stopWorker, type BenchRedis } from './scale-redis.js';

/**
 * `npm run bench:scale` (issue 16): home-days per second of the paper apartment's MILP optimum
 * (milpDay: solveDay, HiGHS) and of a rule policy played over days (playPolicyDay, precharge), run
 * inline (one thread), on the local pool with 2 threads, and through Redis by 2 `rescoin worker`
 * processes of one thread each, on this machine; and the queue's own cost per job, from jobs that
 * do nothing. Every runner must return the same results (timing fields aside): checked here too.
 * Goals: a speed-up of at least 1.8× with 2 workers on 2 cores; under 5 ms of Redis overhead per job.
 * BENCH_SCALE_MILP (days, default 40), BENCH_SCALE_PLAY (default 400), BENCH_SCALE_EMPTY (default
 * 2000). The machine's load average is recorded: other work on the cores lowers the speed-ups.
 */

const N_MILP = Number(process.env.BENCH_SCALE_MILP ?? 40);
const N_PLAY = Number(process.env.BENCH_SCALE_PLAY ?? 400);
const N_EMPTY = Number(process.env.BENCH_SCALE_EMPTY ?? 2000);
const WARM = 6;

const scenario = loadScenario('paper-apartment');
const ref = scenarioRef(scenario);

const milpJobs = (days: number, from = 0): Job[] => Array.from({ length: days }, (_, d) => dayJobs.milp({ scenario: ref, daySeed: heldOutDay(from + d), timeLimitSec: 60 }));
const playJobs = (days: number, from = 0): Job[] => Array.from({ length: days }, (_, d) => dayJobs.play({ scenario: ref, policy: { name: 'precharge' }, daySeed: heldOutDay(from + d) }));
const emptyJobs = (n: number, from = 0): Job[] => Array.from({ length: n }, (_, k) => ({ id: `empty-${from + k}`, module: 'bench/scale-jobs.js', fn: 'empty', input: { k: from + k } }));

/** The results without their timing fields (solveMs, decisionMs, …), which no two runs share. */
function untimed(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(untimed);
  if (x === null || typeof x !== 'object') return x;
  return Object.fromEntries(Object.entries(x).filter(([k]) => !/Ms$/.test(k)).map(([k, v]) => [k, untimed(v)]));
}

interface Timed {
  seconds: number;
  perSec: number;
  msPerJob: number;
  /** CPU ms per job of the processes that did the work (this one; with Redis also the workers and redis-server). */
  cpuMsPerJob: number | null;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function timed(jobs: Job[], opts: RunJobsOptions, pids: number[]): Promise<{ t: Timed; results: unknown[] }> {
  const c0 = cpuMsOf(pids);
  const t0 = performance.now();
  const results = await runJobs<unknown>(jobs, opts);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpuMsOf(pids);
  const cpuMsPerJob = c0 === null || c1 === null ? null : round((c1 - c0) / jobs.length, 3);
  return { t: { seconds: round(seconds, 3), perSec: round(jobs.length / seconds, 1), msPerJob: round((seconds * 1000) / jobs.length, 3), cpuMsPerJob }, results };
}

type Mode = 'inline' | 'pool2' | 'redis2';

/** One kind of job through each runner: warm each first (HiGHS loads, threads start), then time. */
async function measure(name: string, make: (n: number, from?: number) => Job[], n: number, redis: BenchRedis, workerPids: number[]): Promise<Record<Mode, Timed> & { identical: boolean }> {
  const jobs = make(n);
  const warm = make(WARM, 100_000);
  const opts: Record<Mode, RunJobsOptions> = { inline: { workers: 1 }, pool2: { workers: 2 }, redis2: { redis: redis.url, workers: 2 } };
  const out: Partial<Record<Mode, Timed>> = {};
  let first: string | null = null;
  let identical = true;
  for (const mode of ['inline', 'pool2', 'redis2'] as Mode[]) {
    // Each run computes every job: no result of an earlier run is in the hash.
    if (mode === 'redis2') await redis.client.del(resultsKey('rescoin'));
    await runJobs(warm, opts[mode]);
    const { t, results } = await timed(jobs, opts[mode], mode === 'redis2' ? [process.pid, redis.pid, ...workerPids] : [process.pid]);
    out[mode] = t;
    const text = JSON.stringify(untimed(results));
    first ??= text;
    identical &&= text === first;
    process.stderr.write(`  ${name} ${mode}: ${n} jobs in ${t.seconds} s, ${t.perSec}/s, ${t.msPerJob} ms a job, CPU ${t.cpuMsPerJob} ms a job\n`);
  }
  if (!identical) process.stderr.write(`  ${name}: THE RESULTS DIFFER between runners\n`);
  return { ...(out as Record<Mode, Timed>), identical };
}

const speedups = (r: Record<Mode, Timed>) => ({ pool2: round(r.inline.seconds / r.pool2.seconds), redis2: round(r.inline.seconds / r.redis2.seconds) });
const cpus = (r: Record<Mode, Timed>) => ({ inline: r.inline.cpuMsPerJob, pool2: r.pool2.cpuMsPerJob, redis2: r.redis2.cpuMsPerJob });
/**
 * The speed-up 2 idle cores would give if the parallel runs kept both busy: 2 × the inline CPU per
 * job / the parallel CPU per job. Not a measurement of wall time: what is left of the speed-up
 * once the cost of going parallel (threads, copies, Redis) is paid, on a machine whose cores are
 * taken by other work.
 */
const cpuBound = (r: Record<Mode, Timed>) => {
  const k = (t: Timed) => (r.inline.cpuMsPerJob === null || !t.cpuMsPerJob ? null : round((2 * r.inline.cpuMsPerJob) / t.cpuMsPerJob));
  return { pool2: k(r.pool2), redis2: k(r.redis2) };
};

async function main() {
  const loadBefore = loadavg().map((x) => round(x));
  const redis = await startRedis();
  const workers = [await startWorker(redis.url, 1), await startWorker(redis.url, 1)];
  try {
    const pids = () => workers.map((w) => w.pid!);
    const milp = await measure('milp', milpJobs, N_MILP, redis, pids());
    const play = await measure('play precharge', playJobs, N_PLAY, redis, pids());
    const empty = await measure('empty', emptyJobs, N_EMPTY, redis, pids());
    // The AOF's fsync after every write is the bulk of a job's cost on a slow disk: the same jobs
    // with fsync once a second (Redis's default), then with one worker: a job's whole round trip.
    const emptyRedis = async (fsync: 'always' | 'everysec') => {
      await redis.client.config('SET', 'appendfsync', fsync);
      await redis.client.del(resultsKey('rescoin'));
      const server0 = cpuMsOf([redis.pid]);
      const t = (await timed(emptyJobs(N_EMPTY), { redis: redis.url }, [process.pid, redis.pid, ...pids()])).t;
      const server1 = cpuMsOf([redis.pid]);
      // What one redis-server spends per job bounds the jobs per second one Redis can serve.
      const serverCpuMsPerJob = server0 === null || server1 === null ? null : round((server1 - server0) / N_EMPTY, 3);
      process.stderr.write(`  empty redis, ${workers.length} worker${workers.length > 1 ? 's' : ''}, appendfsync ${fsync}: ${t.msPerJob} ms a job, CPU ${t.cpuMsPerJob} ms (redis-server ${serverCpuMsPerJob} ms)\n`);
      return { ...t, serverCpuMsPerJob };
    };
    const everysec2 = await emptyRedis('everysec');
    await stopWorker(workers.pop()!);
    const everysec1 = await emptyRedis('everysec');
    const always1 = await emptyRedis('always');
    const over = (t: Timed) => round(t.msPerJob - empty.inline.msPerJob, 3);
    const overhead = {
      /** Wall time per job through Redis with 2 workers, less the inline time: what a job costs the queue. */
      always2Workers: over(empty.redis2),
      /** With 1 worker: the whole round trip of a job (fetch, run, HSETNX, complete, collect), nothing overlapped. */
      always1Worker: over(always1),
      everysec2Workers: over(everysec2),
      everysec1Worker: over(everysec1),
    };
    const result = {
      scenario: scenario.id,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map((x) => round(x)),
      homeDaysPerSec: {
        milp: { days: N_MILP, inline: milp.inline.perSec, pool2: milp.pool2.perSec, redis2: milp.redis2.perSec },
        playPrecharge: { days: N_PLAY, inline: play.inline.perSec, pool2: play.pool2.perSec, redis2: play.redis2.perSec },
      },
      speedup: { milp: speedups(milp), playPrecharge: speedups(play) },
      cpuMsPerJob: { milp: cpus(milp), playPrecharge: cpus(play), empty: cpus(empty) },
      speedup2CoresFromCpu: { milp: cpuBound(milp), playPrecharge: cpuBound(play) },
      redisOverheadMs: overhead,
      identicalResults: { milp: milp.identical, playPrecharge: play.identical, empty: empty.identical },
      runs: { milp, playPrecharge: play, empty, emptyRedis: { always1Worker: always1, everysec2Workers: everysec2, everysec1Worker: everysec1 } },
      goals: { speedup2Workers: 1.8, redisOverheadMs: 5 },
    };
    const path = writeResults('scale', result);
    process.stdout.write(`${JSON.stringify({ homeDaysPerSec: result.homeDaysPerSec, speedup: result.speedup, cpuMsPerJob: result.cpuMsPerJob, speedup2CoresFromCpu: result.speedup2CoresFromCpu, redisOverheadMs: overhead, identicalResults: result.identicalResults, loadAverageBefore: loadBefore }, null, 2)}\nwritten to ${path}\n`);
    if (!milp.identical || !play.identical || !empty.identical) process.exitCode = 1;
  } finally {
    await Promise.all(workers.map(stopWorker));
    await redis.stop();
    await closePool();
  }
}

await main();
