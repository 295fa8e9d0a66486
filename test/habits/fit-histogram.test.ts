import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../env/index.js';
import { drawObservations } from '../../habits/check.js';
import { fitHabits, readScenarioJson } from '../../habits/fit.js';
import type { HistogramJson } from '../../habits/fit-ev.js';

/**
 * Recovery of the empirical forms: paper-apartment with histogram habits (a bimodal departure,
 * weekday and weekend apart), 10,000 days drawn, fitted back with --form empirical. Tolerance: each
 * bin's share within 0.025 (a share of ~1,500 weekend draws has sd ≤ 0.013; 0.025 is ≈ 2 sd at the
 * worst bin and far more at most).
 */
type Raw = { appliances: { id: string; habits: Record<string, unknown> }[]; ev: { habits: Record<string, unknown> } };
const raw = readScenarioJson('paper-apartment') as unknown as Raw;
const release = { histogram: { start: 80, width: 1, weekday: [1, 2, 4, 2, 1], weekend: [0, 1, 1, 3, 1] } };
raw.appliances[0].habits = { weekdayProbability: 0.6, weekendProbability: 0.8, releaseSlot: release };
// A commute at 07:00–07:30 and a later group at 09:00 on weekdays; weekends mostly late.
const departure = { histogram: { start: 26, width: 1, weekday: [2, 4, 3, 0, 0, 0, 0, 0, 0, 0, 2, 1], weekend: [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3] } };
const arrival = { histogram: { start: 68, width: 1, weekday: [1, 1, 2, 3, 3, 2, 1, 1], weekend: [3, 2, 1, 1, 1, 1, 1, 1] } };
const tripKwh = { histogram: { start: 2, width: 1, weekday: [1, 2, 3, 3, 2, 1], weekend: [1, 1, 1, 1, 1, 1, 2, 2, 1] } };
Object.assign(raw.ev.habits, { departureSlot: departure, arrivalSlot: arrival, tripKwh });
const scenario = parseScenario(raw, 'histogram home');
const obs = drawObservations(scenario, 10_000, 5);
const fit = fitHabits(readScenarioJson('paper-apartment'), obs, { id: 'recovered', form: 'empirical', baseRef: 'paper-apartment' });
const fitted = fit.scenario as unknown as Raw;

/** Largest gap between two histograms' shares, bin by bin on the absolute axis. */
function maxGap(a: HistogramJson, b: HistogramJson, day: 'weekday' | 'weekend'): number {
  const shares = (h: HistogramJson) => {
    const w = h.histogram[day] ?? h.histogram.weekday;
    const total = w.reduce((x, y) => x + y, 0);
    return new Map(w.map((x, k) => [h.histogram.start + k * h.histogram.width, x / total]));
  };
  const [p, q] = [shares(a), shares(b)];
  return Math.max(...[...new Set([...p.keys(), ...q.keys()])].map((k) => Math.abs((p.get(k) ?? 0) - (q.get(k) ?? 0))));
}

describe('fitting 10,000 drawn days recovers histogram habits (empirical form)', () => {
  it('histogram release, weekday and weekend', () => {
    const f = fitted.appliances[0].habits.releaseSlot as HistogramJson;
    expect(f.histogram.width).toBe(1);
    for (const day of ['weekday', 'weekend'] as const) expect(maxGap(f, release, day), day).toBeLessThan(0.025);
  });

  it('histogram EV slots: the bimodal departure and the arrival', () => {
    for (const [key, truth] of [['departureSlot', departure], ['arrivalSlot', arrival]] as const)
      for (const day of ['weekday', 'weekend'] as const) expect(maxGap(fitted.ev.habits[key] as HistogramJson, truth, day), `${key} ${day}`).toBeLessThan(0.025);
  });

  it('histogram trip energy in 1-kWh bins', () => {
    const f = fitted.ev.habits.tripKwh as HistogramJson;
    expect(f.histogram.start).toBe(2);
    for (const day of ['weekday', 'weekend'] as const) expect(maxGap(f, tripKwh, day), day).toBeLessThan(0.025);
  });

  it('the fitted scenario parses and draws', () => {
    const merged = { ...readScenarioJson('paper-apartment'), ...fitted, ev: { ...raw.ev, habits: { ...raw.ev.habits, ...fitted.ev.habits } } };
    delete (merged as { extends?: string }).extends;
    expect(() => parseScenario(merged, 'fitted')).not.toThrow();
  });
});
