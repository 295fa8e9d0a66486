import { DT, HomeCore, peakTerm, evShortfallTerm, SLOTS, type Day } from '../env/index.js';
import { checkCaps, flexShareCaps, type CapPolicy } from './caps.js';
import type { Community } from './community.js';
import { clearSlot, newClearing, type Clearing } from './market.js';
import { DaySums } from './day-sums.js';
import { operatorTerm, scoreCommunityDay, type CommunityDaySummary } from './score.js';

/**
 * # One community day on typed arrays (the env's and the vector form's core)
 *
 * One HomeCore per home (the very controller a gateway runs), and per slot t:
 * 1. `applyHome(i, action, offset)` for every home: the home's controller plays its action under
 *    this slot's cap (fallbacks counted);
 * 2. `settle()`: the slot is cleared (clearSlot of the nets), each home is paid its reward (−slot t's
 *    part of J_i: the market payment in place of slotCost, community/score.ts) and the operator
 *    −(the increase of O); then every home reads slot t + 1, the feeder caps are set (`capNet`) and
 *    the observations and masks are written.
 *
 * Feeder caps (docs/community.md, "Environment"): F_i = base + forced appliances + evMin − PV, with
 * evMin the lowest allowed EV level ≥ 0 (a floor may force a charge; a discharge is never forced);
 * H = feederKw − Σ F_i. H < 0: cap_i = F_i and −H is reported as the slot's forced excess. Else the
 * operator's CapPolicy (community/caps.ts; the option `caps`) shares H, its caps checked against the
 * contract there; the default, flexShareCaps, gives cap_i = F_i + H·flex_i/Σ flex, flex_i = optional
 * appliance kW + (highest allowed EV level − evMin), equal shares when no home has flex. A cap at or
 * above the contract leaves the home uncapped.
 *
 * Observation of home i at obsOffsets[i]: its single-home features (runtime/features.ts), then the
 * 4 community features (COMMUNITY_FEATURES). Masks at maskOffsets[i]. Nothing is allocated per slot.
 */

export const COMMUNITY_FEATURES = [
  { name: 'community.buy_price', unit: '€/kWh', scaling: "last slot's buyers' clearing price ÷ highest band price (slot 0: λb of slot 0)" },
  { name: 'community.sell_price', unit: '€/kWh', scaling: "last slot's sellers' clearing price ÷ highest band price (slot 0: λs)" },
  { name: 'community.net', unit: 'kW', scaling: "last slot's feeder flow G ÷ feederKw, clipped to [−1, 1] (slot 0: 0)" },
  { name: 'community.headroom', unit: 'kW', scaling: "this slot's headroom H ÷ feederKw, clipped to [0, 1] (after the day: 0)" },
] as const;

export interface CommunityCoreOptions {
  /** The operator's headroom allocation (default flexShareCaps: the flexibility shares). */
  caps?: CapPolicy;
}

export class CommunityCore {
  readonly c: Community;
  readonly n: number;
  readonly homes: HomeCore[];
  /** Per home: its single-home observation size, and with the 4 community features. */
  readonly homeObsSize: Int32Array;
  readonly obsSize: Int32Array;
  readonly obsOffsets: Int32Array;
  readonly maskOffsets: Int32Array;
  readonly actOffsets: Int32Array;
  readonly observations: Float32Array;
  readonly masks: Uint8Array;
  /** Per home: the reward and the fallbacks of the last slot. */
  readonly rewards: Float64Array;
  readonly violations: Int32Array;
  operatorReward = 0;
  /** The slot the next actions play; 96 once the day is over. */
  slot = 0;
  done = true;
  days: Day[] = [];
  /** This slot's nets while applying, then the last slot's; its clearing. */
  readonly netKw: Float64Array;
  readonly clearing: Clearing;
  /** The last clearing's prices (slot 0: the grid's), €/kWh. */
  buyPrice = 0;
  sellPrice = 0;
  /** The last slot's feeder flow G, kW (0 at slot 0). */
  flowKw = 0;
  /** This slot's headroom H and forced excess max(0, −H), kW. */
  headroomKw = 0;
  excessKw = 0;
  /** max_t G_t so far (−Infinity before the first slot), kW. */
  feederPeakKw = -Infinity;
  readonly capKw: Float64Array;
  readonly forcedNetKw: Float64Array;
  readonly flexKw: Float64Array;
  /** The day's flows ([i * 96 + t]; socKwh [i * 97 + t]), for the summary. */
  readonly importKw: Float64Array;
  readonly exportKw: Float64Array;
  readonly loadKw: Float64Array;
  readonly socKwh: Float64Array;
  private readonly prevPeak: Float64Array;
  private readonly appliedThisSlot: Uint8Array;
  private nApplied = 0;
  private readonly maxPrice: number;
  /** The day's running sums, for the summary (community/day-sums.ts). */
  private readonly sums: DaySums;
  private readonly flowViews: { importKw: Float64Array[]; exportKw: Float64Array[]; loadKw: Float64Array[]; socKwh: Float64Array[] };
  private readonly capPolicy: CapPolicy;
  private readonly ids: string[];

