import { describe, expect, it } from 'vitest';
import { scoreCommunityDay, type Community, type CommunityFlows } from '../../community/index.js';
import { drawDay, scoreDay, SLOTS } from '../../env/index.js';
import { tinyScenario } from '../helpers.js';

/**
 * A hand-solved community day. Two tiny homes (0.10 €/kWh, feed-in 0.05, no PV; F.O.2 weight 0.01
 * on x² at integer breakpoints; peak 0.5 €/kW; RSC worth 0.01 €, 1 per kWh self-consumed, 0.5 per
 * kWh exported, 10 per kW of peak reduction). Home a runs its 2 kW heater in slots 10 and 11; home b
 * is given an export of 1 kW in slot 10 (the scorer takes flows as they come). sdr market, feeder
 * 1.5 kW, community peak 0.1 €/kW.
 */
const tiny = tinyScenario();
const community: Community = {
  id: 'tiny-2',
  name: 'tiny-2',
  description: 'hand-solved',
  homes: [
    { id: 'a', scenario: tiny },
    { id: 'b', scenario: tiny },
  ],
  feederKw: 1.5,
  peakEurPerKwDay: 0.1,
  market: 'sdr',
  rscValueEur: 0.01,
  buyPriceKwh: tiny.priceKwh,
  sellPriceKwh: tiny.tariff.feedInEurPerKwh,
  origin: null,
};
const day = drawDay(tiny, 1);

function flows(): CommunityFlows {
  const z = () => new Float64Array(SLOTS);
  const impA = z();
  impA[10] = 2;
  impA[11] = 2;
  const expB = z();
  expB[10] = 1;
  return { importKw: [impA, z()], exportKw: [z(), expB], loadKw: [impA, z()], socKwh: [new Float64Array(SLOTS + 1), new Float64Array(SLOTS + 1)], seed: 5 };
}

describe('scoreCommunityDay', () => {
  it('the day as drawn: the heater is asked for (q = 1/24 kW) and the no-management peak is 2 kW', () => {
    expect(day.meanLoadKw).toBeCloseTo(1 / 24, 12);
    expect(day.referencePeakKw).toBe(2);
  });

  it('a hand-solved sdr day: payments, J_i, O, the feeder excess and the P2P volumes', () => {
    const s = scoreCommunityDay(community, [day, day], flows());
    const [a, b] = s.homes;
    // Slot 10: D = 2, S = 1, SDR = 0.5: P_sell = 0.1·0.05 / (0.05·0.5 + 0.05) = 1/15, P_buy = P_sell/2 + 0.1/2 = 1/12.
    // Slot 11: S = 0: both prices λb for the buyer (P_sell = λb at SDR = 0). Bills, € (Δt = 0.25 h):
    expect(a.cost).toBeCloseTo(((1 / 12) * 2 + 0.1 * 2) * 0.25, 12);
    expect(b.cost).toBeCloseTo(-(1 / 15) * 0.25, 12);
    expect(a.gridCost).toBeCloseTo(0.1, 12);
    expect(b.gridCost).toBeCloseTo(-0.0125, 12);
    // a: φ(−q) = q in 94 slots, φ(2 − q) = 3(2 − q) − 2 in two: F.O.2 = 0.01·(8 + 88/24); peak 2 = the reference: 0.5·2.
    expect(a.fo2Cost).toBeCloseTo(0.01 * (8 + 88 / 24), 12);
    expect(a.score).toBeCloseTo(a.cost + 0.01 * (8 + 88 / 24) + 1, 12);
    // b: F.O.2 = 0.01·96·q = 0.04; RSC energy (0 − 1)·1·0.25 + 0.5·1·0.25 = −0.125 RSC (+0.00125 €); peak 0: 20 RSC = −0.2 €.
    expect(b.rescoin).toBeCloseTo(-0.125 + 20, 12);
    expect(b.score).toBeCloseTo(b.cost + 0.04 + 0.00125 - 0.2, 12);
    // G = 1 kW in slot 10 and 2 kW in slot 11: O = 0.1·2; 0.5 kW over the 1.5 kW feeder for one slot.
    expect(s.feederPeakKw).toBe(2);
    expect(s.operatorCost).toBeCloseTo(0.2, 12);
    expect(s.feederExcessKwh).toBeCloseTo(0.125, 12);
    expect(s.score).toBeCloseTo(a.score + b.score + 0.2, 12);
    expect(s.score).toBeCloseTo(0.2 + 1.2083333333333333 - 0.17541666666666667, 12);
    // The seller's kWh all went to a peer; the buyer took half of its slot-10 import from one.
    expect(b.p2pSoldKwh).toBeCloseTo(0.25, 12);
    expect(a.p2pBoughtKwh).toBeCloseTo(0.25, 12);
    expect(s.seed).toBe(5);
    expect([a.id, b.id, a.violations]).toEqual(['a', 'b', 0]);
  });

  it('under none each J_i is env/score.ts scoreDay bit for bit, and the payments are the grid bill', () => {
    const f = flows();
    const s = scoreCommunityDay({ ...community, market: 'none' }, [day, day], f);
    s.homes.forEach((h, i) => {
      const alone = scoreDay(tiny, day, { importKw: f.importKw[i], exportKw: f.exportKw[i], loadKw: f.loadKw[i], socKwh: f.socKwh[i] });
      expect(h.score).toBe(alone.score);
      expect(h.cost).toBe(alone.cost);
      expect(h.gridCost).toBe(alone.cost);
      expect(h.p2pBoughtKwh + h.p2pSoldKwh).toBe(0);
    });
  });

  it('refuses flows of the wrong number of homes, naming the field', () => {
    const f = flows();
    expect(() => scoreCommunityDay(community, [day], f)).toThrow(/1 days for 2 homes/);
    expect(() => scoreCommunityDay(community, [day, day], { ...f, loadKw: [f.loadKw[0]] })).toThrow(/flows\.loadKw has 1 homes, expected 2/);
  });
});
