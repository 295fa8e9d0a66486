import { describe, expect, it } from 'vitest';
import { drawDay, heldOutDay, loadScenario, makeEnv, playDay, withTrip, type Day } from '../../env/index.js';
import { asapPolicy, boundDay, cheapestPolicy, decisionSlot, drawTrips, solveDay } from '../../baseline/index.js';

/**
 * The non-anticipative bound (baseline/bound.ts). It is a bound in expectation over the trips
 * drawn, not against the day's own trip, so the tests check what holds exactly for the trips in the
 * program: perfect foresight per trip ≤ the bound ≤ any non-anticipative policy's mean J on them.
 */

const s = loadScenario('paper-apartment');
const env = makeEnv(s);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Held-out days 0 (a trip day, the bound solves in seconds) and 1 (no trip) of the default seed. */
const tripDay = drawDay(s, heldOutDay(0));
const homeDay = drawDay(s, heldOutDay(1));

describe('withTrip', () => {
  it("gives back the day itself for the day's own trip, and caps the energy as drawDay does", () => {
    const e = tripDay.ev!;
    expect(e.trip).toBe(true);
    const same = withTrip(s, tripDay, e.arrival, e.tripKwh);
    expect(same.meanLoadKw).toBe(tripDay.meanLoadKw);
    expect(same.referencePeakKw).toBe(tripDay.referencePeakKw);
    expect(Array.from(same.ev!.home)).toEqual(Array.from(e.home));
    const late = withTrip(s, tripDay, 90, 100);
    expect(late.ev!.tripKwh).toBe(e.targetKwh - s.ev!.socMinKwh);
    expect(Array.from(late.ev!.home.subarray(e.departure, 90)).every((x) => x === 0)).toBe(true);
    expect(late.ev!.home[90]).toBe(1);
    expect(late.meanLoadKw - tripDay.meanLoadKw).toBeCloseTo((late.ev!.tripKwh - e.tripKwh) / s.ev!.chargeEfficiency / 24, 12);
    expect(() => withTrip(s, tripDay, e.departure, 5)).toThrow(`arrival must be an integer slot in [${e.departure + 1}, 95]`);
    expect(() => withTrip(s, homeDay, 80, 5)).toThrow(/has no trip/);
  });
});

describe('boundDay', () => {
  it('names the decision slot of each kind of decision column, and no other column', () => {
    expect(['dishwasher_start_12', 'wm_run_40', 'dryer_run_41_2', 'x_run_7_start_9', 'ev_charge_3', 'ev_discharge_95', 'ev_mode_0'].map(decisionSlot)).toEqual([12, 40, 41, 9, 3, 95, 0]);
    expect(['ev_soc_12', 'import_3', 'fo2_4', 'ev_peak_steps_1', 'peak', 'ev_deficit_below'].map(decisionSlot)).toEqual([null, null, null, null, null, null]);
  });

  it('draws the trips from the day seed and the seed, after the departure', () => {
    const a = drawTrips(s, tripDay, 5, 1);
    expect(drawTrips(s, tripDay, 5, 1)).toEqual(a);
    expect(drawTrips(s, tripDay, 5, 2)).not.toEqual(a);
    for (const x of a) expect(x.arrival).toBeGreaterThan(tripDay.ev!.departure);
    expect(new Set(a.map((x) => x.tripKwh)).size).toBe(5);
  });

  it("is J* on a day without a trip, and with every trip the day's own", async () => {
    const home = await boundDay(s, homeDay, { samples: 4 });
    expect(home).toMatchObject({ status: 'optimal', samples: 0, sampled: false, trips: [] });
    expect(Math.abs(home.bound - (await solveDay(s, homeDay)).score)).toBeLessThan(1e-6);
    const e = tripDay.ev!;
    const own = await boundDay(s, tripDay, { trips: [0, 1, 2].map(() => ({ arrival: e.arrival, tripKwh: e.tripKwh })), mipRelGap: 1e-7, timeLimitSec: 60 });
    expect(own.status).toBe('optimal');
    expect(Math.abs(own.bound - (await solveDay(s, tripDay)).score)).toBeLessThan(1e-6);
  }, 60_000);

  it('lies between the mean of the perfect-foresight optima and the mean J of asap and cheapest on the trips drawn', async () => {
    const b = await boundDay(s, tripDay, { samples: 3, seed: 3, timeLimitSec: 60 });
    expect(b).toMatchObject({ status: 'optimal', samples: 3, sampled: true });
    const days: Day[] = b.trips.map((x) => withTrip(s, tripDay, x.arrival, x.tripKwh));
    const foresight = mean(await Promise.all(days.map(async (d) => (await solveDay(s, d)).score)));
    // The program is solved to a relative gap of 1e-6, and its dual bound is what is returned.
    expect(foresight).toBeLessThanOrEqual(b.sampleBound + 1e-6 * Math.abs(b.sampleBound) + 1e-9);
    for (const policy of [asapPolicy(), cheapestPolicy(s)]) {
      const played = [];
      for (const d of days) played.push((await playDay(env, policy, d)).summary.score);
      expect(b.sampleBound, policy.name).toBeLessThanOrEqual(mean(played));
    }
    // The reported bound: the day's own J* plus what the trip's information is worth on the sample.
    expect(b.tripInformationEur).toBeCloseTo(b.sampleBound - foresight, 6);
    expect(b.tripInformationEur).toBeGreaterThanOrEqual(-1e-6);
    expect(b.bound).toBeCloseTo((await solveDay(s, tripDay)).score + b.tripInformationEur!, 6);
  }, 60_000);
});
