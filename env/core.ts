import type { Scenario } from './scenario.js';
import type { Day } from './day.js';
import { DT, SLOTS } from './time.js';
import { peakTerm, slotTerm } from './score.js';

/**
 * The home's physics and rules for one day, on typed arrays and without allocation per step: the
 * single env (home.ts) and the vector env (vector.ts) both drive this class. The spec of actions,
 * masks and fallbacks is in home.ts; the score in score.ts.
 */

/**
 * Tolerance of every limit check (kW against the contract, kWh against the SoC floor and capacity):
 * 1 W / 1 Wh, far below anything a meter resolves, and above a MILP solver's feasibility noise.
 */
export const LIMIT_TOL = 1e-6;
const EPS = LIMIT_TOL;

/**
 * Whether EV grid-side power `kw` fits with `fixedNetKw`, the net load of everything else: a charge
 * keeps the import under the contract, a V2H discharge sends nothing into the grid.
 */
export function evPowerFits(kw: number, fixedNetKw: number, contractKw: number): boolean {
  return kw > 0 ? fixedNetKw + kw <= contractKw + EPS : kw < 0 ? fixedNetKw + kw >= -EPS : true;
}

/** What a policy may see of the current slot: the revealed part of the day only. A live view. */
export interface HomeView {
  readonly slot: number;
  readonly contractKw: number;
  /** Per component: allowed values, concatenated (component c at maskOffsets[c]). */
  readonly mask: Uint8Array;
  readonly maskOffsets: Int32Array;
  readonly nvec: Int32Array;
  /** Power (kW) appliance i draws if it runs this slot; 0 when it has nothing to do. */
  readonly powerKw: Float64Array;
  /** Last slot of appliance i's visible request, or -1 (no request seen, or done). */
  readonly deadline: Int32Array;
  /** Slots of the cycle still to run. */
  readonly remaining: Int32Array;
  /** 1 when a non-interruptible cycle is under way. */
  readonly started: Uint8Array;
  readonly baseKw: number;
  readonly pvKw: number;
  /** Forced appliance load this slot (running cycles, deadlines), kW. */
  readonly forcedKw: number;
  readonly peakKw: number;
  readonly ev: EvView | null;
}

export interface EvView {
  readonly home: boolean;
  readonly socKwh: number;
  readonly capacityKwh: number;
  /** Grid-side power of each EV action index: 0, +k·step (charge), −m·step (discharge), kW. */
  readonly levelsKw: Float64Array;
  /** Energy still to add for the next requirement (target at departure, else the SoC of 00:00), kWh. */
  readonly neededKwh: number;
  /** Slot by whose start the requirement is due (departure, or 96 for the end of the day). */
  readonly dueSlot: number;
  /** SoC at 00:00, kWh: what the EV must hold again at the day's end. */
  readonly startKwh: number;
}

export class HomeCore implements HomeView {
  readonly s: Scenario;
  readonly nApp: number;
  readonly hasEv: boolean;
  readonly nComponents: number;
  readonly nvec: Int32Array;
  readonly maskOffsets: Int32Array;
  readonly maskSize: number;
  readonly contractKw: number;
  private readonly maxPrice: number;

  day!: Day;
  slot = 0;
  done = true;
  readonly mask: Uint8Array;
  readonly powerKw: Float64Array;
  readonly deadline: Int32Array;
  readonly remaining: Int32Array;
  readonly started: Uint8Array;
  readonly progress: Int32Array;
  readonly ranLast: Uint8Array;
  baseKw = 0;
  pvKw = 0;
  forcedKw = 0;
  /** Forced load plus every visible request that may run: the most the appliances can draw now. */
  optionalMaxKw = 0;
  peakKw = 0;
  ev: EvState | null;

  /** Effective action of the last step (after fallbacks) and what the step did. */
  readonly applied: Int32Array;
  lastViolations = 0;
  lastImportKw = 0;
  lastExportKw = 0;
  lastLoadKw = 0;
  lastEvKw = 0;
  violations = 0;
  returnSum = 0;

  constructor(s: Scenario) {
    this.s = s;
    this.nApp = s.appliances.length;
    this.hasEv = s.ev !== null;
    this.nComponents = this.nApp + (this.hasEv ? 1 : 0);
    const nLevels = s.ev ? 1 + s.ev.chargeSteps + s.ev.dischargeSteps : 0;
    this.nvec = Int32Array.from({ length: this.nComponents }, (_, c) => (c < this.nApp ? 2 : nLevels));
    this.maskOffsets = new Int32Array(this.nComponents);
    let off = 0;
    for (let c = 0; c < this.nComponents; c++) {
      this.maskOffsets[c] = off;
      off += this.nvec[c];
    }
    this.maskSize = off;
    this.contractKw = s.grid.contractKw;
    this.maxPrice = Math.max(1e-12, ...s.tariff.bands.map((b) => b.eurPerKwh));
    this.mask = new Uint8Array(off);
    this.powerKw = new Float64Array(this.nApp);
    this.deadline = new Int32Array(this.nApp);
    this.remaining = new Int32Array(this.nApp);
    this.started = new Uint8Array(this.nApp);
    this.progress = new Int32Array(this.nApp);
    this.ranLast = new Uint8Array(this.nApp);
    this.applied = new Int32Array(this.nComponents);
    this.ev = s.ev ? new EvState(s) : null;
  }