  constructor(c: Community, opts: CommunityCoreOptions = {}) {
    this.c = c;
    this.capPolicy = opts.caps ?? flexShareCaps;
    this.ids = c.homes.map((h) => h.id);
    const n = c.homes.length;
    this.n = n;
    this.homes = c.homes.map((h) => new HomeCore(h.scenario));
    this.homeObsSize = Int32Array.from(this.homes, (h) => h.obsSize);
    this.obsSize = Int32Array.from(this.homes, (h) => h.obsSize + COMMUNITY_FEATURES.length);
    this.obsOffsets = prefix(this.obsSize);
    this.maskOffsets = prefix(Int32Array.from(this.homes, (h) => h.maskSize));
    this.actOffsets = prefix(Int32Array.from(this.homes, (h) => h.nComponents));
    this.observations = new Float32Array(this.obsOffsets[n]);
    this.masks = new Uint8Array(this.maskOffsets[n]);
    this.rewards = new Float64Array(n);
    this.violations = new Int32Array(n);
    this.netKw = new Float64Array(n);
    this.clearing = newClearing(n);
    this.capKw = new Float64Array(n);
    this.forcedNetKw = new Float64Array(n);
    this.flexKw = new Float64Array(n);
    this.importKw = new Float64Array(n * SLOTS);
    this.exportKw = new Float64Array(n * SLOTS);
    this.loadKw = new Float64Array(n * SLOTS);
    this.socKwh = new Float64Array(n * (SLOTS + 1));
    this.prevPeak = new Float64Array(n);
    this.appliedThisSlot = new Uint8Array(n);
    let maxPrice = 1e-12;
    for (let t = 0; t < SLOTS; t++) if (c.buyPriceKwh[t] > maxPrice) maxPrice = c.buyPriceKwh[t];
    this.maxPrice = maxPrice;
    const rows = (a: Float64Array, len: number) => Array.from({ length: n }, (_, i) => a.subarray(i * len, (i + 1) * len));
    this.sums = new DaySums(n);
    this.flowViews = { importKw: rows(this.importKw, SLOTS), exportKw: rows(this.exportKw, SLOTS), loadKw: rows(this.loadKw, SLOTS), socKwh: rows(this.socKwh, SLOTS + 1) };
  }

  /** The Box bounds of the 4 community features (low, high). */
  featureBounds(): { low: number[]; high: number[] } {
    const lo = Math.min(0, this.c.sellPriceKwh / this.maxPrice);
    return { low: [lo, lo, -1, 0], high: [1, 1, 1, 1] };
  }

  /** Start the day: home i plays days[i] (drawCommunityDay); slot 0's caps, observations and masks. */
  begin(days: readonly Day[]): void {
    if (days.length !== this.n) throw new Error(`CommunityCore.begin: ${days.length} days for ${this.n} homes; expected one Day per home (drawCommunityDay)`);
    this.days = days.slice();
    for (let i = 0; i < this.n; i++) {
      const h = this.homes[i];
      h.begin(days[i]);
      this.socKwh[i * (SLOTS + 1)] = h.ev ? h.ev.socKwh : NaN;
    }
    this.slot = 0;
    this.done = false;
    this.buyPrice = this.c.buyPriceKwh[0];
    this.sellPrice = this.c.sellPriceKwh;
    this.flowKw = 0;
    this.feederPeakKw = -Infinity;
    this.operatorReward = 0;
    this.rewards.fill(0);
    this.sums.reset();
    this.violations.fill(0);
    this.appliedThisSlot.fill(0);
    this.nApplied = 0;
    this.setCaps();
    this.publish();
  }

