import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, skipQueueTests, startRedis, startWorker, stopAll, tempDir, type TestRedis } from './queue-redis.js';

/**
 * Issue 16's "done when": the reports of --workers 1 and of Redis (two `rescoin worker` processes)
 * are byte-identical, timing fields aside. The commands and the workers are the build in dist/.
 */

const cli = (cwd: string, ...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** report.json without the decision times, days.csv and payouts.json of a report folder. */
function reportOf(out: string) {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { policies: { stats: { decisionMs?: number } }[] };
  for (const p of report.policies) delete p.stats.decisionMs;
  return { report: JSON.stringify(report), csv: readFileSync(join(out, 'days.csv'), 'utf8'), payouts: readFileSync(join(out, 'payouts.json'), 'utf8') };
}

describe.skipIf(skipQueueTests)('fan-out commands with --redis', () => {
  let redis: TestRedis;
  let tmp: string;
  beforeAll(async () => {
    redis = await startRedis();
    tmp = tempDir();
    const log = join(tmp, 'starts.log');
    await startWorker(redis.url, log, { lockMs: 30_000, stalledMs: 30_000 });
    await startWorker(redis.url, log, { lockMs: 30_000, stalledMs: 30_000 });
  }, 30_000);
  afterAll(stopAll);

  it('evaluate writes through Redis the report it writes on one thread (timings aside)', async () => {
    cli(tmp, 'evaluate', '--days', '1', '--workers', '1', '--out', join(tmp, 'one'), '--json');
    const before = await redis.client().hlen('rescoin:results');
    cli(tmp, 'evaluate', '--days', '1', '--redis', redis.url, '--out', join(tmp, 'redis'), '--json');
    const one = reportOf(join(tmp, 'one'));
    expect(JSON.parse(one.report).policies.map((p: { name: string }) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'milp']);
    expect(reportOf(join(tmp, 'redis'))).toEqual(one);
    // One job per policy and day, each result kept once.
    expect((await redis.client().hlen('rescoin:results')) - before).toBe(5);
  }, 60_000);

  it('baseline --days solves through Redis the days it solves on one thread (solve times aside)', async () => {
    const rows = (text: string) => (JSON.parse(text) as { solveMs?: number }[]).map(({ solveMs: _, ...row }) => row);
    const base = rows(cli(tmp, 'baseline', '--day', '3', '--days', '3', '--seed', '1', '--workers', '1', '--json'));
    expect(base.map((r) => (r as { day: number }).day)).toEqual([3, 4, 5]);
    expect(rows(cli(tmp, 'baseline', '--day', '3', '--days', '3', '--seed', '1', '--redis', redis.url, '--json'))).toEqual(base);
  }, 60_000);
});