  /** Start a day at slot 0. */
  begin(day: Day): void {
    this.day = day;
    this.slot = 0;
    this.done = false;
    this.progress.fill(0);
    this.started.fill(0);
    this.ranLast.fill(0);
    this.peakKw = 0;
    this.violations = 0;
    this.returnSum = 0;
    if (this.ev && day.ev) this.ev.begin(day.ev);
    this.prepare();
  }

  /** Fill the view (mask, powers, EV state) for the current slot. */
  private prepare(): void {
    const t = this.slot;
    const s = this.s;
    const day = this.day;
    const mask = this.mask;
    mask.fill(0);
    if (t >= SLOTS) {
      // After the last slot: only "nothing" is allowed, so the mask keeps its shape.
      for (let c = 0; c < this.nComponents; c++) mask[this.maskOffsets[c]] = 1;
      return;
    }
    this.baseKw = day.baseKw[t];
    this.pvKw = day.pvKw[t];
    let forced = 0;
    let most = 0;
    for (let i = 0; i < this.nApp; i++) {
      const r = day.requests[i];
      const cycle = s.appliances[i].cycleKw;
      const o = 2 * i;
      const left = cycle.length - this.progress[i];
      const visible = r !== null && t >= r.release && left > 0;
      this.remaining[i] = r ? left : 0;
      if (!visible) {
        mask[o] = 1;
        this.powerKw[i] = 0;
        this.deadline[i] = -1;
        continue;
      }
      this.deadline[i] = r.deadline;
      this.powerKw[i] = cycle[this.progress[i]];
      // Must run now: a non-interruptible cycle under way, or no slack left before the deadline.
      const must = this.started[i] === 1 || r.deadline - t + 1 <= left;
      mask[o + 1] = 1;
      most += this.powerKw[i];
      if (must) forced += this.powerKw[i];
      else mask[o] = 1;
    }
    this.forcedKw = forced;
    this.optionalMaxKw = most;
    if (this.ev) this.ev.prepare(t, this, mask, this.maskOffsets[this.nApp]);
  }

  /**
   * Play one slot. `action[c]` is component c's value. Values outside the mask, or a joint action
   * above the contract or exporting V2H energy, are corrected (the fallback of home.ts) and counted
   * in lastViolations. Reads action[offset …]. Returns the reward.
   */
  step(action: ArrayLike<number>, offset = 0): number {
    if (this.done) throw new Error('step() after the day ended: call reset() first');
    const t = this.slot;
    const s = this.s;
    const mask = this.mask;
    const applied = this.applied;
    let v = 0;
    let appKw = 0;
    for (let i = 0; i < this.nApp; i++) {
      let a = action[offset + i];
      const o = 2 * i;
      if (a !== 0 && a !== 1) {
        a = -1;
      }
      if (a < 0 || mask[o + a] === 0) {
        a = mask[o] === 1 ? 0 : 1;
        v++;
      }
      applied[i] = a;
      if (a === 1) appKw += this.powerKw[i];
    }
    let evKw = 0;
    if (this.ev) {
      const c = this.nApp;
      const fixedNet = this.baseKw + appKw - this.pvKw;
      const res = this.ev.choose(action[offset + c], mask, this.maskOffsets[c], fixedNet, this.contractKw);
      applied[c] = res.index;
      v += res.violations;
      evKw = res.kw;
    }
    // Apply: appliances advance, the EV's SoC moves, the meter sees the net.
    for (let i = 0; i < this.nApp; i++) {
      if (applied[i] === 1) {
        this.progress[i]++;
        if (s.appliances[i].kind === 'non-interruptible') this.started[i] = this.progress[i] < s.appliances[i].cycleKw.length ? 1 : 0;
      }
      this.ranLast[i] = applied[i];
    }
    if (this.ev) this.ev.apply(evKw);
    const load = this.baseKw + appKw + evKw;
    const net = load - this.pvKw;
    const imp = net > 0 ? net : 0;
    const exp = net < 0 ? -net : 0;
    const prevPeak = this.peakKw;
    if (imp > this.peakKw) this.peakKw = imp;
    let reward = -slotTerm(s, this.day, t, imp, exp, load);
    if (t === 0) reward -= peakTerm(s, this.day, this.peakKw);
    else if (this.peakKw !== prevPeak) reward -= peakTerm(s, this.day, this.peakKw) - peakTerm(s, this.day, prevPeak);
    this.lastImportKw = imp;
    this.lastExportKw = exp;
    this.lastLoadKw = load;
    this.lastEvKw = evKw;
    this.lastViolations = v;
    this.violations += v;
    this.returnSum += reward;
    this.slot = t + 1;
    if (this.slot >= SLOTS) this.done = true;
    if (this.ev) this.ev.advance(this.slot);
    this.prepare();
    return reward;
  }

