import { normalCdf } from '../env/habits.js';
import { SLOTS } from '../env/time.js';
import type { EvSession, LocalDay, Observations } from './observations.js';
import { isOvernight } from './import-norway.js';

/**
 * The EV's habits from charging sessions, and the distribution fits the appliances share.
 *
 * The model's day: the car is home at 00:00, leaves once (departure) and comes back the same day
 * (arrival); the trip's energy is taken at arrival and charged back before the next departure. A
 * session (plug-in → plug-out) therefore carries one trip's arrival (its plug-in), the energy that
 * trip took (its kWh × charge efficiency: what charging put back), and the next trip's departure
 * (its plug-out). Only overnight sessions fit that day (`fitsModelDay`); the others are counted and left out.
 */

export type Form = 'empirical' | 'normal';

export interface Normal {
  mean: number;
  sd: number;
  min: number;
  max: number;
}
export interface HistogramJson {
  histogram: { start: number; width: number; weekday: number[]; weekend?: number[] };
}
export type DistributionJson = Normal | HistogramJson;

export const isWeekend = (d: LocalDay): boolean => d.dayType >= 6;

/**
 * The session rule: the importer's `isOvernight` (the one that gives paper-apartment's 2,538
 * Norwegian sessions): plugged in at 07:00 or later, out on the next calendar day between 02:00
 * and 12:59, at most 24 h later. A morning departure and a later arrival is what the model's day
 * can hold; the rest are daytime top-ups or multi-day stays.
 */
export const fitsModelDay = (s: EvSession): boolean => isOvernight(s);

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The p-quantile of sorted values (linear between order statistics, as numpy's default). */
export function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * Counts in bins of `width` from a common start, weekday and weekend apart. A day type without
 * data takes the other's counts (the schema needs weights > 0; the model then draws the same).
 */
export function histogramOf(weekday: readonly number[], weekend: readonly number[], width: number): HistogramJson {
  const all = [...weekday, ...weekend];
  if (all.length === 0) throw new Error('histogramOf: no values');
  const start = Math.floor(Math.min(...all) / width) * width;
  const bins = Math.floor((Math.max(...all) - start) / width) + 1;
  const count = (xs: readonly number[]) => {
    const c = new Array<number>(bins).fill(0);
    for (const x of xs) c[Math.min(bins - 1, Math.floor((x - start) / width))]++;
    return c;
  };
  const wd = weekday.length ? count(weekday) : count(weekend);
  const we = weekend.length ? count(weekend) : wd;
  return { histogram: { start, width, weekday: wd, weekend: we } };
}

/**
 * A clipped normal {mean, sd, min, max} by maximum likelihood. min and max are the data's 1st and
 * 99th percentiles (a single odd session must not widen the support); values at or beyond them are
 * censored (the model piles its clipped mass there), so mean and sd are those of the normal before
 * clipping, not of the clipped data. `whole`: the values are slots, rounded from the normal, so
 * value v stands for [v − ½, v + ½).
 */
export function fitClippedNormal(values: readonly number[], whole: boolean): Normal {
  const sorted = [...values].sort((a, b) => a - b);
  let min = quantile(sorted, 0.01);
  let max = quantile(sorted, 0.99);
  if (whole) [min, max] = [Math.round(min), Math.round(max)];
  else [min, max] = [round(min, 2), round(max, 2)];
  // Group equal values: slots have at most 96 distinct ones, so the likelihood is cheap.
  const counts = new Map<number, number>();
  for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
  const groups = [...counts];
  const logLik = (mu: number, sigma: number): number => {
    let ll = 0;
    for (const [v, n] of groups) {
      let p: number;
      if (v <= min) p = normalCdf(((whole ? min + 0.5 : min) - mu) / sigma);
      else if (v >= max) p = 1 - normalCdf(((whole ? max - 0.5 : max) - mu) / sigma);
      else if (whole) p = normalCdf((v + 0.5 - mu) / sigma) - normalCdf((v - 0.5 - mu) / sigma);
      else p = Math.exp(-(((v - mu) / sigma) ** 2) / 2) / sigma;
      ll += n * Math.log(Math.max(p, 1e-300));
    }
    return ll;
  };
  const m0 = mean(sorted);
  const s0 = Math.max(sampleSd(sorted), whole ? 0.3 : 0.01);
  if (max <= min) return { mean: round(m0, 2), sd: 0, min, max: min };
  const [mu, logSigma] = nelderMead(([m, ls]) => -logLik(m, Math.exp(ls)), [m0, Math.log(s0)], [s0 / 2, 0.3]);
  return { mean: round(mu, 2), sd: round(Math.exp(logSigma), 3), min, max };
}

/** Nelder–Mead in two dimensions: the likelihood is smooth and has one maximum; 400 steps suffice. */
function nelderMead(f: (x: number[]) => number, x0: number[], step: number[]): number[] {
  let pts = [x0, [x0[0] + step[0], x0[1]], [x0[0], x0[1] + step[1]]].map((x) => ({ x, v: f(x) }));
  for (let it = 0; it < 400; it++) {
    pts.sort((a, b) => a.v - b.v);
    const [best, mid, worst] = pts;
    if (Math.abs(worst.v - best.v) < 1e-10 * (1 + Math.abs(best.v))) break;
    const c = [(best.x[0] + mid.x[0]) / 2, (best.x[1] + mid.x[1]) / 2];
    const at = (t: number) => [c[0] + t * (worst.x[0] - c[0]), c[1] + t * (worst.x[1] - c[1])];
    const r = { x: at(-1), v: f(at(-1)) };
    if (r.v < best.v) {
      const e = { x: at(-2), v: f(at(-2)) };
      pts = [best, mid, e.v < r.v ? e : r];
    } else if (r.v < mid.v) pts = [best, mid, r];
    else {
      const k = { x: at(0.5), v: f(at(0.5)) };
      if (k.v < worst.v) pts = [best, mid, k];
      else pts = pts.map((p) => (p === best ? p : { x: [(p.x[0] + best.x[0]) / 2, (p.x[1] + best.x[1]) / 2], v: f([(p.x[0] + best.x[0]) / 2, (p.x[1] + best.x[1]) / 2]) }));
    }
  }
  return pts.sort((a, b) => a.v - b.v)[0].x;
}

/** One distribution in the chosen form: 1-slot bins for slots, 1-kWh bins for energy. */
export function fitDistribution(weekday: readonly number[], weekend: readonly number[], form: Form, whole: boolean): DistributionJson {
  if (form === 'empirical') return histogramOf(weekday, weekend, 1);
  return fitClippedNormal([...weekday, ...weekend], whole);
}

export interface EvSummary {
  /** Sessions that fit the model's day, and those left out (with the reason's counts). */
  sessions: number;
  leftOut: number;
  users: number;
  plugInMeanHours: number;
  plugInSdHours: number;
  plugOutModeHour: number;
  plugOutMeanHours: number;
  medianKwhKept: number;
  medianKwhAll: number;
}

/** A slot's start, in hours: the time the scenario's slots name (and what paper-apartment's figures average). */
const hours = (slot: number) => slot / 4;

/** The figures paper-apartment's `ev.source` cites, for the sessions that `keep` keeps. */
export function evSummary(sessions: readonly EvSession[], keep: (s: EvSession) => boolean = fitsModelDay): EvSummary {
  const kept = sessions.filter(keep);
  const inH = kept.map((s) => hours(s.plugIn.slot));
  const outHour = new Array<number>(24).fill(0);
  for (const s of kept) outHour[Math.floor(s.plugOut.slot / 4)]++;
  const median = (xs: number[]) => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5) : NaN);
  return {
    sessions: kept.length,
    leftOut: sessions.length - kept.length,
    users: new Set(kept.map((s) => s.user)).size,
    plugInMeanHours: mean(inH),
    plugInSdHours: sampleSd(inH),
    plugOutModeHour: outHour.indexOf(Math.max(...outHour)),
    plugOutMeanHours: mean(kept.map((s) => hours(s.plugOut.slot))),
    medianKwhKept: median(kept.map((s) => s.kwh)),
    medianKwhAll: median(sessions.map((s) => s.kwh)),
  };
}

