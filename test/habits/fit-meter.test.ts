import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawDay, loadScenario } from '../../env/index.js';
import { drawObservations } from '../../habits/check.js';
import { FitError, fitHabits, readScenarioJson } from '../../habits/fit.js';
import type { MeterDay } from '../../habits/observations.js';
import { companionPath, writeFitted } from '../../habits/write.js';

const base = readScenarioJson('paper-apartment');
const obs = drawObservations(loadScenario('paper-apartment'), 200, 9);
// 14 metered days: a 0.4 kW night, a 3 kW evening peak on the 3rd day, PV up to 2.4 kW at noon.
obs.meter = Array.from({ length: 14 }, (_, d): MeterDay => ({
  day: { date: `2021-03-${String(d + 1).padStart(2, '0')}`, dayType: ((d + 0) % 7) + 1 },
  loadKw: Array.from({ length: 24 }, (_, h) => (h >= 18 && h <= 21 ? (d === 2 ? 3 : 0.9) : 0.4)),
  pvKw: Array.from({ length: 24 }, (_, h) => Math.max(0, 2.4 - 0.4 * Math.abs(h - 12))),
}));

describe('fit with meter days', () => {
  it('writes the companion CSV and a scenario that loads, with the meter as base load and PV', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'habits-fit-')), 'my-home.json');
    const r = fitHabits(base, obs, { id: 'my-home', form: 'normal', baseRef: 'paper-apartment', companion: 'my-home.days.csv' });
    writeFitted(out, r.scenario, r.companionCsv);
    expect(readFileSync(companionPath(out), 'utf8').split('\n')[1]).toBe('2021-03-01,0,1,0.4,0');
    const s = loadScenario(out);
    expect(s.fixedLoads).toEqual([]);
    expect(s.baseDays).toHaveLength(14);
    expect(s.pvDays).toHaveLength(14);
    // Day 3's 3 kW + every appliance's peak (3.348 kW) = 6.348 kW > 6; with one 1.84 kW EV step 8.188 kW: 10 kW.
    expect(r.summary.contractKw).toBe(10);
    expect(s.grid.contractKw).toBe(10);
    expect(s.grid.source).toMatch(/smallest of 3, 4.5, 6, 10, 15, 20 kW/);
    // PV per kWp × the base's 3 kWp gives the metered kW back.
    expect(Math.max(...s.pvDays[0])).toBeCloseTo(2.4, 6);
    expect(drawDay(s, 1).baseKw.length).toBe(96);
    expect((s as unknown as { fit: { inputs: unknown[]; form: string } }).fit.form).toBe('normal');
  });

  it('an appliance the base does not have is an error listing the base ids', () => {
    const bad = { ...obs, runs: [...obs.runs, { ...obs.runs[0], appliance: 'sauna', at: { file: 'events.csv', line: 7 } }] };
    expect(() => fitHabits(base, bad, { id: 'x', form: 'normal', baseRef: 'paper-apartment' })).toThrow(FitError);
    expect(() => fitHabits(base, bad, { id: 'x', form: 'normal', baseRef: 'paper-apartment' })).toThrow(/"sauna" in the data \(first at events.csv:7\) is not in the base scenario paper-apartment; expected one of: dishwasher, washing-machine/);
  });
});
