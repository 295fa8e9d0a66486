import type { HomeController } from './controller.js';
import type { ControllerSpec } from './manifest.js';
import { DT, evPowerFits, LIMIT_TOL, SLOTS, type EvView } from './view.js';

/** What a gateway knows of the EV at the start of a slot (the controller's module comment has the rules). */
export interface EvReadings {
  home: boolean | number;
  /** The charger's SoC reading; needed on slot 0 and when the EV comes back, else null or NaN (integrated). */
  socKwh: number | null;
  /** When the next requirement is due: the departure, or 96 (the end of the day). */
  dueSlot: number;
  /** The SoC it must hold by then (at the end of the day: the SoC of 00:00). */
  targetKwh: number;
  /** The lowest SoC allowed at the end of the slot; null or NaN: max(socMin, target − what the fastest level adds before due). */
  floorKwh?: number | null;
}

/** The EV: its SoC and requirement, the mask of its levels and the choice of a level. */
export class EvController implements EvView {
  readonly capacityKwh: number;
  readonly levelsKw: Float64Array;
  readonly spec: NonNullable<ControllerSpec['home']['ev']>;
  private readonly fastestKw: number;
  home = true;
  /** Whether a SoC was read today: until then the controller cannot act for the EV. */
  known = false;
  socKwh = 0;
  neededKwh = 0;
  dueSlot = SLOTS;
  startKwh = 0;
  /** The level chosen by the last `choose`. */
  chosen = 0;

  constructor(levels: readonly { powerKw: number }[], spec: NonNullable<ControllerSpec['home']['ev']>) {
    this.spec = spec;
    this.capacityKwh = spec.capacityKwh;
    this.levelsKw = Float64Array.from(levels, (l) => l.powerKw);
    this.fastestKw = Math.max(0, ...this.levelsKw);
  }

  begin(): void {
    this.known = false;
    this.home = true;
    this.socKwh = 0;
    this.startKwh = 0;
  }

  /** At the start of slot t: the SoC reading, where the EV is, and the next requirement. */
  read(r: EvReadings | null, t: number): void {
    if (!r) throw new Error('readings.ev is null, but this home has an EV: expected { home, socKwh, dueSlot, targetKwh }');
    const soc = r.socKwh;
    // NaN as "no reading" lets a caller keep the field a plain double (no boxing per slot).
    if (soc !== null && soc !== undefined && soc === soc) {
      this.socKwh = soc;
      if (t === 0) this.startKwh = soc;
      this.known = true;
    }
    if (!this.known) throw new Error(`readings.ev.socKwh is ${r.socKwh} at slot ${t}: expected the EV's SoC (kWh), unknown so far (give it on slot 0 and when the EV comes back)`);
    this.home = t < SLOTS && !!r.home;
    this.dueSlot = r.dueSlot;
    this.neededKwh = Math.max(0, r.targetKwh - this.socKwh);
  }

  /** SoC after one slot at grid-side power kw. */
  private next(kw: number): number {
    return kw >= 0 ? this.socKwh + kw * this.spec.chargeEfficiency * DT : this.socKwh + (kw / this.spec.dischargeEfficiency) * DT;
  }

  mask(h: HomeController, r: EvReadings, mask: Uint8Array, off: number): void {
    if (!this.home) {
      mask[off] = 1;
      return;
    }
    const given = r.floorKwh;
    const floor = given !== null && given !== undefined && given === given ? given : Math.max(this.spec.socMinKwh, r.targetKwh - Math.max(0, r.dueSlot - h.slot - 1) * this.fastestKw * this.spec.chargeEfficiency * DT);
    const lo = floor - LIMIT_TOL;
    const hi = this.capacityKwh + LIMIT_TOL;
    // A level is masked when no choice of the appliances lets it fit: a charge is checked with the
    // least appliance load (forced runs only), a discharge with the most (every visible request
    // running). What the appliances then actually do is checked jointly in choose().
    const minNet = h.baseKw + h.forcedKw - h.pvKw;
    const maxNet = h.baseKw + h.optionalMaxKw - h.pvKw;
    let any = false;
    for (let k = 0; k < this.levelsKw.length; k++) {
      const kw = this.levelsKw[k];
      const soc = this.next(kw);
      if (soc < lo || soc > hi) continue;
      if (!evPowerFits(kw, kw > 0 ? minNet : maxNet, h.limitKw)) continue;
      mask[off + k] = 1;
      any = true;
    }
    if (!any) for (let k = 0; k < this.levelsKw.length; k++) if (this.levelsKw[k] >= 0 && evPowerFits(this.levelsKw[k], minNet, h.limitKw)) mask[off + k] = 1;
  }

  /**
   * The level actually played (into `chosen`) for requested index `a`, given the net load of
   * everything else; returns the violations (the fallback of the module comment).
   */
  choose(a: number, mask: Uint8Array, off: number, fixedNet: number, limitKw: number): number {
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
        if (best < 0 || dk < Math.abs(L[best] - want) - LIMIT_TOL || (Math.abs(dk - Math.abs(L[best] - want)) <= LIMIT_TOL && L[k] < L[best])) best = k;
      }
      idx = best;
      v++;
    }
    const kw = L[idx];
    if (!evPowerFits(kw, fixedNet, limitKw)) {
      let best = -1;
      for (let k = 0; k < n; k++) {
        if (!mask[off + k]) continue;
        const lk = L[k];
        if (!evPowerFits(lk, fixedNet, limitKw)) continue;
        // Prefer the allowed level closest to what was asked.
        if (best < 0 || Math.abs(lk - kw) < Math.abs(L[best] - kw)) best = k;
      }
      if (best < 0) throw new Error('internal: no EV level fits the limit (the worst-case headroom of the day, and idle under a cap, should prevent this)');
      idx = best;
      v++;
    }
    this.chosen = idx;
    return v;
  }

  apply(kw: number): void {
    if (this.home) this.socKwh = Math.min(this.capacityKwh, Math.max(0, this.next(kw)));
  }
}
