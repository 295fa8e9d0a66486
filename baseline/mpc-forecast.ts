import {
  completeDay,
  evFloors,
  evHeadroom,
  releaseSlot,
  Rng,
  SLOTS,
  tripDraw,
  type Day,
  type EvDay,
  type HomeView,
  type Request,
  type Scenario,
} from '../env/index.js';

/**
 * What the MPC knows at slot t (docs/environment.md, "Information set"), kept from the slots it has
 * seen, and the forecast days it builds from it. Nothing here reads a Day: every number comes from
 * the scenario, the observation and the HomeView of the slots so far.
 */

/** Draws per habit for the empirical conditional distributions (a fixed seed: the same forecast every time). */
const HABIT_DRAWS = 2000;

/** The past of the day as the gateway saw it. */
export class MpcMemory {
  weekend = false;
  readonly pvKw = new Float64Array(SLOTS);
  /** The base load read so far; later slots are forecast at the scenario's mean base-load day. */
  readonly baseKw = new Float64Array(SLOTS);
  private seenTo = -1;
  /** Per appliance: the release and deadline of its request once seen (null: none seen). */
  readonly seen: (Request | null)[];
  /** Per appliance: the slots its cycle ran in. */
  readonly ran: number[][];
  private readonly prevRemaining: Int32Array;
  /** EV: SoC of 00:00, the plan (trip, departure, target), the level played per slot, the trip once back. */
  soc0Kwh = 0;
  trip = false;
  departure = -1;
  targetKwh = 0;
  readonly evLevel = new Int32Array(SLOTS);
  arrival = -1;
  tripKwh = 0;
  private prevSoc = 0;
  private wasHome = true;

  constructor(readonly s: Scenario) {
    this.seen = s.appliances.map(() => null);
    this.ran = s.appliances.map(() => []);
    this.prevRemaining = new Int32Array(s.appliances.length);
  }

  /** Take in slot t's view (call once per slot, in order, before deciding). `lastEv`: the EV index played at t − 1. */
  observe(t: number, h: HomeView, weekend: boolean, pvNowKw: number, lastEv: number): void {
    if (t === 0) this.begin(h, weekend);
    this.pvKw[t] = pvNowKw;
    this.baseKw[t] = h.baseKw;
    this.seenTo = t;
    this.s.appliances.forEach((a, i) => {
      if (t > 0 && h.remaining[i] < this.prevRemaining[i]) this.ran[i].push(t - 1);
      this.prevRemaining[i] = h.remaining[i];
      if (!this.seen[i] && h.deadline[i] >= 0) this.seen[i] = { appliance: i, release: t, deadline: h.deadline[i] };
    });
    const e = h.ev;
    if (!e) return;
    if (t > 0) this.evLevel[t - 1] = this.wasHome ? lastEv : 0;
    if (this.trip && e.home && !this.wasHome && this.arrival < 0) {
      this.arrival = t;
      this.tripKwh = this.prevSoc - e.socKwh;
    }
    this.wasHome = e.home;
    this.prevSoc = e.socKwh;
  }

  /** The day's base load as known now: the readings up to the last slot seen, the scenario's mean after. */
  forecastBase(): Float64Array {
    const b = Float64Array.from(this.s.baseMeanKw);
    b.set(this.baseKw.subarray(0, this.seenTo + 1));
    return b;
  }

  private begin(h: HomeView, weekend: boolean): void {
    this.weekend = weekend;
    this.seen.fill(null);
    this.ran.forEach((r) => (r.length = 0));
    this.prevRemaining.fill(0);
    this.evLevel.fill(0);
    this.arrival = -1;
    this.tripKwh = 0;
    this.wasHome = true;
    const e = h.ev;
    if (!e) return;
    // The plan is read at 00:00: ev.due is the departure on a trip day, the end of the day otherwise.
    this.soc0Kwh = e.startKwh;
    this.trip = e.dueSlot < SLOTS;
    this.departure = this.trip ? e.dueSlot : -1;
    this.targetKwh = this.trip ? e.socKwh + e.neededKwh : e.startKwh;
    this.prevSoc = e.socKwh;
  }
}

/** The habits' unconditional draws, to condition on what has not happened by slot t. */
export class HabitSampler {
  /** releases[w][i]: appliance i's release draws on a weekday (w = 0) or a weekend day (w = 1), from the same normal numbers. */
  private readonly releases: Int32Array[][];
  private readonly zArrival: Float64Array;
  private readonly zEnergy: Float64Array;
  /** The scenario's mean PV per slot over its profile days, kW (the forecast beyond the observation's). */
  readonly climatePvKw: Float64Array;

  constructor(readonly s: Scenario) {
    const rng = new Rng(0x3c0f);
    const zRelease = s.appliances.map(() => Float64Array.from({ length: HABIT_DRAWS }, () => rng.normal()));
    this.releases = [false, true].map((weekend) => s.appliances.map((a, i) => Int32Array.from(zRelease[i], (z) => releaseSlot(a, z, weekend))));
    this.zArrival = Float64Array.from({ length: HABIT_DRAWS }, () => rng.normal());
    this.zEnergy = Float64Array.from({ length: HABIT_DRAWS }, () => rng.normal());
    this.climatePvKw = new Float64Array(SLOTS);
    for (const d of s.pvDays) for (let t = 0; t < SLOTS; t++) this.climatePvKw[t] += d[t] / s.pvDays.length;
  }

  /** Releases after slot t, and the probability that an unseen request of appliance i still comes. */
  laterRequest(i: number, t: number, weekend: boolean): { p: number; releases: number[] } {
    const a = this.s.appliances[i];
    const ask = weekend ? a.habits.weekendProbability : a.habits.weekdayProbability;
    const releases = Array.from(this.releases[weekend ? 1 : 0][i]).filter((r) => r > t);
    const late = releases.length / HABIT_DRAWS;
    const p = ask * late > 0 ? (ask * late) / (1 - ask + ask * late) : 0;
    return { p, releases };
  }

