import { ActionCodec } from './codec.js';
import { compileObservation, sharedFeatureTable, type FeatureDef } from './features.js';
import type { ControlMessage, ControllerSpec } from './manifest.js';
import { EvController, type EvReadings } from './ev.js';
import { evReserveKw, LIMIT_TOL, SLOTS, type HomeView } from './view.js';

/**
 * # The home controller: what a gateway keeps and computes per slot
 *
 * The one implementation of the home's per-slot rules: the simulator (env/core.ts) drives it with
 * readings drawn from a simulated day, a gateway with its meters' readings. Per slot t:
 * `read(readings)` (or `observe`, which also writes the observation), then the policy acts on the
 * observation and `flatMask()` (or the component `mask`), then `apply(action)` plays the action and
 * moves the state to slot t + 1. `newDay()` starts a day. Nothing is allocated per slot.
 *
 * ## State (from the controller's own commands)
 * per appliance the slots of its cycle already run (so remaining work, whether a non-interruptible
 * cycle is under way, whether it ran last slot, the power of the cycle slot it runs next), the
 * running import peak (base + appliances + EV − PV, never below 0), and the EV's SoC between
 * readings (η_c·kW·Δt when charging, kW/η_d·Δt when discharging, inside [0, capacity]), its SoC at
 * 00:00 and its requirement. One request per appliance per day.
 *
 * ## Mask
 * An appliance with no visible request (none, or done) may only wait; a started non-interruptible
 * cycle, or a request with no slack left before its deadline, must run; otherwise it may do either.
 * The EV may only idle while away. At home a level is allowed when the SoC after the slot stays
 * between the floor and the capacity, a charge keeps the import under the contract with the forced
 * appliance load, and a discharge (V2H) sends nothing into the grid with the largest appliance load.
 * The flat mask checks the joint action exactly (codec.ts `isAllowed`). Should the floor leave no EV
 * level (a floor out of reach), the levels ≥ 0 that fit the contract are allowed rather than none.
 * After the last slot only "nothing" is allowed, so the mask keeps its shape.
 *
 * ## Fallback (each counted in `applied.violations`)
 * A value outside its mask becomes the allowed value (wait if allowed, else run; for the EV the
 * allowed level nearest in power, the lower on a tie); then an EV level that breaks the contract or
 * exports V2H energy drops to the allowed level nearest to it that does not.
 */

export type { EvReadings };

/** What a gateway knows at the start of a slot (kW, kWh, slots). Reused objects are welcome. */
export interface HomeReadings {
  /** The slot 0…95 (96 only to observe the end of the day); slots come in order from 0. */
  slot: number;
  /** Saturday or Sunday. */
  weekend: boolean | number;
  /** Fixed loads now: what the home draws besides the appliances and the EV the controller switches. */
  baseKw: number;
  pvKw: number;
  /** PV forecast: mean over the next 4 and the next 16 slots (runtime/view.ts `meanAhead`). */
  pvNext1hKw: number;
  pvNext4hKw: number;
  /** Per appliance of the spec: the last slot of the user's request, from the slot it is made; null or −1: none. */
  deadlines: ArrayLike<number | null>;
  ev: EvReadings | null;
}

/** What `apply` played (reused: copy what you keep). */
export interface Applied {
  /** The effective components after the fallback (appliances 0/1, then the EV level). */
  readonly components: Int32Array;
  /** kW per device (appliances, then the EV, grid side). */
  readonly deviceKw: Float64Array;
  violations: number;
  importKw: number;
  exportKw: number;
  loadKw: number;
  evKw: number;
}

export class HomeController implements HomeView {
  readonly spec: ControllerSpec;
  readonly nApp: number;
  readonly nComponents: number;
  readonly nvec: Int32Array;
  readonly maskOffsets: Int32Array;
  readonly maskSize: number;
  readonly codec: ActionCodec;
  readonly contractKw: number;
  /** This slot's net-import limit: the contract, unless `capNet` lowered it (HomeView.limitKw). */
  limitKw: number;
  readonly priceKwh: Float64Array;
  readonly maxPriceKwh: number;
  readonly pvScale: number;
  readonly cycles: Float64Array[];
  readonly cycleLength: Int32Array;
  private readonly nonInterruptible: Uint8Array;
  readonly features: readonly FeatureDef[];
  private readonly write: (h: HomeController, out: Float32Array, o: number) => void;
  readonly obsSize: number;

