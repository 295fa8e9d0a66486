import { describe, expect, it } from 'vitest';
import { clearDays, communityKpis, feederSeries, gini, loadFactor, ramping, savings, selfConsumption, selfSufficiency, valueOfCooperation, windowPeak, windowSlots, type KpiDay } from '../../community/kpi.js';

const day = (f: (t: number) => number) => Float64Array.from({ length: 96 }, (_, t) => f(t));
const flat = (x: number) => day(() => x);

/** Home A: loads 2 kW, no PV, imports it all. Home B: 3 kW of PV, loads 2 kW, exports 1 kW. */
const twoHomes: KpiDay = {
  days: [{ pvKw: flat(0) }, { pvKw: flat(3) }],
  homes: [
    { importKw: flat(2), exportKw: flat(0), loadKw: flat(2) },
    { importKw: flat(0), exportKw: flat(1), loadKw: flat(2) },
  ],
};
const prices = (market: 'none' | 'bill-sharing' | 'mid-market' | 'sdr') => ({ market, buyPriceKwh: flat(0.2), sellPriceKwh: 0.05 });

describe('windows in hours', () => {
  it('converts hours to 15-minute slots and refuses other windows', () => {
    expect(windowSlots(24)).toBe(96);
    expect(windowSlots(6)).toBe(24); // CityLearn's 24-step "day" at 15 min
    expect(() => windowSlots(0.1)).toThrow(/multiple of 0.25 h, got 0.1/);
    expect(() => windowPeak(flat(1), 5)).toThrow(/must divide 24 h/);
    expect(() => windowPeak(new Float64Array(96 * 3), 48)).toThrow(/must divide 24 h/);
    expect(windowPeak(new Float64Array(96 * 2), 48)).toBe(0);
  });

  it('peak: the mean of the windows’ peaks', () => {
    const imp = day((t) => (t === 10 ? 4 : t === 50 ? 2 : 0));
    expect(windowPeak(imp, 24)).toBe(4);
    expect(windowPeak(imp, 12)).toBe(3); // (4 + 2) / 2
    expect(windowPeak(imp, 6)).toBe(1.5); // (4 + 0 + 2 + 0) / 4
  });

  it('load factor: mean ÷ peak per window, windows without import left out', () => {
    const imp = day((t) => (t === 0 ? 4 : t < 48 ? 2 : 0));
    expect(loadFactor(imp, 24)).toBeCloseTo((4 + 47 * 2) / 96 / 4, 15);
    expect(loadFactor(imp, 12)).toBeCloseTo((4 + 47 * 2) / 48 / 4, 15);
    expect(loadFactor(flat(3), 24)).toBe(1);
    expect(loadFactor(flat(0), 24)).toBeNaN();
  });

  it('ramping: positive and negative changes, not across windows', () => {
    const x = day((t) => [0, 1, 3, 2, 2, -1][t] ?? 0);
    // up: 0→1, 1→3, −1→0: 1 + 2 + 1; down: 3→2, 2→−1: 1 + 3.
    expect(ramping(x, 24)).toEqual({ up: 4, down: 4 });
    const jump = day((t) => (t < 48 ? 0 : 5));
    expect(ramping(jump, 24)).toEqual({ up: 5, down: 0 });
    expect(ramping(jump, 12)).toEqual({ up: 0, down: 0 }); // the jump falls between two windows
  });
});

describe('ratios, Gini and the value of cooperation', () => {
  it('self-sufficiency and self-consumption', () => {
    expect(selfSufficiency(24, 96)).toBe(0.75);
    expect(selfSufficiency(0, 0)).toBeNaN();
    expect(selfConsumption(18, 72)).toBe(0.75);
    expect(selfConsumption(0, 0)).toBeNaN();
  });

  it('Gini of hand-made savings', () => {
    expect(gini([1, 1, 1])).toBe(0);
    expect(gini([0, 0, 0])).toBe(0);
    expect(gini([0, 0, 0, 4])).toBe(0.75); // (n − 1) / n
    expect(gini([1, 2, 3])).toBeCloseTo(8 / 36, 15);
    expect(gini([3, 1, 2])).toBeCloseTo(8 / 36, 15);
    expect(() => gini([1, -2])).toThrow(/≥ 0, got -2 at 1/);
    expect(savings([1, 2], [1 + 1e-12, 1.5])).toEqual([0, 0.5]);
  });

  it('the value of cooperation is own optima together − J*', () => {
    expect(valueOfCooperation(5.5, 5)).toBe(0.5);
  });
});

