import { mkdtempSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir, drawDay, habitMean, habitSupport, histogramQuantile, listScenarios, loadScenario, normalCdf, parseScenario, possibleWindow, ScenarioError, SLOTS } from '../../env/index.js';
import { rawScenario } from '../helpers.js';
import { contractFor } from '../../habits/fit-load.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-scenario-'));
const write = (dir: string, name: string, x: unknown) => writeFileSync(join(dir, name), JSON.stringify(x));

describe('habit distributions', () => {
  it('Φ matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it('a slot histogram draws whole slots by its inverse CDF, weekday and weekend apart', () => {
    const h = { start: 28, width: 1, weekday: [1, 0, 3], weekend: [0, 0, 0, 0, 2] };
    expect(histogramQuantile(h, false, 0.1, true)).toBe(28);
    expect(histogramQuantile(h, false, 0.25, true)).toBe(30); // the empty bin 29 is never drawn
    expect(histogramQuantile(h, false, 0.999, true)).toBe(30);
    expect(histogramQuantile(h, true, 0.5, true)).toBe(32);
    expect(habitSupport({ histogram: h }, true)).toEqual([28, 32]);
    expect(habitMean({ histogram: h }, false)).toBeCloseTo((28.5 + 3 * 30.5) / 4, 12);
  });

  it('a kWh histogram draws uniformly inside its bin', () => {
    const h = { start: 2, width: 2, weekday: [1, 1] };
    expect(histogramQuantile(h, false, 0.25, false)).toBeCloseTo(3, 12);
    expect(histogramQuantile(h, false, 0.75, false)).toBeCloseTo(5, 12);
  });
});

describe('empirical habits in a scenario', () => {
  const raw = rawScenario('paper-apartment');
  raw.appliances[0].habits = { weekdayProbability: 1, weekendProbability: 1, releaseSlot: { histogram: { start: 80, width: 1, weekday: [1, 0, 0, 1], weekend: [0, 1] } } };
  raw.ev!.habits.departureSlot = { histogram: { start: 26, width: 1, weekday: [1, 1], weekend: [0, 0, 0, 0, 0, 0, 1] } };
  raw.ev!.habits.tripKwh = { histogram: { start: 4, width: 2, weekday: [1] } };
  const s = parseScenario(raw, 'empirical');

  it('draws only what the histograms allow, by day type', () => {
    const releases = { weekday: new Set<number>(), weekend: new Set<number>() };
    const departures = { weekday: new Set<number>(), weekend: new Set<number>() };
    for (let n = 0; n < 400; n++) {
      const d = drawDay(s, n);
      const key = d.weekend ? 'weekend' : 'weekday';
      releases[key].add(d.requests[0]!.release);
      if (d.ev!.trip) {
        departures[key].add(d.ev!.departure);
        expect(d.ev!.tripKwh).toBeGreaterThanOrEqual(4);
        expect(d.ev!.tripKwh).toBeLessThan(6);
      }
    }
    expect([...releases.weekday].sort()).toEqual([80, 83]);
    expect([...releases.weekend]).toEqual([81]);
    expect([...departures.weekday].sort()).toEqual([26, 27]);
    expect([...departures.weekend]).toEqual([32]);
  });

  it('bounds the possible window by the histogram, for the known-only headroom', () => {
    expect(possibleWindow(s, 0)).toEqual([80, 83 + 8]);
  });

  it('refuses a slot histogram with a fractional width or outside the day', () => {
    const bad = rawScenario('paper-apartment');
    bad.ev!.habits.arrivalSlot = { histogram: { start: 90, width: 1.5, weekday: [1] } };
    expect(() => parseScenario(bad, 'bad.json')).toThrow(/ev\.habits\.arrivalSlot\.histogram.*integer start and width/);
    bad.ev!.habits.arrivalSlot = { histogram: { start: 94, width: 1, weekday: [0, 0, 1] } };
    expect(() => parseScenario(bad, 'bad.json')).toThrow(/slots 0\.\.95/);
  });

  it('keeps a day of normal habits bit-identical (same draws whatever the form elsewhere)', () => {
    const plain = loadScenario('paper-apartment');
    const a = drawDay(plain, 7);
    const b = drawDay(s, 7);
    expect(b.dayType).toBe(a.dayType);
    expect(b.requests.slice(1)).toEqual(a.requests.slice(1));
    expect(b.ev!.soc0Kwh).toBe(a.ev!.soc0Kwh);
  });
});

