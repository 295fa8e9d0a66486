import { DT, pwlSquare, slotRescoin, SLOTS, type Day, type Scenario } from '../env/index.js';
import type { Community } from './community.js';
import { FEEDER_TOL, finishCommunity, finishHome, type CommunityDaySummary } from './score.js';

/**
 * # The day's summary from running sums (CommunityCore's fast path)
 *
 * scoreCommunityDay (community/score.ts) clears every slot of the day again and re-scores every
 * home at the day's end; the core has already cleared each slot and computed each slot's terms to
 * pay the rewards. This keeps, per home, the sums scoreCommunityDay takes, added in the same slot
 * order with the same operations, so the summary is the same bit for bit (test/community/
 * day-sums.test.ts checks it against scoreCommunityDay). scoreCommunityDay stays the definition.
 */
export class DaySums {
  readonly slotTerms: Float64Array;
  readonly bill: Float64Array;
  readonly gridCost: Float64Array;
  readonly bought: Float64Array;
  readonly sold: Float64Array;
  readonly importKwh: Float64Array;
  readonly exportKwh: Float64Array;
  readonly fo2: Float64Array;
  readonly rscEnergy: Float64Array;
  readonly peakKw: Float64Array;
  feederPeakKw = -Infinity;
  feederExcessKwh = 0;
  /** Slots added since reset(). */
  slots = 0;

  constructor(readonly n: number) {
    const f = () => new Float64Array(n);
    this.slotTerms = f();
    this.bill = f();
    this.gridCost = f();
    this.bought = f();
    this.sold = f();
    this.importKwh = f();
    this.exportKwh = f();
    this.fo2 = f();
    this.rscEnergy = f();
    this.peakKw = f();
  }

  reset(): void {
    for (const a of [this.slotTerms, this.bill, this.gridCost, this.bought, this.sold, this.importKwh, this.exportKwh, this.fo2, this.rscEnergy, this.peakKw]) a.fill(0);
    this.feederPeakKw = -Infinity;
    this.feederExcessKwh = 0;
    this.slots = 0;
  }

  /**
   * Home i's slot t (payment € of the slot, flows kW, its P2P kW from the clearing): adds it to the
   * sums and returns marketSlotTerm (score.ts) of the slot, computed with the same operations.
   */
  addHome(i: number, s: Scenario, day: Day, t: number, paymentEur: number, importKw: number, exportKw: number, loadKw: number, boughtKw: number, soldKw: number): number {
    const fo2 = s.objective.fo2Weight * pwlSquare(loadKw - day.meanLoadKw, s.objective.fo2BreakpointsKw);
    const rsc = slotRescoin(s, day.pvKw[t], exportKw);
    const term = paymentEur + fo2 - s.rescoin.valueEur * rsc;
    this.slotTerms[i] += term;
    this.bill[i] += paymentEur;
    this.gridCost[i] += (s.priceKwh[t] * importKw - s.tariff.feedInEurPerKwh * exportKw) * DT;
    this.bought[i] += boughtKw * DT;
    this.sold[i] += soldKw * DT;
    this.importKwh[i] += importKw * DT;
    this.exportKwh[i] += exportKw * DT;
    this.fo2[i] += fo2;
    this.rscEnergy[i] += rsc;
    if (importKw > this.peakKw[i]) this.peakKw[i] = importKw;
    return term;
  }

  /** The feeder flow G of the slot (after every home of it). */
  addFeeder(c: Community, g: number): void {
    if (g > this.feederPeakKw) this.feederPeakKw = g;
    if (g > c.feederKw + FEEDER_TOL) this.feederExcessKwh += (g - c.feederKw) * DT;
    this.slots++;
  }

  /** The summary of the whole day (every slot added); endSocKwh(i) is read for homes with an EV. */
  summary(c: Community, days: readonly Day[], endSocKwh: (i: number) => number, violations: (i: number) => number, seed: number): CommunityDaySummary {
    if (this.slots !== SLOTS) throw new Error(`DaySums.summary: ${this.slots} of ${SLOTS} slots added; the summary is of a whole day`);
    const homes = c.homes.map((h, i) =>
      finishHome(h.id, h.scenario, days[i], {
        slotTerms: this.slotTerms[i],
        bill: this.bill[i],
        gridCost: this.gridCost[i],
        bought: this.bought[i],
        sold: this.sold[i],
        importKwh: this.importKwh[i],
        exportKwh: this.exportKwh[i],
        fo2: this.fo2[i],
        rscEnergy: this.rscEnergy[i],
        peakKw: this.peakKw[i],
        endSocKwh: h.scenario.ev && days[i].ev ? endSocKwh(i) : NaN,
        violations: violations(i),
      }),
    );
    return finishCommunity(c, homes, this.feederPeakKw, this.feederExcessKwh, seed);
  }
}
