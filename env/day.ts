import type { ApplianceSpec, Scenario, EvSpec } from './scenario.js';
import { Rng } from './rng.js';
import { DT, SLOTS } from './time.js';
import { HomeCore } from './core.js';
import { noManagementAction } from './rules.js';
import { drawHabit, habitSupport } from './habits.js';

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
  /** SoC at 00:00, kWh; the day should end with at least this much, else J pays the shortfall (score.ts). */
  soc0Kwh: number;
  trip: boolean;
  /** First slot away and first slot back (trip days); -1 when the EV stays home. */
  departure: number;
  arrival: number;
  /** Energy the trip takes out of the battery, kWh (taken at arrival; ≤ target − socMin). */
  tripKwh: number;
  /** SoC required when leaving, kWh. */
  targetKwh: number;
  /** 1 where the EV is plugged in at home during the slot. */
  home: Uint8Array;
  /**
   * floorKwh[t]: the lowest SoC at the start of slot t from which the next requirement (the target
   * at departure, then the SoC of 00:00 at midnight) can still be met if each slot can only charge
   * at headroomKw (97 entries; evFloors). Known from 00:00: it uses only the plan (departure,
   * target), soc0 and the habits, never the trip or the drawn requests (docs/environment.md,
   * "Information set"). After a trip the env lowers it by the deficit at arrival (evArrivalDeficit).
   */
  floorKwh: Float64Array;
  /**
   * headroomKw[t]: the largest charge level that fits under the contract at slot t even if every
   * appliance whose request window could cover t (its habits: release within ±RELEASE_SDS sd) runs
   * at its cycle peak and the PV gives nothing. From the habits only, so known from 00:00.
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
  const z = rng.normal();
  if (!asked) return null;
  const release = releaseSlot(a, z, weekend);
  return { appliance: i, release, deadline: release + a.window[1] - a.window[0] };
}

/**
 * A release drawn beyond ±RELEASE_SDS sd is cut there, so the habits bound every possible window
 * (what the known-only headroom needs); the cut changes a draw with probability 6e-5.
 */
export const RELEASE_SDS = 4;
const releaseShift = (sd: number, z: number) => Math.round(sd * clamp(z, -RELEASE_SDS, RELEASE_SDS));

/** The release slot the habits give for a standard normal draw z on a day of the given type (the window keeps its length). */
export function releaseSlot(a: ApplianceSpec, z: number, weekend: boolean): number {
  const last = SLOTS - (a.window[1] - a.window[0] + 1);
  const h = a.habits;
  if ('releaseSlot' in h) return clamp(drawHabit(h.releaseSlot, weekend, z, true), 0, last);
  return clamp(a.window[0] + releaseShift(h.releaseSdSlots, z), 0, last);
}

/** The return slot and the trip's energy the habits give for standard normal draws (drawEv's rules). */
export function tripDraw(ev: EvSpec, departure: number, zArrival: number, zEnergy: number, weekend: boolean): { arrival: number; tripKwh: number } {
  const h = ev.habits;
  const arr = drawHabit(h.arrivalSlot, weekend, zArrival, true);
  const targetKwh = h.targetSocFraction * ev.capacityKwh;
  // The car leaves with at least the target, so a trip up to target − socMin keeps the SoC ≥ socMin.
  const tripKwh = Math.min(drawHabit(h.tripKwh, weekend, zEnergy, false), targetKwh - ev.socMinKwh);
  return { arrival: clamp(Math.max(arr, departure + 1), 1, SLOTS - 1), tripKwh };
}

/** Slots [from, to] that appliance i's request window may cover under its habits. */
export function possibleWindow(s: Scenario, i: number): [number, number] {
  const a = s.appliances[i];
  const length = a.window[1] - a.window[0] + 1;
  const h = a.habits;
  if ('releaseSlot' in h) {
    const [lo, hi] = habitSupport(h.releaseSlot, true);
    return [clamp(lo, 0, SLOTS - length), clamp(hi, 0, SLOTS - length) + length - 1];
  }
  const reach = releaseShift(h.releaseSdSlots, RELEASE_SDS);
  const from = clamp(a.window[0] - reach, 0, SLOTS - length);
  return [from, clamp(a.window[0] + reach, 0, SLOTS - length) + length - 1];
}

/**
 * The worst-case EV headroom of every slot (see EvDay.headroomKw), from the habits alone: `baseKw`
 * is the scenario's highest base load per slot (Scenario.baseMaxKw), not the day's, which is not known ahead.
 */