describe('extends', () => {
  it('merges objects key by key and replaces arrays and values', () => {
    const dir = tmp();
    write(dir, 'mine.json', { extends: 'paper-apartment', id: 'mine', grid: { contractKw: 7 }, fixedLoads: [] });
    const s = loadScenario(join(dir, 'mine.json'));
    const base = loadScenario('paper-apartment');
    expect(s.id).toBe('mine');
    expect(s.grid.contractKw).toBe(7);
    expect(s.grid.exportLimitKw).toBe(base.grid.exportLimitKw);
    expect(s.fixedLoads).toEqual([]);
    expect(s.appliances).toEqual(base.appliances);
    expect(Math.max(...s.fixedKw)).toBe(0);
  });

  it('replaces a habit distribution and a profile whole (a histogram over a normal stays a histogram)', () => {
    const dir = tmp();
    const histogram = { start: 28, width: 1, weekday: [1, 3] };
    const base = rawScenario('paper-apartment');
    write(dir, 'h.json', {
      extends: 'paper-apartment',
      id: 'h',
      ev: { habits: { ...base.ev!.habits, departureSlot: { histogram } } },
      pv: { profile: { csv: 'citylearn_2022/Building_2.csv', column: 'solar_generation', scale: 0.001 } },
    });
    const s = loadScenario(join(dir, 'h.json'));
    expect(s.ev!.habits.departureSlot).toEqual({ histogram });
    expect(s.pv.profile).toEqual({ csv: 'citylearn_2022/Building_2.csv', column: 'solar_generation', scale: 0.001, skipRows: 0 });
    expect(s.pvDays).toHaveLength(365);
    expect(s.ev!.habits.arrivalSlot).toEqual(base.ev!.habits.arrivalSlot);
  });

  it('extends a file by a path relative to itself, in a chain', () => {
    const dir = tmp();
    write(dir, 'a.json', { extends: 'paper-apartment', id: 'a', grid: { contractKw: 8 } });
    write(dir, 'b.json', { extends: './a.json', id: 'b', pv: { peakKw: 2 } });
    const s = loadScenario(join(dir, 'b.json'));
    expect([s.id, s.grid.contractKw, s.pv.peakKw]).toEqual(['b', 8, 2]);
  });

  it('names a missing base and refuses a cycle', () => {
    const dir = tmp();
    write(dir, 'x.json', { extends: 'no-such-home', id: 'x' });
    expect(() => loadScenario(join(dir, 'x.json'))).toThrow(/extends: got "no-such-home"/);
    write(dir, 'p.json', { extends: './q.json', id: 'p' });
    write(dir, 'q.json', { extends: './p.json', id: 'q' });
    expect(() => loadScenario(join(dir, 'p.json'))).toThrow(/extends itself/);
  });

  it('names a bad field of the merged result with the extending file', () => {
    const dir = tmp();
    write(dir, 'bad.json', { extends: 'paper-apartment', id: 'bad', grid: { contractKw: -2 } });
    expect(() => loadScenario(join(dir, 'bad.json'))).toThrow(/bad\.json: invalid scenario\n {2}grid\.contractKw: got -2/);
  });
});

describe('sources', () => {
  /** Every `source`-like field a built-in file must carry (the paper's numbers and ours). */
  const missingSources = (raw: Record<string, unknown>): string[] => {
    const need: [string, unknown][] = [['grid.source', (raw.grid as { source?: string }).source], ['tariff.source', (raw.tariff as { source?: string }).source]];
    const r = raw as ReturnType<typeof rawScenario>;
    need.push(['tariff.feedInSource', r.tariff.feedInSource], ['pv.source', r.pv.source], ['objective.source', r.objective.source], ['rescoin.source', r.rescoin.source]);
    r.appliances.forEach((a, i) => need.push([`appliances.${i}.cycleSource`, a.cycleSource]));
    r.fixedLoads.forEach((f, i) => need.push([`fixedLoads.${i}.source`, f.source]));
    if (r.ev) need.push(['ev.source', r.ev.source]);
    if (r.baseLoad) need.push(['baseLoad.source', r.baseLoad.source]);
    return need.filter(([, v]) => !(typeof v === 'string' && v.length > 10)).map(([k]) => k);
  };

  it('every built-in scenario names a source for every number', () => {
    for (const id of listScenarios()) {
      const s = loadScenario(id) as unknown as Record<string, unknown>;
      expect(missingSources(s), id).toEqual([]);
    }
  });

  it('a user scenario may leave every source out', () => {
    const raw = JSON.parse(JSON.stringify(rawScenario('paper-apartment'), (k, v) => (/source$/i.test(k) ? undefined : v))) as Record<string, unknown>;
    const s = parseScenario(raw, 'mine.json');
    expect(s.grid.source).toBeUndefined();
    expect(missingSources(s as unknown as Record<string, unknown>).length).toBeGreaterThan(5);
  });
});

