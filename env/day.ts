import type { Scenario, EvSpec } from './scenario.js';
import { Rng } from './rng.js';
import { DT, SLOTS } from './time.js';
import { HomeCore } from './core.js';
import { noManagementAction } from './rules.js';

/**
 * One day's realisation: what the prosumer asks for and what the weather gives. `reset({ seed })`
 * draws it with `drawDay(scenario, seed)`; the MILP gets the same object (perfect foresight).
 */

/** A request of the day: run appliance `appliance`'s cycle inside [release, deadline] (inclusive). */
export interface Request {
  appliance: number;
  release: number;
  deadline: number;
}

export interface EvDay {
  /** SoC at 00:00, kWh; the day must end with at least this much (no day borrows from the next). */
  soc0Kwh: number;
  trip: boolean;
  /** First slot away and first slot back (trip days); -1 when the EV stays home. */
  departure: number;
  arrival: number;
  /** Energy the trip takes out of the battery, kWh (taken at arrival). */
  tripKwh: number;
  /** SoC required when leaving, kWh. */
  targetKwh: number;
  /** 1 where the EV is plugged in at home during the slot. */
  home: Uint8Array;
  /**
   * floorKwh[t]: the lowest SoC at the start of slot t from which every later requirement can still
   * be met if each later slot can only charge at headroomKw (97 entries; floorKwh[96] = soc0Kwh).
   */
  floorKwh: Float64Array;
  /**
   * headroomKw[t]: the largest charge level that fits under the contract at slot t even if every
   * appliance whose request window covers t runs at its cycle peak and the PV gives nothing.
   */
  headroomKw: Float64Array;
}