export function evHeadroom(s: Scenario, ev: EvSpec, baseKw: Float64Array): Float64Array {
  const h = new Float64Array(SLOTS);
  const windows = s.appliances.map((_, i) => possibleWindow(s, i));
  for (let t = 0; t < SLOTS; t++) {
    let worst = baseKw[t];
    windows.forEach(([from, to], i) => {
      if (from <= t && t <= to) worst += s.applianceMaxKw[i];
    });
    const steps = Math.min(ev.chargeSteps, Math.floor((s.grid.contractKw - worst) / ev.chargeStepKw + 1e-9));
    h[t] = Math.max(0, steps) * ev.chargeStepKw;
  }
  return h;
}

/**
 * Backward recursion for EvDay.floorKwh. Before the departure: from the target at departure. From
 * the departure on (and all day without a trip): from the SoC of 00:00 at midnight, as if the car
 * were home, so the curve is the same whatever the trip and known from 00:00. The car may come back
 * below it (a long trip, a late return); the env then lowers the rest of the curve by that deficit
 * (core.ts), and J pays what is still short at midnight (score.ts, S).
 */
export function evFloors(ev: EvSpec, d: Pick<EvDay, 'trip' | 'departure' | 'targetKwh' | 'headroomKw' | 'soc0Kwh'>): Float64Array {
  const f = new Float64Array(SLOTS + 1);
  const lo = ev.socMinKwh;
  const step = (t: number, next: number) => Math.max(lo, next - d.headroomKw[t] * ev.chargeEfficiency * DT);
  f[SLOTS] = Math.max(lo, d.soc0Kwh);
  const evening = d.trip ? d.departure : 0;
  for (let t = SLOTS - 1; t >= evening; t--) f[t] = step(t, f[t + 1]);
  if (!d.trip) return f;
  f[d.departure] = Math.max(lo, d.targetKwh);
  for (let t = d.departure - 1; t >= 0; t--) f[t] = step(t, f[t + 1]);
  return f;
}

/** The evening floor's deficit when the car comes back with `socKwh` at slot `arrival` (core.ts). */
export const evArrivalDeficit = (d: Pick<EvDay, 'floorKwh'>, arrival: number, socKwh: number): number => Math.max(0, d.floorKwh[arrival] - socKwh);

/**
 * evHeadroom of the scenario, computed once: it depends on the scenario alone, and no code writes
 * into a Day's arrays, so every drawn day shares it (as days share their PV and base-load profiles).
 */
const headrooms = new WeakMap<Scenario, Float64Array>();
function scenarioHeadroom(s: Scenario, ev: EvSpec): Float64Array {
  let h = headrooms.get(s);
  if (!h) headrooms.set(s, (h = evHeadroom(s, ev, s.baseMaxKw)));
  return h;
}

function drawEv(s: Scenario, ev: EvSpec, weekend: boolean, rng: Rng): EvDay {
  const h = ev.habits;
  const soc0Kwh = ev.capacityKwh * (h.initialSocFraction.min + (h.initialSocFraction.max - h.initialSocFraction.min) * rng.float());
  let trip = rng.float() < (weekend ? h.weekendTripProbability : h.weekdayTripProbability);
  const dep = drawHabit(h.departureSlot, weekend, rng.normal(), true);
  const zArrival = rng.normal();
  const { arrival: arr, tripKwh } = tripDraw(ev, dep, zArrival, rng.normal(), weekend);
  const targetKwh = h.targetSocFraction * ev.capacityKwh;
  const headroomKw = scenarioHeadroom(s, ev);
  let floorKwh = evFloors(ev, { trip, departure: dep, targetKwh, headroomKw, soc0Kwh });
  // The plan is known at 00:00: a target the contract cannot reach by the departure keeps the car home.
  if (trip && floorKwh[0] > soc0Kwh + 1e-9) {
    trip = false;
    floorKwh = evFloors(ev, { trip, departure: -1, targetKwh, headroomKw, soc0Kwh });
  }
  const home = new Uint8Array(SLOTS).fill(1);
  if (trip) home.fill(0, dep, arr);
  return { soc0Kwh, trip, departure: trip ? dep : -1, arrival: trip ? arr : -1, tripKwh: trip ? tripKwh : 0, targetKwh, home, headroomKw, floorKwh };
}

/**
 * Draw day `seed` of a scenario: the weekday, PV and base load from one date of the profile year
 * (`opts.date`, taken modulo the year, when given), each appliance's request from its habits, the
 * EV's trip. Deterministic in (scenario, seed, date).
 */
