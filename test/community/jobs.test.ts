import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawCommunityDay, loadCommunity } from '../../community/community.js';
import { communityJobs, communityRef, type BaselineDayInput, type MilpDayRow } from '../../community/jobs.js';
import { evaluateCommunity } from '../../community/evaluate.js';
import { solveCommunityDay } from '../../community/milp.js';
import { daySeed, loadScenario } from '../../env/index.js';
import { executeJob } from '../../evaluation/jobs.js';
import { BIN, skipQueueTests, startRedis, startWorker, stopAll, tempDir, type TestRedis } from '../evaluation/queue-redis.js';

/**
 * The community commands' days as jobs (community/jobs.ts, issue 16): the job of a day returns the
 * row the command printed for it before, its id is a function of its input, and `rescoin community
 * baseline --days`, `evaluate` and `simulate` print the same with one thread, two pool threads and a
 * `rescoin worker` through Redis. The commands are the build in dist/ (`npm run build`). The community is three small
 * homes written here (as test/community/cli.test.ts's), whose MILP is proven optimal in about a second.
 */

const dir = mkdtempSync(join(tmpdir(), 'rescoin-community-jobs-'));
const base = JSON.parse(readFileSync(loadScenario('paper-apartment').origin ?? join('data', 'scenarios', 'paper-apartment.json'), 'utf8')) as { appliances: unknown[] };
writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ extends: 'paper-apartment', id: 'tiny-home', ev: null, appliances: base.appliances.slice(0, 2) }));
const file = join(dir, 'tiny3.json');
writeFileSync(file, JSON.stringify({ id: 'tiny-three', name: 'Three small homes', description: 'test', homes: [{ scenario: 'tiny.json', id: 'h', count: 3, vary: { pvPeakKw: [0, 4] } }], feeder: { limitKw: 8 }, peakEurPerKwDay: 0.1, market: 'sdr' }));

const c = loadCommunity(file);
const input = (over: Partial<BaselineDayInput> = {}): BaselineDayInput => ({ community: communityRef(c), day: 1, seed: daySeed(1, 1), timeLimitSec: 20, lagrangian: false, iterations: 12, ...over });

describe('community baseline jobs', () => {
  it('name the community, the day seed and a digest of the input', () => {
    const job = communityJobs.baseline(input());
    expect(job.id).toMatch(new RegExp(`^tiny-three-baseline-${daySeed(1, 1)}-[0-9a-f]{12}$`));
    expect(communityJobs.baseline(input()).id).toBe(job.id);
    expect(communityJobs.baseline(input({ timeLimitSec: 21 })).id).not.toBe(job.id);
    expect(communityJobs.baseline(input({ lagrangian: true })).id).not.toBe(job.id);
    // A user's file travels by its absolute path; a built-in community by its id.
    expect(job.input.community.ref).toBe(file);
    expect(communityRef(loadCommunity('citylearn-9')).ref).toBe('citylearn-9');
  });

  it("a day's job returns the community MILP's J* and the own optima's J, their difference the value of cooperation", async () => {
    const row = await executeJob<MilpDayRow>(communityJobs.baseline(input()));
    const m = await solveCommunityDay(c, drawCommunityDay(c, daySeed(1, 1)), { timeLimitSec: 20 });
    expect(row).toMatchObject({ day: 1, seed: daySeed(1, 1), method: 'milp', status: 'optimal', mipGap: 0, ownFeasible: true });
    expect(row.score).toBe(m.score);
    expect(row.valueOfCooperation).toBe(row.ownScore - row.score);
    // Proven optimal, and the own optima hold the feeder: cooperating cannot lose.
    expect(row.valueOfCooperation).toBeGreaterThanOrEqual(-1e-9);
    expect(row.feederPeakKw).toBeLessThanOrEqual(8 + 1e-9);
  }, 60_000);

  it('refuses a community whose file changed since the job was made', async () => {
    const job = communityJobs.baseline(input({ community: { ...communityRef(c), hash: '0123456789abcdef' } }));
    await expect(executeJob(job)).rejects.toThrow(`community ${file} has changed since the job was made`);
  });
});