export interface Day {
  seed: number;
  /** 1 = Monday … 7 = Sunday. */
  dayType: number;
  weekend: boolean;
  /** Index of the PV day drawn from the scenario's profile year. */
  pvDay: number;
  pvKw: Float64Array;
  /** Fixed loads, kW per slot. */
  baseKw: Float64Array;
  /** requests[i]: appliance i's request of the day, or null when the prosumer does not ask for it. */
  requests: (Request | null)[];
  ev: EvDay | null;
  /** q of eq. (5): the day's mean consumption, kW. */
  meanLoadKw: number;
  /** The import peak of the same day with no management (the RESCoin peak reference), kW. */
  referencePeakKw: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function drawRequest(s: Scenario, i: number, weekend: boolean, rng: Rng): Request | null {
  const a = s.appliances[i];
  const p = weekend ? a.habits.weekendProbability : a.habits.weekdayProbability;
  // Draw every random number whatever the outcome, so one appliance's habits never shift another's.
  const asked = rng.float() < p;
  const shift = Math.round(a.habits.releaseSdSlots * rng.normal());
  if (!asked) return null;
  const length = a.window[1] - a.window[0] + 1;
  const release = clamp(a.window[0] + shift, 0, SLOTS - length);
  return { appliance: i, release, deadline: release + length - 1 };
}

/** The worst-case EV headroom of every slot (see EvDay.headroomKw). */
export function evHeadroom(s: Scenario, ev: EvSpec, baseKw: Float64Array, requests: (Request | null)[]): Float64Array {
  const h = new Float64Array(SLOTS);
  for (let t = 0; t < SLOTS; t++) {
    let worst = baseKw[t];
    for (const r of requests) if (r && r.release <= t && t <= r.deadline) worst += s.applianceMaxKw[r.appliance];
    const steps = Math.min(ev.chargeSteps, Math.floor((s.grid.contractKw - worst) / ev.chargeStepKw + 1e-9));
    h[t] = Math.max(0, steps) * ev.chargeStepKw;
  }
  return h;
}

/** Backward recursion for EvDay.floorKwh. */
export function evFloors(ev: EvSpec, d: Omit<EvDay, 'floorKwh'>): Float64Array {
  const f = new Float64Array(SLOTS + 1);
  f[SLOTS] = Math.max(ev.socMinKwh, d.soc0Kwh);
  for (let t = SLOTS - 1; t >= 0; t--) {
    if (d.home[t]) f[t] = Math.max(ev.socMinKwh, f[t + 1] - d.headroomKw[t] * ev.chargeEfficiency * DT);
    // Away: before the trip the battery must hold what the evening needs plus the trip itself.
    else f[t] = t + 1 === d.arrival ? f[t + 1] + d.tripKwh : f[t + 1];
    if (t === d.departure) f[t] = Math.max(f[t], d.targetKwh);
  }
  return f;
}

function drawEv(s: Scenario, ev: EvSpec, weekend: boolean, baseKw: Float64Array, requests: (Request | null)[], rng: Rng): EvDay {
  const h = ev.habits;
  const soc0Kwh = ev.capacityKwh * (h.initialSocFraction.min + (h.initialSocFraction.max - h.initialSocFraction.min) * rng.float());
  let trip = rng.float() < (weekend ? h.weekendTripProbability : h.weekdayTripProbability);
  const dep = clamp(Math.round(h.departureSlot.mean + h.departureSlot.sd * rng.normal()), h.departureSlot.min, h.departureSlot.max);
  let arr = clamp(Math.round(h.arrivalSlot.mean + h.arrivalSlot.sd * rng.normal()), h.arrivalSlot.min, h.arrivalSlot.max);
  arr = clamp(Math.max(arr, dep + 1), 1, SLOTS - 1);
  let tripKwh = clamp(h.tripKwh.mean + h.tripKwh.sd * rng.normal(), h.tripKwh.min, h.tripKwh.max);
  const headroomKw = evHeadroom(s, ev, baseKw, requests);
  // One charge step of room below capacity: with equal steps, some level then always lands the SoC
  // between the next floor and the capacity, so the EV never meets a dead end (see core.ts).
  const ceiling = ev.capacityKwh - ev.chargeStepKw * ev.chargeEfficiency * DT;
  const targetKwh = h.targetSocFraction * ev.capacityKwh;
  for (let iter = 0; ; iter++) {
    const home = new Uint8Array(SLOTS).fill(1);
    if (trip) home.fill(0, dep, arr);
    const base = { soc0Kwh, trip, departure: trip ? dep : -1, arrival: trip ? arr : -1, tripKwh: trip ? tripKwh : 0, targetKwh, home, headroomKw };
    const floorKwh = evFloors(ev, base);
    let excess = floorKwh[0] - soc0Kwh;
    for (let t = 0; t <= SLOTS; t++) excess = Math.max(excess, floorKwh[t] - ceiling);
    if (excess <= 1e-9 || !trip) return { ...base, floorKwh };
    // The contract cannot serve this trip: shorten it, and keep the car home if even that fails.
    tripKwh -= excess + 1e-6;
    if (tripKwh <= 0 || iter > 20) trip = false;
  }
}

/**
 * Draw day `seed` of a scenario: the weekday and PV from one day of the profile year, each
 * appliance's request from its habits, the EV's trip. Deterministic in (scenario, seed).
 */
export function drawDay(s: Scenario, seed: number): Day {
  const rng = new Rng(seed);
  const pvDay = rng.int(0, s.pvDays.length - 1);
  const typed = s.pvDayTypes[pvDay];
  const dayType = typed >= 1 && typed <= 7 ? typed : rng.int(1, 7);
  const weekend = dayType >= 6;
  const requests = s.appliances.map((_, i) => drawRequest(s, i, weekend, rng));
  const baseKw = s.fixedKw;
  const ev = s.ev ? drawEv(s, s.ev, weekend, baseKw, requests, rng) : null;
  let energy = 0;
  for (let t = 0; t < SLOTS; t++) energy += baseKw[t] * DT;
  for (const r of requests) if (r) energy += s.appliances[r.appliance].cycleKw.reduce((a, b) => a + b, 0) * DT;
  if (ev && s.ev) energy += ev.tripKwh / s.ev.chargeEfficiency;
  const day: Day = { seed, dayType, weekend, pvDay, pvKw: s.pvDays[pvDay], baseKw, requests, ev, meanLoadKw: energy / (SLOTS * DT), referencePeakKw: 0 };
  day.referencePeakKw = noManagementPeak(s, day);
  return day;
}

/** The import peak of the day played with no management (DESIGN.md: the RESCoin peak reference). */
const referenceCores = new WeakMap<Scenario, HomeCore>();
function noManagementPeak(s: Scenario, day: Day): number {
  let core = referenceCores.get(s);
  if (!core) referenceCores.set(s, (core = new HomeCore(s)));
  core.begin(day);
  const action = new Int32Array(core.nComponents);
  while (!core.done) {
    noManagementAction(core, action);
    core.step(action);
  }
  return core.peakKw;
}