  slot = 0;
  weekend = 0;
  baseKw = 0;
  pvKw = 0;
  pvNext1hKw = 0;
  pvNext4hKw = 0;
  forcedKw = 0;
  /** Forced load plus every visible request that may run: the most the appliances can draw now. */
  optionalMaxKw = 0;
  peakKw = 0;
  readonly mask: Uint8Array;
  readonly powerKw: Float64Array;
  readonly deadline: Int32Array;
  readonly remaining: Int32Array;
  readonly started: Uint8Array;
  readonly progress: Int32Array;
  readonly ranLast: Uint8Array;
  readonly ev: EvController | null;
  readonly applied: Applied;
  /** Effective components of the last `apply` (the same array as applied.components). */
  readonly appliedComponents: Int32Array;
  private readonly messageList: ControlMessage[];
  private readonly actionBuf: Int32Array;
  /** The EV readings of the slot read last (capNet recomputes the EV's mask from them). */
  private evReadings: HomeReadings['ev'] = null;
  private flat: Uint8Array | null = null;

  constructor(spec: ControllerSpec) {
    this.spec = spec;
    const apps = spec.action.appliances;
    this.nApp = apps.length;
    this.nvec = Int32Array.from(spec.action.nvec);
    this.nComponents = this.nvec.length;
    const expected = this.nApp + (spec.action.ev ? 1 : 0);
    if (this.nComponents !== expected || (spec.action.ev !== null) !== (spec.home.ev !== null))
      throw new Error(`HomeController: action.nvec has ${this.nComponents} components, expected ${expected} (the appliances, then the EV), with home.ev and action.ev both set or both null`);
    this.codec = new ActionCodec(this.nvec);
    this.maskOffsets = new Int32Array(this.nComponents);
    let off = 0;
    for (let c = 0; c < this.nComponents; c++) {
      this.maskOffsets[c] = off;
      off += this.nvec[c];
    }
    this.maskSize = off;
    const h = spec.home;
    this.contractKw = h.contractKw;
    this.limitKw = h.contractKw;
    this.priceKwh = Float64Array.from(h.priceKwh);
    if (this.priceKwh.length !== SLOTS) throw new Error(`HomeController: home.priceKwh has ${this.priceKwh.length} values, expected ${SLOTS}`);
    this.maxPriceKwh = h.maxPriceKwh;
    this.pvScale = h.pvPeakKw > 0 ? h.pvPeakKw : 1;
    this.cycles = apps.map((a) => Float64Array.from(a.cycleKw));
    this.cycleLength = Int32Array.from(apps, (a) => a.cycleKw.length);
    this.nonInterruptible = Uint8Array.from(apps, (a) => (a.kind === 'non-interruptible' ? 1 : 0));
    const table = sharedFeatureTable(spec);
    this.features = table.defs;
    this.write = compileObservation(table.defs, table.appliance);
    this.obsSize = table.defs.length;
    this.mask = new Uint8Array(off);
    this.powerKw = new Float64Array(this.nApp);
    this.deadline = new Int32Array(this.nApp);
    this.remaining = new Int32Array(this.nApp);
    this.started = new Uint8Array(this.nApp);
    this.progress = new Int32Array(this.nApp);
    this.ranLast = new Uint8Array(this.nApp);
    this.ev = spec.action.ev && h.ev ? new EvController(spec.action.ev.levels, h.ev) : null;
    this.appliedComponents = new Int32Array(this.nComponents);
    this.applied = { components: this.appliedComponents, deviceKw: new Float64Array(this.nComponents), violations: 0, importKw: 0, exportKw: 0, loadKw: 0, evKw: 0 };
    this.messageList = apps.map((a) => ({ device: a.device, command: 'wait', powerKw: 0 }));
    if (spec.action.ev) this.messageList.push({ device: spec.action.ev.device, command: 'idle', powerKw: 0 });
    this.actionBuf = new Int32Array(this.nComponents);
    this.newDay();
  }

  /** Start a day (00:00): nothing run, no peak yet, the EV's SoC unknown until read. */
  newDay(): void {
    this.slot = 0;
    this.progress.fill(0);
    this.started.fill(0);
    this.ranLast.fill(0);
    this.deadline.fill(-1);
    this.peakKw = 0;
    if (this.ev) this.ev.begin();
  }

