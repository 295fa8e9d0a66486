import { daySeed, drawDay, SLOTS, type HomeView } from '../env/index.js';
import { drawCommunityDay, feederFloorKw, parseCommunity, type Community } from '../community/community.js';
import { CommunityCore } from '../community/core.js';
import { CommunityEnv } from '../community/env.js';
import { clearSlot, newClearing } from '../community/market.js';
import { CommunityVectorEnv } from '../community/vector.js';
import { loadavg } from 'node:os';
import { median, writeResults } from './common.js';

/**
 * Community env speed, one thread (issue 15, item 8: ≥ 500,000 home-steps/s at 1,000 homes):
 * - the env: home-steps/s of CommunityEnv.step (PettingZoo dicts of observations, rewards,
 *   terminations, truncations and infos, the day log, the feeder caps, the market clearing), days
 *   drawn by reset() included;
 * - the vector form: CommunityVectorEnv with one community (typed arrays, same-step autoreset);
 * - where the time goes: the bare core (CommunityCore applyHome + settle: controllers, caps, clearing,
 *   rewards, observations), clearSlot alone, and drawing a community day.
 * Communities of 10, 100 and 1,000 paper apartments (PV 2–6 kWp, `count` and `vary.pvPeakKw`), a
 * 2 kW-per-home feeder (so the caps bind), market sdr. Each home plays the first allowed value of
 * every component (wait, idle, or the forced run or charge): a jointly allowed action that costs a
 * mask scan, so the figures are the env's. Each figure is the median of 5 runs of about a second.
 */

const SIZES = [10, 100, 1000];
const RUNS = 5;
const TARGET = 400_000; // home-steps per run: under a second at the goal's speed

function benchCommunity(homes: number): Community {
  const raw = (limitKw: number) => ({
    id: `bench-${homes}`,
    name: `${homes} paper apartments`,
    description: 'bench/community.ts',
    homes: [{ scenario: 'paper-apartment', id: 'apt', count: homes, vary: { pvPeakKw: [2, 6] } }],
    feeder: { limitKw },
    peakEurPerKwDay: 0.1,
    market: 'sdr',
  });
  const floor = feederFloorKw(parseCommunity(raw(1e9)).homes);
  return parseCommunity(raw(Math.max(2 * homes, Math.ceil(floor))));
}

/**
 * Median rates (units/s) of wall time and of this process's CPU time: on a shared machine the wall
 * clock also counts the time other processes hold the core, the CPU time does not.
 */
function timeIt(fn: () => number): { wall: number; cpu: number } {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const units = fn();
    const c = process.cpuUsage(c0);
    wall.push(units / ((performance.now() - t0) / 1000));
    cpu.push(units / ((c.user + c.system) / 1e6));
  }
  return { wall: Math.round(median(wall)), cpu: Math.round(median(cpu)) };
}

/** The first allowed value of every component, into out[offset…]. */
function firstAllowed(view: HomeView, out: Int32Array, offset: number): void {
  const { mask, maskOffsets, nvec } = view;
  for (let c = 0; c < nvec.length; c++) {
    const o = maskOffsets[c];
    let v = 0;
    while (v < nvec[c] - 1 && mask[o + v] === 0) v++;
    out[offset + c] = v;
  }
}

let violations = 0;

function envSteps(c: Community, days: number): number {
  const env = new CommunityEnv(c);
  const ids = env.possibleAgents;
  const actions: Record<string, Int32Array> = {};
  for (const id of ids) actions[id] = new Int32Array(env.actionSpace(id).nvec.length);
  for (let d = 0; d < days; d++) {
    let { infos } = env.reset({ seed: daySeed(7, d) });
    for (let t = 0; t < SLOTS; t++) {
      for (let i = 0; i < ids.length; i++) firstAllowed(infos[ids[i]].home, actions[ids[i]], 0);
      const r = env.step(actions);
      infos = r.infos;
      for (let i = 0; i < ids.length; i++) violations += infos[ids[i]].violations;
    }
  }
  return days * SLOTS * ids.length;
}

function vectorSteps(c: Community, calls: number): number {
  const v = new CommunityVectorEnv(c, 1);
  v.reset(7);
  const actions = new Int32Array(v.n * v.nComponents);
  for (let s = 0; s < calls; s++) {
    for (let k = 0; k < v.n; k++) firstAllowed(v.view(k), actions, k * v.nComponents);
    v.step(actions);
    const core = v.cores[0];
    for (let i = 0; i < core.n; i++) violations += core.violations[i];
  }
  return calls * v.n;
}

