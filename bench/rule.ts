import { drawDay, HELD_OUT_SEED, heldOutDay, loadScenario, makeEnv, trainingDay, type Day, type Policy } from '../env/index.js';
import { asapPolicy, cheapestPolicy, prechargePolicy, PRECHARGE_DEFAULTS, type PrechargeParams } from '../baseline/index.js';
import { gapPct } from '../evaluation/stats.js';
import { writeResults } from './common.js';
import { optimum, playAll } from './refs.js';

/**
 * `npm run bench:rule`: tunes the pre-charge rule (baseline/precharge.ts) by a grid search on the
 * training days trainingDay(1, d), d = 0…199, minimising the mean J, then measures the best
 * params' gap to J* on the 30 held-out days beside asap, cheapest and the shipped defaults. The
 * held-out days are drawn only after the search has chosen. BENCH_RULE_TRAIN_DAYS (default 200),
 * BENCH_RULE_DAYS (held-out, default 30), BENCH_RULE_SCENARIO (default paper-apartment),
 * BENCH_RULE_TIME_LIMIT (s per MILP solve, default 60).
 */

const s = loadScenario(process.env.BENCH_RULE_SCENARIO ?? 'paper-apartment');
const TRAIN_DAYS = Number(process.env.BENCH_RULE_TRAIN_DAYS ?? 200);
const DAYS = Number(process.env.BENCH_RULE_DAYS ?? 30);
const TIME_LIMIT = Number(process.env.BENCH_RULE_TIME_LIMIT ?? 60);

const GRID = {
  preFraction: [0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1, 1.25, 1.5],
  maxLevel: [1, 2],
  stackKw: [0, 0.1, 0.25, 0.5, 1, 2, Infinity],
  solarKw: [0, 0.5, 1, 1.5, Infinity],
  avoidEv: [false, true],
};

const env = makeEnv(s);

/** J of each day and the violations, on the bench's one env. */
const scores = (policy: Policy, days: Day[]) => playAll(env, policy, days);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const t0 = performance.now();
const training = Array.from({ length: TRAIN_DAYS }, (_, d) => drawDay(s, trainingDay(1, d)));
let best: { params: PrechargeParams; meanJ: number } | null = null;
const searched: { params: PrechargeParams; meanJ: number; violations: number }[] = [];
for (const preFraction of GRID.preFraction)
  for (const maxLevel of GRID.maxLevel)
    for (const stackKw of GRID.stackKw)
      for (const solarKw of GRID.solarKw)
        for (const avoidEv of GRID.avoidEv) {
          const params = { preFraction, maxLevel, stackKw, solarKw, avoidEv };
          const r = await scores(prechargePolicy(s, params), training);
          const meanJ = mean(r.j);
          searched.push({ params, meanJ, violations: r.violations });
          if (!best || meanJ < best.meanJ - 1e-12) best = { params, meanJ };
        }
const searchSeconds = (performance.now() - t0) / 1000;
const tuned = best!;
/** JSON has no Infinity: the params as the results file and the log write them. */
const plain = (p: PrechargeParams) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v === Infinity ? 'Infinity' : v]));
const fmt = (p: PrechargeParams) => JSON.stringify(plain(p));
console.log(`grid search: ${searched.length} params × ${TRAIN_DAYS} training days in ${searchSeconds.toFixed(0)} s; best ${fmt(tuned.params)}, mean J ${tuned.meanJ.toFixed(5)} €`);
const asapTrain = mean((await scores(asapPolicy(), training)).j);
const cheapestTrain = mean((await scores(cheapestPolicy(s), training)).j);
const defaultsTrain = mean((await scores(prechargePolicy(s), training)).j);
console.log(`training days mean J: asap ${asapTrain.toFixed(5)}, cheapest ${cheapestTrain.toFixed(5)}, precharge defaults ${defaultsTrain.toFixed(5)} €`);

const held = Array.from({ length: DAYS }, (_, d) => drawDay(s, heldOutDay(d)));
const { jStar, unprovenDays: unproven } = await optimum(s, held, TIME_LIMIT);
const jAsap = (await scores(asapPolicy(), held)).j;
const results: Record<string, unknown>[] = [];
const played: [string, Policy, PrechargeParams | null][] = [
  ['asap', asapPolicy(), null],
  ['cheapest', cheapestPolicy(s), null],
  ['precharge (tuned)', prechargePolicy(s, tuned.params), tuned.params],
  ['precharge (defaults)', prechargePolicy(s), { ...PRECHARGE_DEFAULTS }],
];
for (const [label, policy, params] of played) {
  const r = await scores(policy, held);
  const row = { policy: label, params: params && plain(params), meanJ: mean(r.j), gapPct: gapPct(r.j, jStar, jAsap), violations: r.violations, perDay: r.j };
  results.push(row);
  console.log(`${label}: held-out mean J ${row.meanJ.toFixed(5)} €, gap to J* ${row.gapPct.toFixed(1)} %, ${r.violations} violations`);
}
console.log(`J* mean ${mean(jStar).toFixed(5)} € (${unproven.length} of ${DAYS} days not proven optimal in ${TIME_LIMIT} s)`);
const path = writeResults('rule', {
  scenario: s.id,
  trainingDays: `trainingDay(1, d), d = 0…${TRAIN_DAYS - 1}`,
  heldOutDays: `daySeed(${HELD_OUT_SEED}, d), d = 0…${DAYS - 1}`,
  grid: Object.fromEntries(Object.entries(GRID).map(([k, xs]) => [k, xs.map((x) => (x === Infinity ? 'Infinity' : x))])),
  best: { params: plain(tuned.params), trainingMeanJ: tuned.meanJ },
  trainingMeanJ: { asap: asapTrain, cheapest: cheapestTrain, prechargeDefaults: defaultsTrain },
  searchSeconds,
  searched: searched.map((r) => ({ ...r, params: plain(r.params) })),
  jStar,
  jAsap,
  unprovenDays: unproven,
  results,
});
console.log(`wrote ${path}`);