  /** Take the readings of the current slot: the state, the powers and the component mask follow. */
  read(r: HomeReadings): void {
    const t = r.slot;
    if (t !== this.slot) throw new Error(`readings.slot is ${t}, expected ${this.slot}: feed every slot in order from 0 (newDay() starts a day)`);
    this.weekend = r.weekend ? 1 : 0;
    this.baseKw = r.baseKw;
    this.pvKw = r.pvKw;
    this.pvNext1hKw = r.pvNext1hKw;
    this.pvNext4hKw = r.pvNext4hKw;
    this.limitKw = this.contractKw;
    this.evReadings = r.ev;
    const mask = this.mask;
    // A loop, not fill(): the mask is a few dozen bytes and the call costs more than the stores.
    for (let k = 0; k < mask.length; k++) mask[k] = 0;
    if (this.ev) this.ev.read(r.ev, t);
    if (t >= SLOTS) {
      for (let c = 0; c < this.nComponents; c++) mask[this.maskOffsets[c]] = 1;
      return;
    }
    let forced = 0;
    let most = 0;
    for (let i = 0; i < this.nApp; i++) {
      const cycle = this.cycles[i];
      const o = 2 * i;
      const left = cycle.length - this.progress[i];
      const d = r.deadlines[i];
      this.remaining[i] = left;
      if (d === null || d === undefined || d < 0 || left <= 0) {
        mask[o] = 1;
        this.powerKw[i] = 0;
        this.deadline[i] = -1;
        continue;
      }
      this.deadline[i] = d;
      this.powerKw[i] = cycle[this.progress[i]];
      // Must run now: a non-interruptible cycle under way, or no slack left before the deadline.
      const must = this.started[i] === 1 || d - t + 1 <= left;
      mask[o + 1] = 1;
      most += this.powerKw[i];
      if (must) forced += this.powerKw[i];
      else mask[o] = 1;
    }
    this.forcedKw = forced;
    this.optionalMaxKw = most;
    if (this.ev) this.ev.mask(this, r.ev!, mask, this.maskOffsets[this.nApp]);
  }

  /**
   * Cap this slot's net import at `capKw` (an operator's share of a feeder: community/), after
   * `read`. Optional appliance runs and EV levels that cannot fit under the cap with the forced load
   * are masked (a charge the EV's floor forces counts as forced: an optional run must fit beside it,
   * view.ts `evReserveKw`); the joint action is checked against it (codec.ts `isAllowed`, the
   * fallback of `apply`). A cap below the forced net load (base + forced runs − PV) cannot be met by anything
   * the home controls: the forced runs still run, and the EV may only idle or discharge.
   */
  capNet(capKw: number): void {
    this.limitKw = Math.min(this.contractKw, capKw);
    if (this.slot >= SLOTS) return;
    const mask = this.mask;
    // A charge the EV's floor forces is a forced load too: an optional run must fit beside it.
    const fixed = this.baseKw + this.forcedKw + evReserveKw(this) - this.pvKw;
    let most = this.forcedKw;
    for (let i = 0; i < this.nApp; i++) {
      const o = 2 * i;
      if (mask[o] === 0 || mask[o + 1] === 0) continue;
      if (fixed + this.powerKw[i] > this.limitKw + LIMIT_TOL) mask[o + 1] = 0;
      else most += this.powerKw[i];
    }
    this.optionalMaxKw = most;
    if (this.ev) {
      const off = this.maskOffsets[this.nApp];
      for (let k = 0; k < this.nvec[this.nApp]; k++) mask[off + k] = 0;
      this.ev.mask(this, this.evReadings!, mask, off);
    }
  }

  /** Write the observation of the state read last into `out` at `offset` (layout: features.ts). */
  writeObservation(out: Float32Array, offset = 0): Float32Array {
    this.write(this, out, offset);
    return out;
  }

  /** `read(readings)`, then the observation written into `out` (a new array when not given). */
  observe(r: HomeReadings, out: Float32Array = new Float32Array(this.obsSize)): Float32Array {
    this.read(r);
    return this.writeObservation(out);
  }