  /** Home i plays its action (`action[offset + c]`, component c) of this slot under its cap. */
  applyHome(i: number, action: ArrayLike<number>, offset = 0): void {
    if (this.done) throw new Error('CommunityCore: the day has ended; begin() starts the next (the env: call reset())');
    if (this.appliedThisSlot[i] === 1) throw new Error(`CommunityCore.applyHome: home ${i} (${this.c.homes[i].id}) already played slot ${this.slot}`);
    const h = this.homes[i];
    this.prevPeak[i] = h.peakKw;
    const a = h.apply(action, offset);
    h.violations += a.violations;
    this.violations[i] = a.violations;
    this.netKw[i] = a.importKw - a.exportKw;
    const k = i * SLOTS + this.slot;
    this.importKw[k] = a.importKw;
    this.exportKw[k] = a.exportKw;
    this.loadKw[k] = a.loadKw;
    this.appliedThisSlot[i] = 1;
    this.nApplied++;
  }

  /** Every home played: clear the slot, pay the rewards, move to the next slot (see the class comment). */
  settle(): void {
    if (this.nApplied !== this.n) throw new Error(`CommunityCore.settle: ${this.nApplied} of ${this.n} homes played slot ${this.slot}; every home plays each slot`);
    const t = this.slot;
    const c = this.c;
    const cl = clearSlot(c.market, this.netKw, c.buyPriceKwh[t], c.sellPriceKwh, this.clearing);
    let g = 0;
    for (let i = 0; i < this.n; i++) {
      g += this.netKw[i];
      this.rewards[i] = this.homeReward(i, t, cl.paymentEurPerH[i] * DT);
    }
    const prevPeak = this.feederPeakKw;
    if (g > this.feederPeakKw) this.feederPeakKw = g;
    this.sums.addFeeder(c, g);
    this.operatorReward = t === 0 ? -operatorTerm(c, this.feederPeakKw) : this.feederPeakKw !== prevPeak ? -(operatorTerm(c, this.feederPeakKw) - operatorTerm(c, prevPeak)) : 0;
    this.buyPrice = cl.buyPrice;
    this.sellPrice = cl.sellPrice;
    this.flowKw = g;
    this.slot = t + 1;
    this.done = this.slot >= SLOTS;
    this.appliedThisSlot.fill(0);
    this.nApplied = 0;
    for (let i = 0; i < this.n; i++) {
      const h = this.homes[i];
      h.sense();
      // After the reading, as HomeEnv logs it (the SoC the car comes back with).
      this.socKwh[i * (SLOTS + 1) + this.slot] = h.ev ? h.ev.socKwh : NaN;
    }
    if (this.done) {
      this.headroomKw = 0;
      this.excessKw = 0;
    } else this.setCaps();
    this.publish();
  }

  /** Home i's reward for slot t: −(slot t's part of J_i), as HomeCore.step with the market payment. */
  private homeReward(i: number, t: number, paymentEur: number): number {
    const h = this.homes[i];
    const s = h.s;
    const k = i * SLOTS + t;
    const cl = this.clearing;
    let r = -this.sums.addHome(i, s, h.day, t, paymentEur, this.importKw[k], this.exportKw[k], this.loadKw[k], cl.boughtP2pKw[i], cl.soldP2pKw[i]);
    const prev = this.prevPeak[i];
    if (t === 0) r -= peakTerm(s, h.day, h.peakKw);
    else if (h.peakKw !== prev) r -= peakTerm(s, h.day, h.peakKw) - peakTerm(s, h.day, prev);
    if (t === SLOTS - 1 && h.ev) r -= evShortfallTerm(s, h.day, h.ev.socKwh);
    h.returnSum += r;
    if (t === SLOTS - 1) h.done = true;
    return r;
  }

