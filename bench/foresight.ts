import { DT, drawDay, evFloors, HELD_OUT_SEED, heldOutDay, loadScenario, makeEnv, playDay, Rng, SLOTS, type Day, type EvDay } from '../env/index.js';
import { asapPolicy, buildDayModel, solveDay } from '../baseline/index.js';
import { LinearModel, lpName, solve } from '../baseline/lp.js';
import { gapPct as gapOf } from '../evaluation/stats.js';
import { writeResults } from './common.js';

/**
 * What knowing the EV's trip is worth (issue 4's "what limits the agents"), `npm run bench:foresight`:
 * for each held-out trip day, a two-stage stochastic MILP (sample average over K trips) picks one
 * morning charge plan for K trips redrawn from the habits: return slot and energy (departure and
 * whether there is a trip are known in the morning: the observation's ev.due shows them). The EV's
 * charge steps before departure are shared by the K copies of the day model; everything else keeps
 * foresight. That morning, played on the true day (the true day's MILP with those steps fixed), gives
 * a gap that no policy without foresight of the trip can be expected to beat: it still knows the
 * requests, the PV and, after departure, the trip itself. Slow (minutes): not part of `npm run bench`.
 * BENCH_FORESIGHT_K (default 8) trips per day, BENCH_FORESIGHT_SECONDS (default 30) per stochastic solve.
 */

const s = loadScenario('paper-apartment');
const ev = s.ev!;
const K = Number(process.env.BENCH_FORESIGHT_K ?? 8);
const LIMIT = Number(process.env.BENCH_FORESIGHT_SECONDS ?? 30);
const DAYS = 30;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The day with another return slot and trip energy drawn from the habits; null when the contract cannot serve it. */
async function redrawTrip(day: Day, rng: Rng): Promise<Day | null> {
  const d = day.ev!;
  const h = ev.habits;
  const arrival = clamp(Math.max(Math.round(h.arrivalSlot.mean + h.arrivalSlot.sd * rng.normal()), d.departure + 1), Math.max(h.arrivalSlot.min, d.departure + 1), Math.min(h.arrivalSlot.max, SLOTS - 1));
  const tripKwh = clamp(h.tripKwh.mean + h.tripKwh.sd * rng.normal(), h.tripKwh.min, h.tripKwh.max);
  const home = new Uint8Array(SLOTS).fill(1).fill(0, d.departure, arrival);
  const base: Omit<EvDay, 'floorKwh'> = { ...d, arrival, tripKwh, home };
  const floorKwh = evFloors(ev, base);
  const ceiling = ev.capacityKwh - ev.chargeStepKw * ev.chargeEfficiency * DT;
  if (floorKwh[0] > d.soc0Kwh + 1e-9 || floorKwh.some((f) => f > ceiling + 1e-9)) return null;
  const v: Day = { ...day, ev: { ...base, floorKwh }, meanLoadKw: day.meanLoadKw + (tripKwh - d.tripKwh) / ev.chargeEfficiency / (SLOTS * DT) };
  v.referencePeakKw = (await playDay(makeEnv(s), asapPolicy(), v)).summary.peakKw;
  return v;
}

/** The charge steps before departure that do best on average over the days `variants`. */
async function sharedMorning(variants: Day[], departure: number): Promise<{ steps: number[]; status: string; seconds: number }> {
  const big = new LinearModel();
  let shared: number[] = [];
  variants.forEach((v, i) => {
    const { model } = buildDayModel(s, v);
    const at = model.cols.map((c) => big.addCol(`s${i}_${c.name}`, c.lb, c.ub, c.cost / variants.length, c.integer));
    for (const r of model.rows)
      big.addRow(
        `s${i}_${r.name}`,
        r.cols.map((c, j) => [at[c], r.vals[j]] as [number, number]),
        r.lb,
        r.ub,
      );
    big.offset += model.offset / variants.length;
    const byName = new Map(model.cols.map((c, j) => [c.name, at[j]]));
    const mine = Array.from({ length: departure }, (_, t) => byName.get(lpName(`ev_charge_${t}`))!);
    if (i === 0) shared = mine;
    else mine.forEach((c, t) => big.addRow(`same_${i}_${t}`, [[c, 1], [shared[t], -1]], 0, 0));
  });
  const res = await solve(big, { mipRelGap: 1e-2, timeLimitSec: LIMIT });
  if (!res.hasSolution) throw new Error(`no morning plan within ${LIMIT} s`);
  return { steps: shared.map((c) => Math.round(res.values[c])), status: res.status, seconds: res.solveMs / 1000 };
}

/** J of the true day with the morning's charge steps fixed and foresight for the rest. */
async function playMorning(day: Day, steps: number[]): Promise<number> {
  const { model } = buildDayModel(s, day);
  steps.forEach((v, t) => {
    const c = model.cols.find((col) => col.name === lpName(`ev_charge_${t}`))!;
    c.lb = v;
    c.ub = v;
  });
  const res = await solve(model, { timeLimitSec: 60 });
  if (!res.hasSolution) throw new Error(`day ${day.seed}: no schedule with the shared morning`);
  return res.objective;
}

const days: { day: number; trip: boolean; jStar: number; j: number; jAsap: number; solve: { status: string; seconds: number } | null }[] = [];
for (let k = 0; k < DAYS; k++) {
  const day = drawDay(s, heldOutDay(k));
  const jStar = (await solveDay(s, day)).score;
  const jAsap = (await playDay(makeEnv(s), asapPolicy(), day)).summary.score;
  let j = jStar;
  let stochastic: { status: string; seconds: number } | null = null;
  if (day.ev?.trip) {
    const rng = new Rng(7000 + k);
    const variants: Day[] = [];
    while (variants.length < K) {
      const v = await redrawTrip(day, rng);
      if (v) variants.push(v);
    }
    const m = await sharedMorning(variants, day.ev.departure);
    j = await playMorning(day, m.steps);
    stochastic = { status: m.status, seconds: m.seconds };
  }
  days.push({ day: k, trip: day.ev?.trip ?? false, jStar, j, jAsap, solve: stochastic });
  console.log(`day ${k}: J* ${jStar.toFixed(4)}, shared morning ${j.toFixed(4)}${stochastic ? ` (${stochastic.status}, ${stochastic.seconds.toFixed(1)} s)` : ' (no trip)'}`);
}
const gapPct = gapOf(days.map((x) => x.j), days.map((x) => x.jStar), days.map((x) => x.jAsap));
const path = writeResults('foresight', { scenario: s.id, days: `daySeed(${HELD_OUT_SEED}, d), d = 0…${DAYS - 1}`, tripsPerDay: K, secondsPerSolve: LIMIT, gapPct, perDay: days });
console.log(`gap with foresight of everything but the trip (one morning for ${K} redrawn trips): ${gapPct.toFixed(1)} %`);
console.log(`wrote ${path}`);
