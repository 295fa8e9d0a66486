import { describe, expect, it } from 'vitest';
import { contractSizingW, listScenarios, loadScenario, parseScenario, ScenarioError, SLOTS } from '../../env/index.js';
import { rawScenario } from '../helpers.js';

describe('paper-apartment scenario', () => {
  const s = loadScenario('paper-apartment');

  it('reproduces Table I: eq. (2) sums to 5891.3 W', () => {
    expect(s.tableI).toBeDefined();
    const total = contractSizingW(s.tableI!.rows);
    expect(total).toBeCloseTo(5891.325, 9);
    expect(Math.round(total * 10) / 10).toBe(5891.3);
    expect(s.tableI!.totalW).toBeCloseTo(total, 9);
    expect(s.tableI!.rows).toHaveLength(22);
    // The LED row that the paper prints inconsistently: 10 lamps × 0.3 × 0.7 × 20 W = 42 W.
    const led = s.tableI!.rows.find((r) => r.device.startsWith('Dimmable spotlights') && r.nominalW === 20)!;
    expect(led.n * led.kc * led.ku * led.nominalW).toBeCloseTo(42, 9);
  });

  it('has the paper tariff, contract and PV', () => {
    expect(s.grid.contractKw).toBe(6);
    expect(s.pv.peakKw).toBe(3);
    expect(s.priceKwh[0]).toBe(0.06465);
    expect(s.priceKwh[31]).toBe(0.06465);
    expect(s.priceKwh[32]).toBe(0.07032);
    expect(s.priceKwh[75]).toBe(0.07032);
    expect(s.priceKwh[76]).toBe(0.06465);
    expect(s.priceKwh[95]).toBe(0.06465);
  });

  it('has the Table III appliances and windows (zero-based slots)', () => {
    const windows = Object.fromEntries(s.appliances.map((a) => [a.id, a.window]));
    expect(windows).toEqual({
      dishwasher: [84, 92],
      'washing-machine': [80, 84],
      'tv-stage-1': [48, 52],
      'tv-stage-2': [76, 84],
      laptop: [60, 76],
      'led-lighting': [72, 95],
    });
    expect(s.appliances.find((a) => a.id === 'dishwasher')!.cycleKw).toHaveLength(8);
    expect(s.fixedKw).toHaveLength(SLOTS);
    // A year of real PV days, never above the 3 kW export limit.
    expect(s.pvDays.length).toBe(364);
    expect(Math.max(...s.pvDays.map((d) => Math.max(...d)))).toBeLessThanOrEqual(3);
  });

  it('names a source for every number the paper does not give', () => {
    for (const a of s.appliances) expect(a.cycleSource!.length).toBeGreaterThan(20);
    expect(s.tariff.feedInSource).toMatch(/PUN/);
    expect(s.ev?.source).toMatch(/Sørensen/);
    expect(s.objective.source!.length).toBeGreaterThan(20);
    expect(s.rescoin.source!.length).toBeGreaterThan(20);
  });
});

describe('scenario validation', () => {
  const bad = (mutate: (raw: ReturnType<typeof rawScenario>) => void): string => {
    const raw = rawScenario('paper-apartment');
    mutate(raw);
    try {
      parseScenario(raw, 'bad.json');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      return (e as Error).message;
    }
    throw new Error('expected the scenario to be refused');
  };

  it('names the field, the value and what was expected', () => {
    const msg = bad((r) => (r.grid.contractKw = -1));
    expect(msg).toContain('bad.json');
    expect(msg).toContain('grid.contractKw');
    expect(msg).toContain('got -1');
    expect(msg).toMatch(/>0|greater than 0/i);
  });

  it('reports a missing field', () => {
    const msg = bad((r) => delete (r as { tariff?: unknown }).tariff);
    expect(msg).toContain('tariff');
    expect(msg).toContain('missing');
  });

  it('refuses a window shorter than the cycle', () => {
    const msg = bad((r) => (r.appliances[0].window = [84, 86]));
    expect(msg).toContain('appliances.0.window');
    expect(msg).toContain('shorter than the 8-slot cycle');
  });

  it('refuses a contract the appliances alone exceed', () => {
    const msg = bad((r) => (r.grid.contractKw = 3));
    expect(msg).toContain('grid.contractKw');
    expect(msg).toContain('must fit under the contract');
  });

  it('refuses PV above the export limit (no curtailment)', () => {
    const msg = bad((r) => (r.pv.peakKw = 5));
    expect(msg).toContain('pv.peakKw');
  });

  it('refuses a feed-in price that would make importing to export pay', () => {
    const msg = bad((r) => (r.tariff.feedInEurPerKwh = 0.07));
    expect(msg).toContain('tariff.feedInEurPerKwh');
  });

  it('refuses tariff bands that leave a slot out', () => {
    const msg = bad((r) => (r.tariff.bands[0].slots = [[0, 30], [76, 95]]));
    expect(msg).toContain('slot 31');
  });

  it('names the valid scenarios for an unknown id', () => {
    expect(() => loadScenario('no-such-home')).toThrow(/paper-apartment/);
  });

  it('loads every shipped scenario', () => {
    const ids = listScenarios();
    expect(ids).toContain('paper-apartment');
    for (const id of ids) expect(loadScenario(id).id).toBe(id);
  });
});