describe('bills under each market (the same flows re-cleared)', () => {
  it('hand-cleared: one buyer of 2 kW and one seller of 1 kW all day', () => {
    const none = clearDays(prices('sdr'), [twoHomes], 'none');
    expect(none.billEur[0]).toBeCloseTo(0.2 * 2 * 24, 12);
    expect(none.billEur[1]).toBeCloseTo(-0.05 * 24, 12);
    expect(none.p2pBoughtKwh).toEqual([0, 0]);
    const bs = clearDays(prices('sdr'), [twoHomes], 'bill-sharing');
    expect(bs.billEur[0]).toBeCloseTo(0.125 * 2 * 24, 12); // (0.2·1 + 0.05·1) / 2
    expect(bs.p2pBoughtKwh[0]).toBeCloseTo(24, 12);
    expect(bs.gridBoughtKwh[0]).toBeCloseTo(24, 12);
    // SDR = 0.5: P_sell = 0.2·0.05 / (0.15·0.5 + 0.05) = 0.08, P_buy = 0.08·0.5 + 0.2·0.5 = 0.14.
    const sdr = clearDays(prices('sdr'), [twoHomes], 'sdr');
    expect(sdr.billEur[0]).toBeCloseTo(0.14 * 2 * 24, 12);
    expect(sdr.billEur[1]).toBeCloseTo(-0.08 * 24, 12);
    expect(sdr.billEur[0] + sdr.billEur[1]).toBeCloseTo(0.2 * 1 * 24, 12); // the grid's bill
  });

  it('every KPI of the two homes under sdr', () => {
    const k = communityKpis(prices('sdr'), [twoHomes]);
    const c = k.community;
    expect(feederSeries([twoHomes])).toEqual(flat(1));
    expect([c.peakKw, c.maxPeakKw, c.loadFactor, c.rampUpKw, c.rampDownKw]).toEqual([1, 1, 1, 0, 0]);
    expect(c.selfSufficiency).toBeCloseTo(1 - 24 / 96, 15);
    expect(c.selfConsumption).toBe(1);
    expect(c.p2pBoughtKwh).toBeCloseTo(24, 12);
    expect(c.p2pSoldKwh).toBeCloseTo(24, 12);
    expect(c.billEur.none).toBeCloseTo(9.6 - 1.2, 12);
    expect(c.billEur.sdr).toBeCloseTo(4.8, 12);
    // Savings: A 9.6 − 6.72 = 2.88, B −1.2 − (−1.92) = 0.72; Gini = 2·2.16 / (2·2·3.6) = 0.3.
    expect(k.homes[0].savingEur).toBeCloseTo(2.88, 12);
    expect(k.homes[1].savingEur).toBeCloseTo(0.72, 12);
    expect(c.savingEur).toBeCloseTo(3.6, 12);
    expect(c.giniSavings).toBeCloseTo(0.3, 12);
    const [a, b] = k.homes;
    expect(a.selfSufficiency).toBeCloseTo(0.5, 15); // half its 2 kW from the neighbour
    expect(a.selfConsumption).toBeNaN();
    expect(b.selfSufficiency).toBe(1);
    expect(b.selfConsumption).toBe(1); // its export all sold to the neighbour
    expect([a.peakKw, b.peakKw, b.rampUpKw]).toEqual([2, 0, 0]);
  });

  it('under none a home gets no help from its neighbours; per-day means over two days', () => {
    const k = communityKpis(prices('none'), [twoHomes, twoHomes]);
    expect(k.days).toBe(2);
    expect(k.homes[0].selfSufficiency).toBe(0);
    expect(k.homes[1].selfConsumption).toBeCloseTo(1 - 24 / 72, 15);
    expect(k.community.p2pBoughtKwh).toBe(0);
    expect(k.community.savingEur).toBe(0);
    expect(k.community.giniSavings).toBe(0);
    expect(k.community.billEur.none).toBeCloseTo(8.4, 12); // per day, not summed
    expect(k.community.selfSufficiency).toBeCloseTo(0.75, 15); // physical: the feeder nets
  });
});
