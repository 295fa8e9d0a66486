import { drawDay, HELD_OUT_SEED, heldOutDay, loadScenario, makeEnv, playDay } from '../env/index.js';
import { asapPolicy, boundDay, solveDay } from '../baseline/index.js';
import { gapPct as gapOf } from '../evaluation/stats.js';
import { writeResults } from './common.js';

/**
 * What knowing the EV's trip is worth, `npm run bench:foresight`: the non-anticipative bound
 * (baseline/bound.ts boundDay: everything of the day known but the trip, which is revealed when the
 * car is back; K trips drawn from the habits) beside J* on the 30 held-out days of the paper's
 * apartment. Its gap to J*, Σ(LB − J*) / Σ(J_asap − J*), is what no policy without foresight of the
 * trip can be expected to close. Slow (minutes): not part of `npm run bench`.
 * BENCH_FORESIGHT_K (default 8) trips per day, BENCH_FORESIGHT_SECONDS (default 30) per bound solve,
 * BENCH_FORESIGHT_DAYS (default 30).
 */

const s = loadScenario('paper-apartment');
const K = Number(process.env.BENCH_FORESIGHT_K ?? 8);
const LIMIT = Number(process.env.BENCH_FORESIGHT_SECONDS ?? 30);
const DAYS = Number(process.env.BENCH_FORESIGHT_DAYS ?? 30);

const days: { day: number; trip: boolean; jStar: number; bound: number; jAsap: number; status: string; mipGap: number; seconds: number }[] = [];
for (let k = 0; k < DAYS; k++) {
  const day = drawDay(s, heldOutDay(k));
  const jStar = (await solveDay(s, day, { timeLimitSec: 60 })).score;
  const jAsap = (await playDay(makeEnv(s), asapPolicy(), day)).summary.score;
  const b = await boundDay(s, day, { samples: K, timeLimitSec: LIMIT });
  days.push({ day: k, trip: b.sampled, jStar, bound: b.bound, jAsap, status: b.status, mipGap: b.mipGap, seconds: b.solveMs / 1000 });
  console.log(`day ${k}: J* ${jStar.toFixed(4)}, bound ${b.bound.toFixed(4)} (${b.sampled ? `${K} trips` : 'no trip'}, ${b.status}, ${(b.solveMs / 1000).toFixed(1)} s)`);
}
const gapPct = gapOf(days.map((x) => x.bound), days.map((x) => x.jStar), days.map((x) => x.jAsap));
const path = writeResults('foresight', { scenario: s.id, days: `daySeed(${HELD_OUT_SEED}, d), d = 0…${DAYS - 1}`, tripsPerDay: K, secondsPerSolve: LIMIT, gapPct, unproven: days.filter((x) => x.status !== 'optimal').length, perDay: days });
console.log(`gap of the non-anticipative bound to J* (${K} trips per day, ${DAYS} days): ${gapPct.toFixed(1)} %`);
console.log(`wrote ${path}`);