  /** Write the observation of the current slot into `out` at `offset` (layout: observationLayout). */
  observe(out: Float32Array, offset = 0): void {
    const s = this.s;
    const t = Math.min(this.slot, SLOTS - 1);
    const day = this.day;
    let k = offset;
    const phase = (2 * Math.PI * this.slot) / SLOTS;
    out[k++] = Math.sin(phase);
    out[k++] = Math.cos(phase);
    out[k++] = day.weekend ? 1 : 0;
    const pmax = this.maxPrice;
    out[k++] = s.priceKwh[t] / pmax;
    out[k++] = s.priceKwh[Math.min(t + 4, SLOTS - 1)] / pmax;
    out[k++] = s.priceKwh[Math.min(t + 16, SLOTS - 1)] / pmax;
    const pvScale = s.pv.peakKw > 0 ? s.pv.peakKw : 1;
    out[k++] = day.pvKw[t] / pvScale;
    out[k++] = meanAhead(day.pvKw, t, 4) / pvScale;
    out[k++] = meanAhead(day.pvKw, t, 16) / pvScale;
    out[k++] = day.baseKw[t] / this.contractKw;
    for (let i = 0; i < this.nApp; i++) {
      const len = s.appliances[i].cycleKw.length;
      const pending = this.deadline[i] >= 0 && this.slot < SLOTS;
      out[k++] = pending ? 1 : 0;
      out[k++] = pending ? this.remaining[i] / len : 0;
      out[k++] = pending ? (this.deadline[i] - this.slot + 1 - this.remaining[i]) / SLOTS : 0;
      out[k++] = this.ranLast[i];
    }
    if (this.ev) {
      const e = this.ev;
      out[k++] = e.home ? 1 : 0;
      out[k++] = e.socKwh / e.capacityKwh;
      out[k++] = e.neededKwh / e.capacityKwh;
      out[k++] = Math.max(0, e.dueSlot - this.slot) / SLOTS;
      out[k++] = evRate(e, s.ev!, this.slot);
      out[k++] = e.startKwh / e.capacityKwh;
    }
    out[k++] = this.peakKw / this.contractKw;
  }

}

/**
 * The mean grid power the EV needs until its requirement is due, in charge steps, at most
 * EV_RATE_MAX: above 1 the slow level cannot make it alone. The network could divide ev.needed by
 * ev.due itself, but an MLP approximates a ratio poorly, and this ratio decides the EV's choice.
 */
export function evRate(
  e: Pick<EvView, 'neededKwh' | 'dueSlot'>,
  ev: Pick<NonNullable<Scenario['ev']>, 'chargeEfficiency' | 'chargeStepKw'>,
  slot: number,
  cap = EV_RATE_MAX,
): number {
  if (e.neededKwh <= 0) return 0;
  const kw = e.neededKwh / (ev.chargeEfficiency * DT * Math.max(1, e.dueSlot - slot));
  return Math.min(cap, kw / ev.chargeStepKw);
}

/** ev.rate's cap, in charge steps (its Box bound). */
export const EV_RATE_MAX = 4;

/** Mean of a[t+1 … t+n] (fewer near the day's end, 0 after it): the forecast features. */
export function meanAhead(a: Float64Array, t: number, n: number): number {
  let sum = 0;
  let c = 0;
  for (let j = t + 1; j <= t + n && j < SLOTS; j++, c++) sum += a[j];
  return c > 0 ? sum / c : 0;
}

/** The EV: levels, floors and the choice of a level under mask, contract and the V2H rule. */
export class EvState implements EvView {
  readonly capacityKwh: number;
  readonly levelsKw: Float64Array;
  private readonly etaC: number;
  private readonly etaD: number;
  private d!: NonNullable<Day['ev']>;
  home = true;
  socKwh = 0;
  neededKwh = 0;
  dueSlot = SLOTS;
  startKwh = 0;
  /** Where the mask of the EV component starts, and the SoC bounds of the next slot. */
  private off = 0;
  private lo = 0;
  private hi = 0;
  private readonly out = { index: 0, kw: 0, violations: 0 };