describe('real base-load days', () => {
  const s = loadScenario('citylearn-b1');

  it('takes the load and the PV of the same date, from the CSV', () => {
    expect(s.baseDays).toHaveLength(364);
    expect(s.pvDays).toHaveLength(364);
    const rows = readFileSync(join(dataDir(), 'citylearn_2022', 'Building_1.csv'), 'utf8').trim().split('\n').slice(2);
    for (const seed of [1, 2, 3]) {
      const d = drawDay(s, seed);
      const hour = (h: number) => rows[d.pvDay * 24 + h].split(',');
      // Column 7 is non_shiftable_load, 11 solar_generation (W per kWp); hour 0 is held over slots 0..3.
      expect(d.baseKw[1]).toBeCloseTo(Number(hour(0)[7]), 9);
      expect(d.baseKw[SLOTS - 1]).toBeCloseTo(Number(hour(23)[7]), 9);
      expect(d.pvKw[50]).toBeCloseTo((Number(hour(12)[11]) / 1000) * s.pv.peakKw, 9);
      expect(d.dayType).toBe(Number(hour(0)[2]));
    }
    expect(drawDay(s, 1).baseKw).not.toEqual(drawDay(s, 2).baseKw);
  });

  it('the nine homes follow the contract rule that habits fit uses (contractFor), written in grid.source', () => {
    for (let b = 1; b <= 9; b++) {
      const h = loadScenario(`citylearn-b${b}`);
      expect(h.grid.contractKw, h.id).toBe(contractFor(Math.max(...h.baseMaxKw), Array.from(h.applianceMaxKw), h.ev!.chargeStepKw));
      expect(h.grid.source).toContain('the smallest Italian residential contract size (3, 4.5, 6, 10, 15, 20 kW)');
      expect(h.grid.exportLimitKw).toBe(h.pv.peakKw);
    }
  });

  it('sizes the contract for the highest base load of any day', () => {
    const worst = Math.max(...s.baseMaxKw) + s.applianceMaxKw.reduce((a, b) => a + b, 0);
    expect(worst).toBeLessThanOrEqual(s.grid.contractKw);
    const raw = JSON.parse(readFileSync(join(dataDir(), 'scenarios', 'citylearn-b1.json'), 'utf8')) as Record<string, unknown>;
    (raw.grid as { contractKw: number }).contractKw = 10;
    expect(() => parseScenario(raw, 'b1.json', { dirs: [join(dataDir(), 'scenarios')] })).toThrow(/base load at its highest/);
  });

  it('finds a CSV next to the scenario file before data/, and names the places it looked', () => {
    const dir = tmp();
    copyFileSync(join(dataDir(), 'citylearn_2022', 'Building_2.csv'), join(dir, 'mine.csv'));
    write(dir, 'home.json', { extends: 'citylearn-b1', id: 'home', baseLoad: { profile: { csv: 'mine.csv', column: 'non_shiftable_load', scale: 1, skipRows: 1 } } });
    const b2 = loadScenario('citylearn-b2');
    expect(loadScenario(join(dir, 'home.json')).baseDays[10]).toEqual(b2.baseDays[10]);
    write(dir, 'lost.json', { extends: 'citylearn-b1', id: 'lost', baseLoad: { profile: { csv: 'gone.csv', column: 'x', scale: 1 } } });
    expect(() => loadScenario(join(dir, 'lost.json'))).toThrow(/baseLoad\.profile\.csv: got "gone\.csv"; no such file \(looked in/);
  });

  it('names the line and column of a bad value', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'load.csv'), ['load', ...Array.from({ length: 30 }, (_, k) => (k === 5 ? 'x' : '1'))].join('\n'));
    write(dir, 'home.json', { extends: 'paper-apartment', id: 'home', baseLoad: { profile: { csv: 'load.csv', column: 'load', scale: 1 } } });
    expect(() => loadScenario(join(dir, 'home.json'))).toThrow(/load\.csv:7: column load: got "x"/);
  });

  it('refuses load and PV of different lengths', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'load.csv'), ['load', ...Array.from({ length: 48 }, () => '1')].join('\n'));
    write(dir, 'home.json', { extends: 'paper-apartment', id: 'home', baseLoad: { profile: { csv: 'load.csv', column: 'load', scale: 1 } } });
    expect(() => loadScenario(join(dir, 'home.json'))).toThrow(/got 2 days, but pv\.profile has 364/);
  });

  it('a ScenarioError for a bad extends value', () => {
    expect(() => parseScenario({ extends: 3 }, 'x')).toThrow(ScenarioError);
  });
});