  /** Trips (return slot after t, energy) the habits give, given the departure. */
  laterTrips(departure: number, t: number, weekend: boolean): { arrival: number; tripKwh: number }[] {
    const ev = this.s.ev!;
    const out: { arrival: number; tripKwh: number }[] = [];
    for (let k = 0; k < HABIT_DRAWS; k++) {
      const d = tripDraw(ev, departure, this.zArrival[k], this.zEnergy[k], weekend);
      if (d.arrival > t) out.push(d);
    }
    return out.length ? out : [{ arrival: Math.min(SLOTS - 1, t + 1), tripKwh: tripDraw(ev, departure, 0, 0, weekend).tripKwh }];
  }
}

/** The future of a forecast day: the requests not seen yet and the trip while the car is away. */
export interface Future {
  requests: (Request | null)[];
  trip: { arrival: number; tripKwh: number } | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The point forecast: an unseen request comes if it more likely does than not (at its median release), the trip at its mean. */
export function expectedFuture(m: MpcMemory, hs: HabitSampler, t: number, tripQuantile: number | null = null): Future {
  const requests = m.s.appliances.map((a, i) => {
    if (m.seen[i]) return null;
    const { p, releases } = hs.laterRequest(i, t, m.weekend);
    if (p < 0.5 || !releases.length) return null;
    const release = median(releases);
    return { appliance: i, release, deadline: release + a.window[1] - a.window[0] };
  });
  let trip = null;
  if (m.trip && m.arrival < 0) {
    const trips = hs.laterTrips(m.departure, t, m.weekend);
    const pick = (xs: number[]) => (tripQuantile === null ? mean(xs) : quantile(xs, tripQuantile));
    trip = { arrival: Math.round(Math.max(t + 1, pick(trips.map((x) => x.arrival)))), tripKwh: pick(trips.map((x) => x.tripKwh)) };
  }
  return { requests, trip };
}

/** A future drawn from the habits, conditioned on what has not happened by slot t. */
export function sampledFuture(m: MpcMemory, hs: HabitSampler, t: number, rng: Rng): Future {
  const requests = m.s.appliances.map((a, i) => {
    if (m.seen[i]) return null;
    const { p, releases } = hs.laterRequest(i, t, m.weekend);
    const u = rng.float();
    const k = rng.int(0, Math.max(0, releases.length - 1));
    if (u >= p || !releases.length) return null;
    return { appliance: i, release: releases[k], deadline: releases[k] + a.window[1] - a.window[0] };
  });
  let trip = null;
  if (m.trip && m.arrival < 0) {
    const trips = hs.laterTrips(m.departure, t, m.weekend);
    trip = trips[rng.int(0, trips.length - 1)];
  }
  return { requests, trip };
}

/**
 * The PV of the day as known at slot t: the readings so far, the observation's forecast over the
 * next 4 and 16 slots (the climatology's shape scaled to their means), the climatology beyond.
 */
export function forecastPv(m: MpcMemory, hs: HabitSampler, t: number, next1hKw: number, next4hKw: number): Float64Array {
  const pv = new Float64Array(SLOTS);
  pv.set(m.pvKw.subarray(0, t + 1));
  const c = hs.climatePvKw;
  const fit = (from: number, to: number, meanKw: number) => {
    let sum = 0;
    for (let u = from; u <= to && u < SLOTS; u++) sum += c[u];
    const n = Math.min(to, SLOTS - 1) - from + 1;
    for (let u = from; u <= to && u < SLOTS; u++) pv[u] = sum > 1e-9 ? (c[u] * meanKw * n) / sum : meanKw;
  };
  for (let u = t + 1; u < SLOTS; u++) pv[u] = c[u];
  fit(t + 1, t + 4, next1hKw);
  // The 4-hour mean covers the next hour too: what is left of it falls on slots t+5…t+16.
  const n4 = Math.min(16, SLOTS - 1 - t);
  const n1 = Math.min(4, n4);
  if (n4 > n1) fit(t + 5, t + 16, Math.max(0, (next4hKw * n4 - next1hKw * n1) / (n4 - n1)));
  return pv;
}

/** The forecast day: the past as it was, the requests seen, the given future. */
export function forecastDay(m: MpcMemory, pvKw: Float64Array, f: Future): Day {
  const s = m.s;
  const requests = s.appliances.map((_, i) => m.seen[i] ?? f.requests[i]);
  let ev: EvDay | null = null;
  if (s.ev) {
    const spec = s.ev;
    const trip = m.trip;
    const arrival = !trip ? -1 : m.arrival >= 0 ? m.arrival : f.trip!.arrival;
    const tripKwh = !trip ? 0 : m.arrival >= 0 ? m.tripKwh : f.trip!.tripKwh;
    const home = new Uint8Array(SLOTS).fill(1);
    if (trip) home.fill(0, m.departure, arrival);
    const headroomKw = evHeadroom(s, spec, s.baseMaxKw);
    const plan = { trip, departure: m.departure, targetKwh: m.targetKwh, headroomKw, soc0Kwh: m.soc0Kwh };
    ev = { soc0Kwh: m.soc0Kwh, trip, departure: m.departure, arrival, tripKwh, targetKwh: m.targetKwh, home, headroomKw, floorKwh: evFloors(spec, plan) };
  }
  return completeDay(s, { seed: 0, dayType: m.weekend ? 6 : 1, weekend: m.weekend, pvDay: -1, pvKw, baseKw: m.forecastBase(), requests, ev });
}