const cli = (cwd: string, ...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** The --json rows without their timing field. */
const rows = (text: string) => (JSON.parse(text) as { solveSec?: number }[]).map(({ solveSec: _, ...row }) => row);
const baselineArgs = ['community', 'baseline', '--community', file, '--days', '2', '--time-limit', '20', '--json'];

describe('rescoin community baseline --days --workers', () => {
  it('prints the same rows, in day order, with 1 and 2 workers (solve times aside)', () => {
    const one = rows(cli(dir, ...baselineArgs, '--workers', '1'));
    expect(one.map((r) => (r as { day: number }).day)).toEqual([0, 1]);
    for (const r of one) expect(r).toMatchObject({ method: 'milp', status: 'optimal' });
    expect(rows(cli(dir, ...baselineArgs, '--workers', '2'))).toEqual(one);
  }, 60_000);
});

/** A report.json without its timing field (each day's solveSec), and report.md without the column of solve seconds. */
function reportOf(out: string) {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { optimum: { solveSec?: number }[]; policies: { name: string }[] };
  for (const o of report.optimum) delete o.solveSec;
  const md = readFileSync(join(out, 'report.md'), 'utf8').replace(/^(\| \d+ \| milp \|(?: [^|]* \|){3}) [0-9.]+ \|/gm, '$1 - |');
  return { report, md };
}
const evaluateArgs = (out: string) => ['community', 'evaluate', '--community', file, '--days', '2', '--time-limit', '20', '--policy', 'precharge,mpc', '--out', out, '--json'];
const simulateArgs = ['community', 'simulate', '--community', file, '--days', '2', '--policy', 'asap,mpc', '--json'];

describe('rescoin community evaluate and simulate --workers', () => {
  it('evaluate writes the same report with 1 and 2 workers (solve times aside)', () => {
    cli(dir, ...evaluateArgs(join(dir, 'ev1')), '--workers', '1');
    cli(dir, ...evaluateArgs(join(dir, 'ev2')), '--workers', '2');
    const one = reportOf(join(dir, 'ev1'));
    expect(one.report.policies.map((p) => p.name)).toEqual(['asap', 'precharge', 'mpc', 'own-optima', 'optimum']);
    expect(one.md).toContain('| 1 | milp | optimal |');
    expect(reportOf(join(dir, 'ev2'))).toEqual(one);
  }, 90_000);

  it('simulate prints the same days with 1 and 2 workers', () => {
    const one = cli(dir, ...simulateArgs, '--workers', '1');
    expect(JSON.parse(one).map((p: { policy: string; days: { day: number }[] }) => [p.policy, p.days.map((d) => d.day)])).toEqual([['asap', [0, 1]], ['mpc', [0, 1]]]);
    expect(cli(dir, ...simulateArgs, '--workers', '2')).toBe(one);
  }, 60_000);

  it('a community made in code is evaluated on this thread, and refused for Redis', async () => {
    const inCode = { ...c, origin: null };
    const r = await evaluateCommunity({ community: inCode, days: 1, rules: ['asap'], runs: [], timeLimitSec: 20, workers: 2 });
    expect(r.policies.map((p) => p.name)).toEqual(['asap', 'own-optima', 'optimum']);
    expect(r.optimum[0].status).toBe('optimal');
    await expect(evaluateCommunity({ community: inCode, days: 1, rules: ['asap'], runs: [], redis: 'redis://127.0.0.1:1' })).rejects.toThrow('community tiny-three was made or changed in code: a rescoin worker could not load it');
  }, 60_000);
});

describe.skipIf(skipQueueTests)('rescoin community baseline --redis', () => {
  let redis: TestRedis;
  let tmp: string;
  beforeAll(async () => {
    redis = await startRedis();
    tmp = tempDir();
    await startWorker(redis.url, join(tmp, 'starts.log'), { lockMs: 30_000, stalledMs: 30_000 });
  }, 30_000);
  afterAll(stopAll);

  it('prints through Redis and a rescoin worker the rows it prints on one thread (solve times aside)', async () => {
    const one = rows(cli(tmp, ...baselineArgs, '--workers', '1'));
    expect(rows(cli(tmp, ...baselineArgs, '--redis', redis.url))).toEqual(one);
    // One result per day, kept under the job's id.
    const ids = await redis.client().hkeys('rescoin:results');
    const seeds = ids.filter((id) => id.startsWith('tiny-three-baseline-')).map((id) => Number(id.split('-')[3]));
    expect(seeds.sort()).toEqual([daySeed(1, 0), daySeed(1, 1)].sort());
  }, 90_000);

  it('evaluate and simulate write through Redis what they write on one thread (solve times aside)', () => {
    cli(tmp, ...evaluateArgs(join(tmp, 'one')), '--workers', '1');
    cli(tmp, ...evaluateArgs(join(tmp, 'redis')), '--redis', redis.url);
    expect(reportOf(join(tmp, 'redis'))).toEqual(reportOf(join(tmp, 'one')));
    expect(cli(tmp, ...simulateArgs, '--redis', redis.url)).toBe(cli(tmp, ...simulateArgs, '--workers', '1'));
  }, 120_000);
});
