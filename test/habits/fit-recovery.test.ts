import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../env/index.js';
import { drawObservations } from '../../habits/check.js';
import { fitHabits, readScenarioJson } from '../../habits/fit.js';
import type { Normal } from '../../habits/fit-ev.js';

/**
 * Recovery: 10,000 days drawn from paper-apartment, logged as a home would log them, fitted back.
 * Tolerances: a share of n days has sd √(p(1−p)/n) ≤ 0.008 for n ≈ 2,900 weekend days, so 0.025
 * (3 sd); slot means and sds ± 0.15 slot (the rounding to whole slots alone moves an sd by
 * √(sd² + 1/12) − sd ≈ 0.02); kWh ± 0.15 kWh.
 */
const base = readScenarioJson('paper-apartment');
const scenario = loadScenario('paper-apartment');
const obs = drawObservations(scenario, 10_000, 7);
const fit = fitHabits(base, obs, { id: 'recovered', form: 'normal', baseRef: 'paper-apartment' });
const fitted = fit.scenario as unknown as { appliances: { id: string; window: number[]; habits: Record<string, number> }[]; ev: { habits: Record<string, Normal & number> } };

describe('fitting 10,000 drawn days recovers paper-apartment (normal form)', () => {
  it('request probabilities, weekday and weekend', () => {
    for (const a of scenario.appliances) {
      const f = fitted.appliances.find((x) => x.id === a.id)!;
      expect(Math.abs(f.habits.weekdayProbability - a.habits.weekdayProbability), a.id).toBeLessThan(0.025);
      expect(Math.abs(f.habits.weekendProbability - a.habits.weekendProbability), a.id).toBeLessThan(0.025);
    }
  });

  it('normal release: window[0] is the mean release, the window keeps its length, sd within 0.15 slot', () => {
    // led-lighting's window [72, 95] ends at 23:45, so the model cuts every later release to 72:
    // what it draws is no longer a normal around 72, and no fit can give its sd back.
    for (const a of scenario.appliances.filter((x) => x.window[1] < 95)) {
      const f = fitted.appliances.find((x) => x.id === a.id)!;
      expect(f.window, a.id).toEqual(a.window);
      expect(Math.abs(f.habits.releaseSdSlots - (a.habits as { releaseSdSlots: number }).releaseSdSlots), a.id).toBeLessThan(0.15);
    }
  });

  it('normal EV slots: the clipped normals come back (min/max the 1st/99th percentile)', () => {
    const h = scenario.ev!.habits as unknown as Record<string, Normal>;
    for (const key of ['departureSlot', 'arrivalSlot'] as const) {
      const f = fitted.ev.habits[key];
      // 3 standard errors of a mean over the kept sessions (arrival's sd 9.6 over ~5,500: 0.39 slot).
      const tol = (3 * h[key].sd) / Math.sqrt(fit.summary.ev!.sessions);
      expect(Math.abs(f.mean - h[key].mean), key).toBeLessThan(tol);
      expect(Math.abs(f.sd - h[key].sd), key).toBeLessThan(tol);
      // Clipping piles > 1 % of the draws at min and max: the percentiles are the limits themselves.
      expect([f.min, f.max], key).toEqual([h[key].min, h[key].max]);
    }
  });

  it('normal trip energy: kWh charged × efficiency gives the trip back', () => {
    const f = fitted.ev.habits.tripKwh;
    const t = scenario.ev!.habits.tripKwh as Normal;
    expect(Math.abs(f.mean - t.mean)).toBeLessThan(0.15);
    expect(Math.abs(f.sd - t.sd)).toBeLessThan(0.15);
    expect(Math.abs(f.min - t.min)).toBeLessThan(0.01);
    // Only 0.4 % of the draws pass 16 kWh, so the 99th percentile is the normal's: 8 + 3 × 2.326.
    expect(Math.abs(f.max - (t.mean + 2.326 * t.sd))).toBeLessThan(0.15);
  });

  it('trip probability per day type', () => {
    const h = scenario.ev!.habits;
    expect(Math.abs(fitted.ev.habits.weekdayTripProbability - h.weekdayTripProbability)).toBeLessThan(0.025);
    expect(Math.abs(fitted.ev.habits.weekendTripProbability - h.weekendTripProbability)).toBeLessThan(0.025);
  });
});