/** The core alone on one pre-drawn day: no day draws, no copies out. */
function coreSteps(c: Community, days: number): number {
  const core = new CommunityCore(c);
  const day = drawCommunityDay(c, 3);
  const actions = new Int32Array(core.actOffsets[core.n]);
  for (let d = 0; d < days; d++) {
    core.begin(day);
    while (!core.done) {
      for (let i = 0; i < core.n; i++) {
        firstAllowed(core.homes[i], actions, core.actOffsets[i]);
        core.applyHome(i, actions, core.actOffsets[i]);
      }
      core.settle();
    }
  }
  return days * SLOTS * core.n;
}

function clearings(homes: number, slots: number): number {
  const out = newClearing(homes);
  const net = Float64Array.from({ length: homes }, (_, i) => Math.sin(i * 1.7) * 3);
  for (let s = 0; s < slots; s++) {
    net[s % homes] += 1e-3;
    clearSlot('sdr', net, 0.2, 0.05, out);
  }
  return slots * homes;
}

function dayDraws(c: Community, days: number): number {
  for (let d = 0; d < days; d++) drawCommunityDay(c, daySeed(9, d));
  return days * c.homes.length;
}

const results: Record<string, unknown>[] = [];
for (const homes of SIZES) {
  const c = benchCommunity(homes);
  const days = Math.max(1, Math.round(TARGET / (SLOTS * homes)));
  violations = 0;
  const env = timeIt(() => envSteps(c, days));
  const vector = timeIt(() => vectorSteps(c, days * SLOTS));
  const core = timeIt(() => coreSteps(c, days));
  const clear = timeIt(() => clearings(homes, Math.round(TARGET / homes)));
  const draws = timeIt(() => dayDraws(c, Math.max(1, Math.round(days / 4))));
  results.push({ homes, feederKw: c.feederKw, envHomeStepsPerSec: env, vectorHomeStepsPerSec: vector, coreHomeStepsPerSec: core, clearSlotHomesPerSec: clear, homeDayDrawsPerSec: draws, violations });
}
// One home's day draw alone, to compare with the community's draw per home.
const singleScenario = benchCommunity(10).homes[0].scenario;
const single = timeIt(() => {
  const s = singleScenario;
  for (let d = 0; d < 2000; d++) drawDay(s, daySeed(9, d));
  return 2000;
});

const out = {
  market: 'sdr',
  goal: { homes: 1000, homeStepsPerSec: 500_000 },
  sizes: results,
  singleHomeDayDrawsPerSec: single,
  load: loadavg().map((x) => +x.toFixed(2)),
  notes:
    'median of 5 runs, one thread, { wall, cpu }: per second of wall clock and of this process\'s CPU time; each home plays the first allowed value of every component; day draws included in env and vector; core = CommunityCore on one pre-drawn day; violations must be 0',
};
const path = writeResults('community', out);
type Rate = { wall: number; cpu: number };
const f = (x: number) => x.toLocaleString('en-US');
const both = (r: unknown) => `${f((r as Rate).wall)} (${f((r as Rate).cpu)})`;
console.log(`community env benchmark (paper apartments, market sdr), one thread, median of ${RUNS} runs; per second of wall clock (of CPU time); load ${out.load.join(' ')}`);
console.log('  homes | feeder kW | CommunityEnv home-steps/s | vector, 1 community | bare core | clearSlot homes/s | home-day draws/s | violations');
for (const r of results)
  console.log(
    `  ${String(r.homes).padStart(5)} | ${String(r.feederKw).padStart(9)} | ${both(r.envHomeStepsPerSec).padStart(25)} | ${both(r.vectorHomeStepsPerSec).padStart(19)} | ${both(r.coreHomeStepsPerSec).padStart(9)} | ${both(r.clearSlotHomesPerSec).padStart(17)} | ${both(r.homeDayDrawsPerSec).padStart(16)} | ${r.violations}`,
  );
console.log(`  single home day draws: ${both(out.singleHomeDayDrawsPerSec)} days/s; goal: ${f(500_000)} home-steps/s at 1,000 homes`);
console.log(`wrote ${path}`);
