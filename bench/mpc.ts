import { drawDay, HELD_OUT_SEED, heldOutDay, loadScenario, makeEnv, playDay, trainingDay, type Policy } from '../env/index.js';
import { asapPolicy, DEFAULT_TRIP_QUANTILE, mpcPolicy, type MpcOptions } from '../baseline/index.js';
import { gapPct } from '../evaluation/stats.js';
import { median, writeResults } from './common.js';
import { optimum, playAll } from './refs.js';

/**
 * `npm run bench:mpc`: the MPC's gap to J* and its compute over the 30 held-out days, for both
 * forecast modes. BENCH_MPC_DAYS (default 30), BENCH_MPC_SCENARIO (default paper-apartment),
 * BENCH_MPC_SAMPLES (default 4) and BENCH_MPC_MODES (default "expected,scenarios").
 * To tune the MPC without reading the held-out days: BENCH_MPC_SET=training plays training days
 * daySeed(1, d) instead, BENCH_MPC_QUANTILES="none,0.25,0.5" sweeps the expected mode's
 * tripQuantile, and BENCH_MPC_GAP sets the re-solves' relative MIP gap (default 1e-4).
 */

const s = loadScenario(process.env.BENCH_MPC_SCENARIO ?? 'paper-apartment');
const DAYS = Number(process.env.BENCH_MPC_DAYS ?? 30);
const SAMPLES = Number(process.env.BENCH_MPC_SAMPLES ?? 4);
const modes = (process.env.BENCH_MPC_MODES ?? 'expected,scenarios').split(',') as NonNullable<MpcOptions['forecast']>[];
const onTraining = process.env.BENCH_MPC_SET === 'training';
// 'none': plan the trip at its mean; 'default': mpcPolicy's DEFAULT_TRIP_QUANTILE.
const quantiles = (process.env.BENCH_MPC_QUANTILES ?? process.env.BENCH_MPC_QUANTILE ?? 'default').split(',').map((q) => (q === 'default' || q === '' ? undefined : q === 'none' ? null : Number(q)));
const mipRelGap = process.env.BENCH_MPC_GAP ? Number(process.env.BENCH_MPC_GAP) : undefined;

/** A policy whose act() is timed, one entry per decision. */
function timed(p: Policy, ms: number[]): Policy {
  return {
    name: p.name,
    reset: (info, day) => p.reset?.(info, day),
    act(obs, info) {
      const t0 = performance.now();
      const a = p.act(obs, info);
      ms.push(performance.now() - t0);
      return a;
    },
  };
}

const env = makeEnv(s);
const days = Array.from({ length: DAYS }, (_, d) => drawDay(s, onTraining ? trainingDay(1, d) : heldOutDay(d)));
const { jStar } = await optimum(s, days);
const jAsap = (await playAll(env, asapPolicy(), days)).j;
const results: Record<string, unknown>[] = [];
const variants = modes.flatMap((forecast): { forecast: typeof forecast; tripQuantile: number | null | undefined }[] => (forecast === 'expected' ? quantiles.map((tripQuantile) => ({ forecast, tripQuantile })) : [{ forecast, tripQuantile: undefined }]));
for (const { forecast, tripQuantile } of variants) {
  const mpc = mpcPolicy(s, { forecast, samples: SAMPLES, tripQuantile, mipRelGap });
  const decisionMs: number[] = [];
  const solveMs: number[] = [];
  const j: number[] = [];
  let violations = 0;
  const t0 = performance.now();
  for (const day of days) {
    const played = await playDay(env, timed(mpc, decisionMs), day);
    j.push(played.summary.score);
    violations += played.summary.violations;
    solveMs.push(...mpc.solveMs);
  }
  const r = {
    policy: mpc.name,
    forecast,
    tripQuantile: tripQuantile === undefined ? DEFAULT_TRIP_QUANTILE : tripQuantile,
    mipRelGap: mipRelGap ?? 1e-4,
    samples: forecast === 'scenarios' ? SAMPLES : 1,
    gapPct: gapPct(j, jStar, jAsap),
    violations,
    decisionMsMedian: median(decisionMs),
    decisionMsMean: decisionMs.reduce((a, b) => a + b, 0) / decisionMs.length,
    resolveMsMedian: median(solveMs),
    resolveMsP95: [...solveMs].sort((a, b) => a - b)[Math.floor(0.95 * (solveMs.length - 1))],
    resolvesPerDay: solveMs.length / DAYS,
    seconds: (performance.now() - t0) / 1000,
    perDay: j,
  };
  results.push(r);
  console.log(`${r.policy}${tripQuantile === null ? ' (trip at its mean)' : ` (trip quantile ${tripQuantile ?? DEFAULT_TRIP_QUANTILE})`}: gap to J* ${r.gapPct.toFixed(1)} %, ${violations} violations, decision median ${r.decisionMsMedian.toFixed(2)} ms (mean ${r.decisionMsMean.toFixed(1)}), re-solve median ${r.resolveMsMedian.toFixed(1)} ms (p95 ${r.resolveMsP95.toFixed(0)}), ${r.resolvesPerDay.toFixed(1)} re-solves a day, ${r.seconds.toFixed(0)} s`);
}
const path = writeResults(onTraining ? 'mpc-training' : 'mpc', { scenario: s.id, days: `daySeed(${onTraining ? 1 : HELD_OUT_SEED}, d), d = 0…${DAYS - 1}`, jStar, jAsap, results });
console.log(`wrote ${path}`);