export interface EvFit {
  habits: {
    weekdayTripProbability?: number;
    weekendTripProbability?: number;
    departureSlot: DistributionJson;
    arrivalSlot: DistributionJson;
    tripKwh: DistributionJson;
  };
  summary: EvSummary;
  messages: string[];
}

/** Days of each type that are covered, and those among them with a departure (a plug-out). */
export function tripShares(obs: Pick<Observations, 'evDays' | 'sessions'>): { weekday: [number, number]; weekend: [number, number] } {
  const out = new Set(obs.sessions.map((s) => `${s.user}|${s.plugOut.date}`));
  const res = { weekday: [0, 0] as [number, number], weekend: [0, 0] as [number, number] };
  for (const [user, days] of obs.evDays)
    for (const d of new Set(days.map((x) => JSON.stringify(x)))) {
      const day = JSON.parse(d) as LocalDay;
      const r = isWeekend(day) ? res.weekend : res.weekday;
      r[0]++;
      if (out.has(`${user}|${day.date}`)) r[1]++;
    }
  return res;
}

/** The EV's habits from the sessions (see the header); `chargeEfficiency` is the base's ηc. */
export function fitEv(obs: Pick<Observations, 'evDays' | 'sessions'>, chargeEfficiency: number, form: Form): EvFit {
  const kept = obs.sessions.filter(fitsModelDay);
  if (kept.length === 0) throw new Error(`none of the ${obs.sessions.length} EV sessions is overnight (plugged in from 07:00, out the next day between 02:00 and 12:59, at most 24 h later): nothing to fit the EV's habits from`);
  const byType = <T>(f: (s: EvSession) => T, day: (s: EvSession) => LocalDay) => ({
    weekday: kept.filter((s) => !isWeekend(day(s))).map(f),
    weekend: kept.filter((s) => isWeekend(day(s))).map(f),
  });
  // A trip's departure is on the plug-out day; its arrival and energy on the plug-in day.
  const dep = byType((s) => s.plugOut.slot, (s) => s.plugOut);
  const arr = byType((s) => Math.min(SLOTS - 1, Math.max(1, s.plugIn.slot)), (s) => s.plugIn);
  const kwh = byType((s) => s.kwh * chargeEfficiency, (s) => s.plugIn);
  const habits: EvFit['habits'] = {
    departureSlot: fitDistribution(dep.weekday, dep.weekend, form, true),
    arrivalSlot: fitDistribution(arr.weekday, arr.weekend, form, true),
    tripKwh: fitDistribution(kwh.weekday, kwh.weekend, form, false),
  };
  const messages = [`EV: ${kept.length} overnight sessions of ${new Set(kept.map((s) => s.user)).size} users fitted; ${obs.sessions.length - kept.length} others left out (not overnight: in from 07:00, out the next day 02:00–12:59, ≤ 24 h)`];
  const shares = tripShares(obs);
  for (const type of ['weekday', 'weekend'] as const) {
    const [days, trips] = shares[type];
    if (days > 0) habits[`${type}TripProbability`] = round(trips / days, 4);
    else messages.push(`EV: no ${type} covered: its trip probability stays the base's`);
  }
  return { habits, summary: evSummary(obs.sessions), messages };
}
