import { basename } from 'node:path';
import { HELD_OUT_SEED } from '../env/index.js';
import { DEFAULT_BOUND_CACHE } from '../evaluation/bound-cache.js';
import { choosePolicy, chooseProsumer, dayPayout, METER_BYTES, mintPayouts, PAYOUTS_FORMAT, writePayouts, type MintResult, type PayoutsFile } from '../ledger/index.js';
import type { EvaluateResult } from '../evaluation/evaluate.js';
import { defineCommand, println, processIo, type Io } from './command.js';
import { jsonOption, redisOption, scenarioFrom, scenarioOption, timeLimitOption, workersOption } from './common.js';
import { UsageError } from './errors.js';
import { openLedger } from './ledger.js';

/** payouts.json of an evaluation: each policy's RSC and meter-data hash per day (ledger/payouts.ts). */
export function payoutsOf(r: EvaluateResult, scenario: string, seed: number): PayoutsFile {
  const policies = r.policies.map(({ name }) => ({
    name,
    days: r.days.flatMap((row, k) => {
      if (row.policy !== name) return [];
      const m = r.meter[k];
      return [dayPayout(row.day, row.seed, row.summary.rescoin, { importKw: m.importKw, exportKw: m.exportKw, day: { pvKw: m.pvKw } })];
    }),
  }));
  return { format: PAYOUTS_FORMAT, scenario, seed, meter: METER_BYTES, policies };
}

/** Open the ledger, do one thing with it, close it. */
function withLedger<T>(dir: string, io: Io, fn: (l: ReturnType<typeof openLedger>) => T): T {
  const l = openLedger(dir, io, 'rescoin evaluate: --ledger');
  try {
    return fn(l);
  } finally {
    l.close();
  }
}

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  summary: 'Play asap, cheapest, the pre-charge rule, the MPC, each run and the MILP optimum on the same held-out days and report the gaps (with --bound: the two-stage MPC too, and the gaps to the non-anticipative bound)',
  options: {
    scenario: { ...scenarioOption, description: 'Scenario id or path (the runs must have been trained on it)' },
    runs: { type: 'list', default: [], description: 'Run folders to evaluate (their model/)' },
    days: { type: 'number', default: 30, integer: true, min: 1, description: 'Held-out days 0 … N−1 of --seed' },
    seed: { type: 'number', default: HELD_OUT_SEED, integer: true, min: 0, description: 'Seed of the held-out days (must not be a training seed)' },
    out: { type: 'string', default: 'reports/latest', description: 'Report folder: report.md, days.csv, days.parquet, payouts.json, gaps.svg/.png, schedules-day0.svg' },
    'time-limit': { ...timeLimitOption, description: "Seconds the MILP may spend on each day (and the bound's solve, with --bound); a day not proven by then keeps the best schedule found (the bound: HiGHS's dual bound)" },
    bound: { type: 'boolean', default: false, description: "Add each day's non-anticipative bound (the least J a policy that learns the EV's trip only when the car is back can expect) and the gap to it; slow, so cached in --cache" },
    'bound-samples': { type: 'number', default: 8, integer: true, min: 1, description: 'With --bound: trips drawn from the habits per trip day' },
    'mpc-scenarios': { type: 'boolean', default: false, description: 'Also play the two-stage MPC (mpc-scenarios: --mpc-samples futures per re-solve sharing the slot\'s decision; about 30 s a day); on with --bound' },
    'mpc-samples': { type: 'number', default: 4, integer: true, min: 1, description: 'With mpc-scenarios: futures drawn from the habits per re-solve' },
    cache: { type: 'string', default: DEFAULT_BOUND_CACHE, description: "With --bound: the folder of the bound's cache, one JSON file per day (under the current directory by default)" },
    json: { ...jsonOption, description: 'Print { policies: [{ name, kind, meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, gapToBoundPct, decisionMs, violations }] } (the bound, with --bound, has name and kind "bound", meanScore, gapPct and gapToBoundPct)' },
    ledger: { type: 'string', description: "Ledger folder (rescoin ledger init): after the evaluation, mint one policy's payouts of each day to a prosumer" },
    prosumer: { type: 'string', description: "With --ledger: the account paid (default: the ledger's only prosumer)" },
    'ledger-policy': { type: 'string', description: 'With --ledger: the policy whose days are paid (default: the first run; needed when there is no run)' },
    workers: workersOption,
    redis: redisOption,
  },
  fields: { dir: '--ledger', to: '--prosumer', policy: '--ledger-policy' },
  check(a) {
    for (const flag of ['prosumer', 'ledger-policy'] as const) if (a[flag] !== undefined && a.ledger === undefined) throw new UsageError(`--${flag}`, 'goes with --ledger, which is not given');
  },
  async run(a, io) {
    const scenario = scenarioFrom(a.scenario);
    // A ledger that cannot take the payouts fails now, not after the evaluation. The policies are
    // named as evaluate() names them: the baselines and each run's folder.
    const scenarios = a['mpc-scenarios'] || a.bound;
    const names = ['asap', 'cheapest', 'precharge', 'mpc', ...(scenarios ? ['mpc-scenarios'] : []), ...a.runs.map((r) => basename(r)), 'milp'];
    if (a.ledger !== undefined) withLedger(a.ledger, io, (l) => (chooseProsumer(l, a.prosumer), choosePolicy(names, a['ledger-policy'])));
    const { evaluate, formatStats } = await import('../evaluation/evaluate.js');
    const { default: cliProgress } = await import('cli-progress');
    // On stderr (stdout stays the table or the JSON); without a TTY it prints a line now and then.
    const bar = a.json || io !== processIo ? null : new cliProgress.SingleBar({ format: ' {bar} {value}/{total} days | ETA {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic);
    bar?.start(a.days, 0);
    const r = await evaluate({ scenario, runs: a.runs, days: a.days, seed: a.seed, out: a.out, timeLimitSec: a['time-limit'], bound: a.bound, boundSamples: a['bound-samples'], cacheDir: a.cache, mpcScenarios: scenarios, mpcSamples: a['mpc-samples'], workers: a.workers, redis: a.redis, onDay: (k) => bar?.update(k) });
    bar?.stop();
    const payouts = payoutsOf(r, scenario.id, a.seed);
    writePayouts(a.out, payouts);
    if (a.ledger !== undefined) {
      const m: MintResult = withLedger(a.ledger, io, (l) => mintPayouts(l, payouts, { report: a.out, policy: a['ledger-policy'], to: a.prosumer }));
      println(io.stderr, `minted ${m.total / 1e6} RSC to ${m.to} (${m.minted.length} days of ${m.policy}) in ${a.ledger}, block ${m.block?.height ?? '-'}`);
    }
    if (a.json) {
      const policies = r.report.policies.map((p) =>
        p.kind === 'bound'
          ? { name: p.name, kind: p.kind, meanScore: p.stats.meanScore, gapPct: p.stats.gapPct, gapToBoundPct: p.stats.gapToBoundPct }
          : (({ meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, gapToBoundPct, decisionMs, violations }) => ({ name: p.name, kind: p.kind, meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, gapToBoundPct, decisionMs, violations }))(p.stats),
      );
      println(io.stdout, JSON.stringify({ policies }, null, 2));
    } else {
      println(io.stdout, `\n${a.days} held-out days of seed ${a.seed}, gap 0 % = optimum (J*) or the bound (LB), 100 % = no management\n`);
      println(io.stdout, formatStats(r.report));
      println(io.stdout, `\nreport: ${r.reportDir}/report.md`);
    }
  },
});