  /** The exact flat mask of the slot (ActionCodec order), in a reused array unless `out` is given. */
  flatMask(out?: Uint8Array): Uint8Array {
    if (!out) out = this.flat ??= new Uint8Array(this.codec.n);
    return this.codec.flatMask(this, out);
  }

  /**
   * Play the slot: `action` is a flat index or the components (read at `offset`). Values outside
   * the mask get the fallback of the module comment; then the cycles advance, the EV's SoC moves,
   * the running peak follows the import, and the state moves to the next slot.
   */
  apply(action: number | ArrayLike<number>, offset = 0): Applied {
    if (this.slot >= SLOTS) throw new Error(`apply() at slot ${this.slot}: the day has ended; newDay() starts the next`);
    let act: ArrayLike<number> = action as ArrayLike<number>;
    if (typeof action === 'number') {
      if (!Number.isInteger(action) || action < 0 || action >= this.codec.n) throw new Error(`apply(): action ${action} is not an integer in [0, ${this.codec.n}) (flat action)`);
      act = this.codec.unflatten(action, this.actionBuf);
      offset = 0;
    }
    const mask = this.mask;
    const applied = this.appliedComponents;
    const out = this.applied;
    const deviceKw = out.deviceKw;
    let v = 0;
    let appKw = 0;
    for (let i = 0; i < this.nApp; i++) {
      let a = act[offset + i];
      const o = 2 * i;
      if (a !== 0 && a !== 1) a = -1;
      if (a < 0 || mask[o + a] === 0) {
        a = mask[o] === 1 ? 0 : 1;
        v++;
      }
      applied[i] = a;
      if (a === 1) appKw += this.powerKw[i];
    }
    // Under a cap (capNet) optional runs that fit one by one may not fit together, nor beside a charge
    // the EV's floor forces: the last ones wait. Under the contract alone this never happens (a
    // scenario's appliances and the day's EV headroom fit it), and the reserve is not even computed.
    const reserve = this.limitKw < this.contractKw ? evReserveKw(this) : 0;
    for (let i = this.nApp - 1; i >= 0 && appKw > 0 && this.baseKw + appKw + reserve - this.pvKw > this.limitKw + LIMIT_TOL; i--) {
      if (applied[i] === 1 && mask[2 * i] === 1) {
        applied[i] = 0;
        appKw -= this.powerKw[i];
        v++;
      }
    }
    for (let i = 0; i < this.nApp; i++) deviceKw[i] = applied[i] === 1 ? this.powerKw[i] : 0;
    let evKw = 0;
    if (this.ev) {
      const c = this.nApp;
      const fixedNet = this.baseKw + appKw - this.pvKw;
      v += this.ev.choose(act[offset + c], mask, this.maskOffsets[c], fixedNet, this.limitKw);
      applied[c] = this.ev.chosen;
      evKw = this.ev.levelsKw[this.ev.chosen];
      deviceKw[c] = evKw;
    }
    for (let i = 0; i < this.nApp; i++) {
      if (applied[i] === 1) {
        this.progress[i]++;
        if (this.nonInterruptible[i] === 1) this.started[i] = this.progress[i] < this.cycleLength[i] ? 1 : 0;
      }
      this.ranLast[i] = applied[i];
    }
    if (this.ev) this.ev.apply(evKw);
    const load = this.baseKw + appKw + evKw;
    const net = load - this.pvKw;
    const imp = net > 0 ? net : 0;
    if (imp > this.peakKw) this.peakKw = imp;
    out.importKw = imp;
    out.exportKw = net < 0 ? -net : 0;
    out.loadKw = load;
    out.evKw = evKw;
    out.violations = v;
    this.slot++;
    return out;
  }

  /** One control message per appliance and for the EV, of the last `apply` (reused objects). */
  messages(): readonly ControlMessage[] {
    const a = this.appliedComponents;
    for (let i = 0; i < this.nApp; i++) {
      const m = this.messageList[i];
      m.command = a[i] === 1 ? 'run' : 'wait';
      m.powerKw = this.applied.deviceKw[i];
    }
    const ev = this.spec.action.ev;
    if (ev) {
      const m = this.messageList[this.nApp];
      const level = ev.levels[a[this.nApp]];
      m.command = level.command;
      m.powerKw = level.powerKw;
    }
    return this.messageList;
  }
}
