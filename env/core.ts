import type { Scenario } from './scenario.js';
import { evArrivalDeficit, type Day } from './day.js';
import { SLOTS } from './time.js';
import { evShortfallTerm, peakTerm, slotTerm } from './score.js';
import { HomeController, meanAhead, EV_RATE_MAX, type ControllerSpec, type HomeReadings } from '../runtime/index.js';

export { LIMIT_TOL, evPowerFits, evReserveKw, evRate, EV_RATE_MAX, meanAhead, type HomeView, type EvView } from '../runtime/index.js';

/**
 * The simulated home of one day: the home controller of runtime/ (the very code a gateway runs:
 * state, observation, masks, fallback) fed with readings drawn from the Day, plus what only a
 * simulator knows: the day itself, the trip's energy at arrival and the reward (score.ts). The
 * single env (home.ts) and the vector env (vector.ts) both drive this class; nothing is allocated
 * per step. The spec of actions, masks and fallbacks is in home.ts and runtime/controller.ts.
 */

const specs = new WeakMap<Scenario, ControllerSpec>();

/** The controller's view of a scenario: policy.json's `action` and `home` for its home. */
export function controllerSpec(s: Scenario): ControllerSpec {
  let spec = specs.get(s);
  if (spec) return spec;
  const ev = s.ev;
  const nLevels = ev ? 1 + ev.chargeSteps + ev.dischargeSteps : 0;
  spec = {
    action: {
      nvec: [...s.appliances.map(() => 2), ...(ev ? [nLevels] : [])],
      appliances: s.appliances.map((a) => ({ device: a.id, name: a.name, kind: a.kind, cycleKw: [...a.cycleKw] })),
      ev: ev
        ? {
            device: 'ev',
            levels: [
              { command: 'idle', powerKw: 0 },
              ...Array.from({ length: ev.chargeSteps }, (_, k) => ({ command: 'charge' as const, powerKw: (k + 1) * ev.chargeStepKw })),
              ...Array.from({ length: ev.dischargeSteps }, (_, m) => ({ command: 'discharge' as const, powerKw: -(m + 1) * ev.dischargeStepKw })),
            ],
          }
        : null,
    },
    home: {
      contractKw: s.grid.contractKw,
      pvPeakKw: s.pv.peakKw,
      maxPriceKwh: Math.max(1e-12, ...s.tariff.bands.map((b) => b.eurPerKwh)),
      priceKwh: Array.from(s.priceKwh),
      ev: ev
        ? { capacityKwh: ev.capacityKwh, socMinKwh: ev.socMinKwh, chargeEfficiency: ev.chargeEfficiency, dischargeEfficiency: ev.dischargeEfficiency, chargeStepKw: ev.chargeStepKw, rateMax: EV_RATE_MAX }
        : null,
    },
  };
  specs.set(s, spec);
  return spec;
}

/** A PV profile's forecast readings, computed once per profile (days share the year's PV days). */
const forecastCache = new WeakMap<Float64Array, { next1h: Float64Array; next4h: Float64Array }>();
function forecasts(pv: Float64Array): { next1h: Float64Array; next4h: Float64Array } {
  let f = forecastCache.get(pv);
  if (!f) {
    f = { next1h: new Float64Array(SLOTS), next4h: new Float64Array(SLOTS) };
    for (let t = 0; t < SLOTS; t++) {
      f.next1h[t] = meanAhead(pv, t, 4);
      f.next4h[t] = meanAhead(pv, t, 16);
    }
    forecastCache.set(pv, f);
  }
  return f;
}

export class HomeCore extends HomeController {
  readonly s: Scenario;
  readonly hasEv: boolean;
  day!: Day;
  done = true;
  violations = 0;
  returnSum = 0;
  /** The readings of the current slot (reused: copy what you keep). NaN: no reading. */
  /** How far below the evening floor the car came back (kWh; 0 before the arrival): the floor drops by it. */
  private evDeficit = 0;
  readonly readings: HomeReadings & { deadlines: Int32Array; ev: { home: boolean; socKwh: number; dueSlot: number; targetKwh: number; floorKwh: number } | null };
  /** The PV forecast readings of the day (meanAhead of its PV), per slot. */
  private pvNext1h: Float64Array = new Float64Array(SLOTS);
  private pvNext4h: Float64Array = new Float64Array(SLOTS);