  /** The feeder caps of the current slot, after every home has read it. */
  private setCaps(): void {
    let sumF = 0;
    for (let i = 0; i < this.n; i++) {
      const h = this.homes[i];
      let evMin = 0;
      let evMax = 0;
      if (h.ev) {
        const off = h.maskOffsets[h.nApp];
        const levels = h.ev.levelsKw;
        evMin = Infinity;
        for (let k = 0; k < levels.length; k++) {
          if (h.mask[off + k] === 0 || levels[k] < 0) continue;
          if (levels[k] < evMin) evMin = levels[k];
          if (levels[k] > evMax) evMax = levels[k];
        }
        if (evMin === Infinity) evMin = 0;
      }
      const f = h.baseKw + h.forcedKw + evMin - h.pvKw;
      const flex = h.optionalMaxKw - h.forcedKw + (evMax - evMin);
      this.forcedNetKw[i] = f;
      this.flexKw[i] = flex;
      sumF += f;
    }
    const H = this.c.feederKw - sumF;
    this.headroomKw = H;
    this.excessKw = H < 0 ? -H : 0;
    if (H < 0) this.capKw.set(this.forcedNetKw);
    else {
      this.capPolicy(this.slot, this.forcedNetKw, this.flexKw, this.c.feederKw, this.capKw);
      checkCaps(this.slot, this.forcedNetKw, this.c.feederKw, this.capKw, this.ids);
    }
    for (let i = 0; i < this.n; i++) {
      const cap = this.capKw[i];
      const h = this.homes[i];
      // At or above the contract the cap changes nothing: the home stays exactly as it is alone. At or
      // above the most the home can draw now (F + flex) it masks nothing: only the limit is set, the
      // mask capNet would recompute is the one the home has.
      if (cap < h.contractKw) {
        if (cap < this.forcedNetKw[i] + this.flexKw[i]) h.capNet(cap);
        else h.limitKw = cap;
      }
    }
  }

  /** Write every home's observation (its features, then the community's) and mask. */
  private publish(): void {
    const fb = this.buyPrice / this.maxPrice;
    const fs = this.sellPrice / this.maxPrice;
    const fk = this.c.feederKw;
    const fn = clip(this.flowKw / fk, -1, 1);
    const fh = clip(this.headroomKw / fk, 0, 1);
    for (let i = 0; i < this.n; i++) {
      const h = this.homes[i];
      const o = this.obsOffsets[i];
      h.writeObservation(this.observations, o);
      const p = o + this.homeObsSize[i];
      this.observations[p] = fb;
      this.observations[p + 1] = fs;
      this.observations[p + 2] = fn;
      this.observations[p + 3] = fh;
      // A loop, not set(): a home's mask is a few dozen bytes and the call costs more than the stores.
      const m = h.mask;
      const mo = this.maskOffsets[i];
      for (let k = 0; k < m.length; k++) this.masks[mo + k] = m[k];
    }
  }

  /** The 4 community features now (buy, sell, net, headroom), as written into every observation. */
  features(out: Float32Array, offset = 0): Float32Array {
    const p = this.obsOffsets[0] + this.homeObsSize[0];
    for (let k = 0; k < COMMUNITY_FEATURES.length; k++) out[offset + k] = this.observations[p + k];
    return out;
  }

  /** The summary of the day played (after the last settle), from the flows the core recorded. */
  summary(seed = -1): CommunityDaySummary {
    // From the running sums: the same numbers as referenceSummary, without clearing the day again.
    if (this.done) return this.sums.summary(this.c, this.days, (i) => this.socKwh[i * (SLOTS + 1) + SLOTS], (i) => this.homes[i].violations, seed);
    return this.referenceSummary(seed);
  }

  /** The summary by scoreCommunityDay (the definition) of the flows recorded. */
  referenceSummary(seed = -1): CommunityDaySummary {
    const violations = Int32Array.from(this.homes, (h) => h.violations);
    return scoreCommunityDay(this.c, this.days, { ...this.flowViews, violations, seed });
  }
}

function prefix(sizes: Int32Array): Int32Array {
  const out = new Int32Array(sizes.length + 1);
  for (let i = 0; i < sizes.length; i++) out[i + 1] = out[i] + sizes[i];
  return out;
}

const clip = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
