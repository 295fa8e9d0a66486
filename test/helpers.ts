import { describe, expect, it } from 'vitest';
import { daySeed, evFloors, evHeadroom, habitSupport, makeEnv, parseScenario, playDay, Rng, SLOTS, type Day, type Scenario, type ScenarioInput } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy } from '../baseline/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../env/index.js';

/** The raw JSON of a shipped scenario, to derive test variants from. */
export function rawScenario(id: string): ScenarioInput {
  return JSON.parse(readFileSync(join(dataDir(), 'scenarios', `${id}.json`), 'utf8')) as ScenarioInput;
}

/**
 * A tiny home that can be solved by hand: one band at 0.10 €/kWh, feed-in 0.05 €/kWh, no PV, no
 * fixed load, no EV, one non-interruptible 2-slot heater of 2 kW asked for every day in [10, 13].
 */
export function tinyScenario(overrides: Partial<ScenarioInput> = {}): Scenario {
  const raw: ScenarioInput = {
    id: 'tiny',
    name: 'tiny',
    description: 'hand-checkable',
    grid: { contractKw: 6, exportLimitKw: 3, source: 'test' },
    tariff: { bands: [{ name: 'flat', eurPerKwh: 0.1, slots: [[0, 95]] }], feedInEurPerKwh: 0.05, feedInSource: 'test', source: 'test' },
    pv: { peakKw: 0, profile: { hourlyKwPerKwp: new Array(24).fill(0) }, source: 'test' },
    fixedLoads: [],
    appliances: [
      {
        id: 'heater',
        name: 'Heater',
        kind: 'non-interruptible',
        cycleKw: [2, 2],
        cycleSource: 'test',
        window: [10, 13],
        habits: { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 },
      },
    ],
    ev: null,
    objective: { peakEurPerKw: 0.5, fo2Weight: 0.01, fo2BreakpointsKw: [-4, -3, -2, -1, 0, 1, 2, 3, 4], source: 'test' },
    rescoin: { valueEur: 0.01, perKwhSelfConsumed: 1, perKwhExported: 0.5, perKwPeakReduction: 10, source: 'test' },
    ...overrides,
  };
  return parseScenario(raw, 'tiny');
}

/** The objective variants of the issue: each term of J switched on in turn. */
export function objectiveVariant(name: 'cost' | 'cost+peak' | 'cost+peak+fo2' | 'full', base: ScenarioInput = rawScenario('paper-apartment')): Scenario {
  const raw = structuredClone(base);
  const off = { valueEur: 0, perKwhSelfConsumed: 0, perKwhExported: 0, perKwPeakReduction: 0, source: 'test: RESCoin off' };
  if (name !== 'full') raw.rescoin = off;
  if (name === 'cost') raw.objective = { ...raw.objective, peakEurPerKw: 0, fo2Weight: 0 };
  if (name === 'cost+peak') raw.objective = { ...raw.objective, fo2Weight: 0 };
  return parseScenario(raw, name);
}

/** The replay test of issue 3, for some objective variants: 30 days each. */
export function replayVariants(names: ('cost' | 'cost+peak' | 'cost+peak+fo2' | 'full')[]): void {
  describe('MILP optimum of a day', () => {
    for (const name of names) {
      it(`${name}: replaying the schedule returns −J* (1e-6) with no violation, and J* ≤ asap and cheapest, on 30 days`, async () => {
        const s = objectiveVariant(name);
        const env = makeEnv(s);
        const milp = milpPolicy(s);
        for (let d = 0; d < 30; d++) {
          const seed = daySeed(31, d);
          const played = await playDay(env, milp, seed);
          const r = milp.last!;
          expect(r.status).toBe('optimal');
          expect(played.summary.violations).toBe(0);
          expect(Math.abs(played.return + r.score)).toBeLessThan(1e-6);
          expect(Math.abs(r.parts.score - r.score)).toBeLessThan(1e-6);
          const asap = (await playDay(env, asapPolicy(), seed)).summary.score;
          const cheapest = (await playDay(env, cheapestPolicy(s), seed)).summary.score;
          expect(r.score).toBeLessThanOrEqual(asap + 1e-9);
          expect(r.score).toBeLessThanOrEqual(cheapest + 1e-9);
        }
      });
    }
  });
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Day `a` with its future after slot t redrawn: every request released after t (another release
 * after t, or none), and, unless the car is back by t, the trip's energy and its return slot. What
 * the env derives (headroom, floors) is recomputed by the day module's own functions. With real
 * base-load days, the base load after t comes from another date too.
 */
export function redrawAfter(s: Scenario, day: Day, t: number, rng: Rng): Day {
  // Real base-load days: the load after t from another date (the reading at t is known at t).
  const other = s.baseDays.length > 1 ? s.baseDays[rng.int(0, s.baseDays.length - 1)] : null;
  const a = other ? { ...day, baseKw: Float64Array.from(other, (x, u) => (u <= t ? day.baseKw[u] : x)) } : day;
  const requests = a.requests.map((q, i) => {
    const len = s.appliances[i].window[1] - s.appliances[i].window[0] + 1;
    const future = q === null || q.release > t;
    if (!future || t + 1 > SLOTS - len) return q;
    if (rng.float() < 0.3) return null;
    const release = rng.int(t + 1, SLOTS - len);
    return { appliance: i, release, deadline: release + len - 1 };
  });
  const e = a.ev;
  if (!e || !s.ev) return { ...a, requests };
  let ev = e;
  if (e.trip && e.arrival > t) {
    const h = s.ev.habits;
    const arrival = clamp(rng.int(Math.max(t + 1, e.departure + 1), habitSupport(h.arrivalSlot, true)[1] + 4), 1, SLOTS - 1);
    const home = new Uint8Array(SLOTS).fill(1);
    home.fill(0, e.departure, arrival);
    const tripKwh = Math.min(e.tripKwh + 6 * rng.float(), habitSupport(h.tripKwh, false)[1]);
    ev = { ...e, arrival, home, tripKwh };
  }
  const headroomKw = evHeadroom(s, s.ev, s.baseMaxKw);
  const floorKwh = evFloors(s.ev, { ...ev, headroomKw });
  return { ...a, requests, ev: { ...ev, headroomKw, floorKwh } };
}