  constructor(s: Scenario) {
    super(controllerSpec(s));
    this.s = s;
    this.hasEv = s.ev !== null;
    this.readings = {
      slot: 0,
      weekend: false,
      baseKw: 0,
      pvKw: 0,
      pvNext1hKw: 0,
      pvNext4hKw: 0,
      deadlines: new Int32Array(this.nApp),
      ev: this.hasEv ? { home: true, socKwh: NaN, dueSlot: SLOTS, targetKwh: 0.5, floorKwh: NaN } : null,
    };
  }

  /** What the last step did (after fallbacks): the controller's `applied`. */
  get lastViolations(): number {
    return this.applied.violations;
  }
  get lastImportKw(): number {
    return this.applied.importKw;
  }
  get lastExportKw(): number {
    return this.applied.exportKw;
  }
  get lastLoadKw(): number {
    return this.applied.loadKw;
  }
  get lastEvKw(): number {
    return this.applied.evKw;
  }

  /** Start a day at slot 0. */
  begin(day: Day): void {
    this.day = day;
    this.done = false;
    this.violations = 0;
    this.returnSum = 0;
    this.evDeficit = 0;
    const f = forecasts(day.pvKw);
    this.pvNext1h = f.next1h;
    this.pvNext4h = f.next4h;
    this.newDay();
    this.sense();
  }

  /**
   * The readings of the current slot, as a gateway would get them, from the day: only what is known
   * at slot t (docs/environment.md, "Information set"); nothing of the trip before the car is back.
   * Public for the community (community/core.ts), which applies every home, clears the market, and
   * only then has each home read its next slot.
   */
  sense(): void {
    const t = this.slot;
    const d = this.day;
    const r = this.readings;
    const u = t < SLOTS ? t : SLOTS - 1;
    r.slot = t;
    r.weekend = d.weekend;
    r.baseKw = d.baseKw[u];
    r.pvKw = d.pvKw[u];
    r.pvNext1hKw = this.pvNext1h[u];
    r.pvNext4hKw = this.pvNext4h[u];
    for (let i = 0; i < this.nApp; i++) {
      const q = d.requests[i];
      r.deadlines[i] = q !== null && t >= q.release ? q.deadline : -1;
    }
    const e = d.ev;
    if (r.ev && e) {
      const ev = r.ev;
      const home = t < SLOTS && e.home[t] === 1;
      // NaN: no reading (a plain double field, not boxed per slot). The trip's energy leaves the
      // battery when the car is back, and the charger reads the SoC then.
      let soc = t === 0 ? e.soc0Kwh : NaN;
      if (e.trip && t === e.arrival) {
        soc = (t === 0 ? soc : this.ev!.socKwh) - e.tripKwh;
        this.evDeficit = evArrivalDeficit(e, t, soc);
      }
      const beforeTrip = e.trip && t < e.departure;
      ev.home = home;
      ev.socKwh = soc;
      ev.dueSlot = beforeTrip ? e.departure : SLOTS;
      ev.targetKwh = beforeTrip ? e.targetKwh : e.soc0Kwh;
      ev.floorKwh = home ? Math.max(this.s.ev!.socMinKwh, e.floorKwh[t + 1] - this.evDeficit) : NaN;
    }
    this.read(r);
  }

  /**
   * Play one slot. `action[offset + c]` is component c's value; the fallback of the controller
   * corrects values outside the mask (counted in lastViolations). Returns the reward.
   */
  step(action: ArrayLike<number>, offset = 0): number {
    if (this.done) throw new Error('step() after the day ended: call reset() first');
    const t = this.slot;
    const s = this.s;
    const prevPeak = this.peakKw;
    const a = this.apply(action, offset);
    let reward = -slotTerm(s, this.day, t, a.importKw, a.exportKw, a.loadKw);
    if (t === 0) reward -= peakTerm(s, this.day, this.peakKw);
    else if (this.peakKw !== prevPeak) reward -= peakTerm(s, this.day, this.peakKw) - peakTerm(s, this.day, prevPeak);
    this.violations += a.violations;
    if (this.slot >= SLOTS && this.ev) reward -= evShortfallTerm(s, this.day, this.ev.socKwh);
    this.returnSum += reward;
    if (this.slot >= SLOTS) this.done = true;
    this.sense();
    return reward;
  }
}