  constructor(s: Scenario) {
    const e = s.ev!;
    this.capacityKwh = e.capacityKwh;
    this.etaC = e.chargeEfficiency;
    this.etaD = e.dischargeEfficiency;
    this.levelsKw = new Float64Array(1 + e.chargeSteps + e.dischargeSteps);
    for (let k = 1; k <= e.chargeSteps; k++) this.levelsKw[k] = k * e.chargeStepKw;
    for (let m = 1; m <= e.dischargeSteps; m++) this.levelsKw[e.chargeSteps + m] = -m * e.dischargeStepKw;
  }

  begin(d: NonNullable<Day['ev']>): void {
    this.d = d;
    this.socKwh = d.soc0Kwh;
    this.startKwh = d.soc0Kwh;
    this.advance(0);
  }

  /** At the start of slot t: the trip leaves or comes back, and the next requirement is updated. */
  advance(t: number): void {
    const d = this.d;
    if (d.trip && t === d.arrival) this.socKwh -= d.tripKwh;
    this.home = t < SLOTS && d.home[t] === 1;
    if (d.trip && t < d.departure) {
      this.dueSlot = d.departure;
      this.neededKwh = Math.max(0, d.targetKwh - this.socKwh);
    } else {
      this.dueSlot = SLOTS;
      this.neededKwh = this.home || t >= SLOTS ? Math.max(0, d.soc0Kwh - this.socKwh) : Math.max(0, d.soc0Kwh - (this.socKwh - d.tripKwh));
    }
  }

  /** SoC after one slot at grid-side power kw. */
  private next(kw: number): number {
    return kw >= 0 ? this.socKwh + kw * this.etaC * DT : this.socKwh + (kw / this.etaD) * DT;
  }

  prepare(t: number, core: HomeCore, mask: Uint8Array, off: number): void {
    this.off = off;
    if (!this.home) {
      mask[off] = 1;
      return;
    }
    this.lo = this.d.floorKwh[t + 1] - EPS;
    this.hi = this.capacityKwh + EPS;
    // A level is masked when no choice of the appliances lets it fit: a charge is checked with the
    // least appliance load (forced runs only), a discharge with the most (every visible request
    // running). What the appliances then actually do is checked jointly in choose().
    const minNet = core.baseKw + core.forcedKw - core.pvKw;
    const maxNet = core.baseKw + core.optionalMaxKw - core.pvKw;
    for (let k = 0; k < this.levelsKw.length; k++) {
      const kw = this.levelsKw[k];
      const soc = this.next(kw);
      if (soc < this.lo || soc > this.hi) continue;
      if (!evPowerFits(kw, kw > 0 ? minNet : maxNet, core.contractKw)) continue;
      mask[off + k] = 1;
    }
  }

  /**
   * The level actually played for requested index `a`, given the net load of everything else.
   * Fallback, one violation each: an index outside the mask becomes the allowed level nearest in
   * power (the lower on a tie); a level above the contract drops to the highest that fits; a V2H
   * level that would push energy into the grid drops to the highest that does not.
   */
  choose(a: number, mask: Uint8Array, off: number, fixedNet: number, contractKw: number): { index: number; kw: number; violations: number } {
    const L = this.levelsKw;
    const n = L.length;
    let v = 0;
    let idx = Number.isInteger(a) && a >= 0 && a < n ? a : -1;
    if (idx < 0 || mask[off + idx] === 0) {
      const want = idx < 0 ? 0 : L[idx];
      let best = -1;
      for (let k = 0; k < n; k++) {
        if (!mask[off + k]) continue;
        const dk = Math.abs(L[k] - want);
        if (best < 0 || dk < Math.abs(L[best] - want) - EPS || (Math.abs(dk - Math.abs(L[best] - want)) <= EPS && L[k] < L[best])) best = k;
      }
      idx = best;
      v++;
    }
    const kw = L[idx];
    if (!evPowerFits(kw, fixedNet, contractKw)) {
      let best = -1;
      for (let k = 0; k < n; k++) {
        if (!mask[off + k]) continue;
        const lk = L[k];
        if (!evPowerFits(lk, fixedNet, contractKw)) continue;
        // Prefer the allowed level closest to what was asked.
        if (best < 0 || Math.abs(lk - kw) < Math.abs(L[best] - kw)) best = k;
      }
      if (best < 0) throw new Error('internal: no EV level fits the contract (the worst-case headroom of day.ts should prevent this)');
      idx = best;
      v++;
    }
    this.out.index = idx;
    this.out.kw = L[idx];
    this.out.violations = v;
    return this.out;
  }

  apply(kw: number): void {
    if (this.home) this.socKwh = Math.min(this.capacityKwh, Math.max(0, this.next(kw)));
  }
}