export function drawDay(s: Scenario, seed: number, opts: { date?: number } = {}): Day {
  const rng = new Rng(seed);
  const dates = Math.max(s.pvDays.length, s.baseDays.length);
  // A given date (the homes of a neighbourhood share the weather) still takes its draw, so the rest of the day is the same.
  const drawn = rng.int(0, dates - 1);
  const date = opts.date === undefined ? drawn : opts.date % dates;
  const pvDay = s.pvDays.length > 1 ? date : 0;
  const baseDay = s.baseDays.length > 1 ? date : 0;
  const typed = s.pvDayTypes[pvDay] || s.baseDayTypes[baseDay];
  const dayType = typed >= 1 && typed <= 7 ? typed : rng.int(1, 7);
  const weekend = dayType >= 6;
  const requests = s.appliances.map((_, i) => drawRequest(s, i, weekend, rng));
  const ev = s.ev ? drawEv(s, s.ev, weekend, rng) : null;
  // completeDay's Day (same fields, same order), without its spread: drawing days is on the community's hot path.
  const day: Day = { seed, dayType, weekend, pvDay: date, pvKw: s.pvDays[pvDay], baseKw: s.baseDays[baseDay], requests, ev, meanLoadKw: 0, referencePeakKw: 0 };
  day.meanLoadKw = meanLoad(s, day);
  day.referencePeakKw = noManagementPeak(s, day);
  return day;
}

/**
 * A day from its draws: the mean load q of F.O.2 (base, every requested cycle, the trip's energy
 * at the charger) and the RESCoin peak reference (the day played with no management). The MPC and
 * the bound complete their forecast days with it, as drawDay does.
 */
export function completeDay(s: Scenario, d: Omit<Day, 'meanLoadKw' | 'referencePeakKw'>): Day {
  const day: Day = { ...d, meanLoadKw: meanLoad(s, d), referencePeakKw: 0 };
  day.referencePeakKw = noManagementPeak(s, day);
  return day;
}

/** Each appliance's cycle energy Σ kW (per slot), summed once per scenario. */
const cycleSums = new WeakMap<Scenario, Float64Array>();

/** q of eq. (5): the fixed loads, the requested cycles and the trip's energy at the charger, per hour. */
function meanLoad(s: Scenario, d: Omit<Day, 'meanLoadKw' | 'referencePeakKw'>): number {
  let sums = cycleSums.get(s);
  if (!sums) cycleSums.set(s, (sums = Float64Array.from(s.appliances, (a) => a.cycleKw.reduce((x, y) => x + y, 0))));
  let energy = 0;
  for (let t = 0; t < SLOTS; t++) energy += d.baseKw[t] * DT;
  for (const r of d.requests) if (r) energy += sums[r.appliance] * DT;
  if (d.ev && s.ev) energy += d.ev.tripKwh / s.ev.chargeEfficiency;
  return energy / (SLOTS * DT);
}

/**
 * The same day with another trip (the bound's trip scenarios, baseline/bound.ts): the return slot
 * `arrival` and the energy `tripKwh` (capped at target − socMin, as drawEv caps it), with the EV's
 * home slots, q and the RESCoin peak reference recomputed as drawDay computes them. The plan
 * (departure, target) and the floor curve, known from 00:00, do not depend on the trip.
 */
export function withTrip(s: Scenario, day: Day, arrival: number, tripKwh: number): Day {
  const d = day.ev;
  if (!d || !s.ev || !d.trip) throw new Error(`withTrip: day ${day.seed} has no trip`);
  if (!Number.isInteger(arrival) || arrival <= d.departure || arrival > SLOTS - 1)
    throw new Error(`withTrip: arrival must be an integer slot in [${d.departure + 1}, ${SLOTS - 1}] (after the departure), got ${arrival}`);
  if (!(tripKwh >= 0)) throw new Error(`withTrip: tripKwh must be ≥ 0, got ${tripKwh}`);
  const home = new Uint8Array(SLOTS).fill(1);
  home.fill(0, d.departure, arrival);
  const ev: EvDay = { ...d, arrival, tripKwh: Math.min(tripKwh, d.targetKwh - s.ev.socMinKwh), home };
  const { meanLoadKw: _q, referencePeakKw: _ref, ...draws } = day;
  return completeDay(s, { ...draws, ev });
}

/** The import peak of the day played with no management (DESIGN.md: the RESCoin peak reference). */
const referenceCores = new WeakMap<Scenario, { core: HomeCore; action: Int32Array }>();
function noManagementPeak(s: Scenario, day: Day): number {
  let ref = referenceCores.get(s);
  if (!ref) {
    const core = new HomeCore(s);
    referenceCores.set(s, (ref = { core, action: new Int32Array(core.nComponents) }));
  }
  const { core, action } = ref;
  core.begin(day);
  // HomeCore.step without its reward: the peak is the controller's, and the reward is not needed.
  for (let t = 0; t < SLOTS; t++) {
    noManagementAction(core, action);
    core.apply(action, 0);
    if (t < SLOTS - 1) core.sense();
  }
  return core.peakKw;
}
