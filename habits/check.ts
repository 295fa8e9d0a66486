import { drawDay, type Day } from '../env/day.js';
import { daySeed } from '../env/rng.js';
import type { Scenario } from '../env/scenario.js';
import { DT } from '../env/time.js';
import { addDays } from './clock.js';
import { fitsModelDay, isWeekend, mean } from './fit-ev.js';
import { ksDistance } from './ks.js';
import { emptyObservations, type LocalDay, type Observations } from './observations.js';

/**
 * `checkHabits`: draw N days from a scenario, turn them into Observations as a log would record
 * them (`drawObservations`), and compare both through the same extraction (`samplesOf`), so that
 * the model and the data are measured by one rule: the first run of a day, overnight sessions only.
 */

export type DayKind = 'weekday' | 'weekend';
const KINDS: readonly DayKind[] = ['weekday', 'weekend'];

/** A calendar date `d` days after 2001-01-01 (a stand-in: drawn days carry their own day type). */
const dateOf = (d: number) => addDays('2001-01-01', d);

/**
 * N days drawn from daySeed(seed, d), as a log of them: every appliance and the EV cover every
 * day; a request is a run at its release; trip k and the next trip k′ make the session plugged in
 * at k's arrival and out at k′'s departure, with the energy trip k took over the charge efficiency.
 */
export function drawObservations(s: Scenario, days: number, seed: number): Observations {
  const obs = emptyObservations();
  const local: LocalDay[] = [];
  const trips: { day: LocalDay; d: Day }[] = [];
  for (let k = 0; k < days; k++) {
    const d = drawDay(s, daySeed(seed, k));
    const day = { date: dateOf(k), dayType: d.dayType };
    local.push(day);
    for (const r of d.requests) {
      if (!r) continue;
      const a = s.appliances[r.appliance];
      obs.runs.push({ appliance: a.id, day, startSlot: r.release, slots: a.cycleKw.length, kwh: a.cycleKw.reduce((x, y) => x + y, 0) * DT, at: { file: 'model', line: k } });
    }
    if (d.ev?.trip) trips.push({ day, d });
  }
  for (const a of s.appliances) obs.applianceDays.set(a.id, local);
  if (s.ev) {
    obs.evDays.set('model', local);
    for (let k = 0; k + 1 < trips.length; k++) {
      const [t, next] = [trips[k], trips[k + 1]];
      obs.sessions.push({
        user: 'model',
        plugIn: { ...t.day, slot: t.d.ev!.arrival },
        plugOut: { ...next.day, slot: next.d.ev!.departure },
        kwh: t.d.ev!.tripKwh / s.ev.chargeEfficiency,
        at: { file: 'model', line: k },
      });
    }
  }
  return obs;
}

interface Share {
  days: number;
  hits: number;
}
type ByKind<T> = Record<DayKind, T>;
const byKind = <T>(f: () => T): ByKind<T> => ({ weekday: f(), weekend: f() });

export interface Samples {
  appliances: Map<string, { asked: ByKind<Share>; release: ByKind<number[]> }>;
  ev: { trip: ByKind<Share>; departure: ByKind<number[]>; arrival: ByKind<number[]>; tripKwh: ByKind<number[]> };
}

const kindOf = (d: LocalDay): DayKind => (isWeekend(d) ? 'weekend' : 'weekday');

/** What the check compares, from a log (the data's or the model's). */
export function samplesOf(obs: Observations, chargeEfficiency: number): Samples {
  const appliances: Samples['appliances'] = new Map();
  const ids = new Set([...obs.applianceDays.keys(), ...obs.runs.map((r) => r.appliance)]);
  for (const id of ids) {
    const first = new Map<string, number>();
    for (const r of obs.runs) if (r.appliance === id) first.set(r.day.date, Math.min(first.get(r.day.date) ?? Infinity, r.startSlot));
    const days = new Map((obs.applianceDays.get(id) ?? []).map((d) => [d.date, d]));
    for (const r of obs.runs) if (r.appliance === id) days.set(r.day.date, r.day);
    const a = { asked: byKind<Share>(() => ({ days: 0, hits: 0 })), release: byKind<number[]>(() => []) };
    for (const d of days.values()) {
      const k = kindOf(d);
      a.asked[k].days++;
      const slot = first.get(d.date);
      if (slot === undefined) continue;
      a.asked[k].hits++;
      a.release[k].push(slot);
    }
    appliances.set(id, a);
  }
  const ev: Samples['ev'] = { trip: byKind(() => ({ days: 0, hits: 0 })), departure: byKind(() => []), arrival: byKind(() => []), tripKwh: byKind(() => []) };
  const out = new Set(obs.sessions.map((x) => `${x.user}|${x.plugOut.date}`));
  for (const [user, days] of obs.evDays)
    for (const d of new Map(days.map((x) => [x.date, x])).values()) {
      ev.trip[kindOf(d)].days++;
      if (out.has(`${user}|${d.date}`)) ev.trip[kindOf(d)].hits++;
    }
  for (const x of obs.sessions.filter(fitsModelDay)) {
    ev.departure[kindOf(x.plugOut)].push(x.plugOut.slot);
    ev.arrival[kindOf(x.plugIn)].push(x.plugIn.slot);
    ev.tripKwh[kindOf(x.plugIn)].push(x.kwh * chargeEfficiency);
  }
  return { appliances, ev };
}

/** One line of the check's table: a frequency (KS null) or a distribution (mean and KS distance). */
export interface CheckRow {
  item: string;
  quantity: 'request' | 'release' | 'trip' | 'departure' | 'arrival' | 'tripKwh';
  day: DayKind;
  nData: number;
  nModel: number;
  data: number;
  model: number;
  ks: number | null;
}

export interface CheckResult {
  days: number;
  seed: number;
  rows: CheckRow[];
  /** The samples behind each distribution row, for the plots. */
  samples: { data: Samples; model: Samples };
}

function rowsOf(item: string, quantity: CheckRow['quantity'], data: ByKind<Share> | ByKind<number[]>, model: ByKind<Share> | ByKind<number[]>): CheckRow[] {
  return KINDS.flatMap((k): CheckRow[] => {
    const [d, m] = [data[k], model[k]];
    if (Array.isArray(d) && Array.isArray(m)) return d.length ? [{ item, quantity, day: k, nData: d.length, nModel: m.length, data: mean(d), model: m.length ? mean(m) : NaN, ks: ksDistance(d, m) }] : [];
    const [ds, ms] = [d as Share, m as Share];
    return ds.days ? [{ item, quantity, day: k, nData: ds.days, nModel: ms.days, data: ds.hits / ds.days, model: ms.days ? ms.hits / ms.days : NaN, ks: null }] : [];
  });
}

/** Compare a scenario's habits with observations over `days` drawn days (seeds daySeed(seed, d)). */
export function checkHabits(s: Scenario, obs: Observations, opts: { days: number; seed: number }): CheckResult {
  const eta = s.ev?.chargeEfficiency ?? 1;
  const data = samplesOf(obs, eta);
  const model = samplesOf(drawObservations(s, opts.days, opts.seed), eta);
  const rows: CheckRow[] = [];
  for (const [id, a] of data.appliances) {
    const m = model.appliances.get(id);
    if (!m) throw new Error(`appliance "${id}" in the data is not in scenario ${s.id}; expected one of: ${s.appliances.map((x) => x.id).join(', ')}`);
    rows.push(...rowsOf(id, 'request', a.asked, m.asked), ...rowsOf(id, 'release', a.release, m.release));
  }
  if (obs.sessions.length && s.ev)
    for (const q of ['trip', 'departure', 'arrival', 'tripKwh'] as const) rows.push(...rowsOf('ev', q, data.ev[q], model.ev[q]));
  return { days: opts.days, seed: opts.seed, rows, samples: { data, model } };
}

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** The table the CLI prints: frequencies as shares, distributions as means (slots as hh:mm). */
export function checkTable(r: CheckResult): string {
  const head = ['item', 'quantity', 'day', 'n data', 'data', 'model', 'KS'];
  const time = (slot: number) => {
    if (!Number.isFinite(slot)) return '-';
    const minutes = Math.round(slot * 15);
    return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  };
  const value = (row: CheckRow, x: number) => (row.ks === null ? fmt(x, 3) : row.quantity === 'tripKwh' ? `${fmt(x, 2)} kWh` : time(x));
  const body = r.rows.map((row) => [row.item, row.quantity, row.day, String(row.nData), value(row, row.data), value(row, row.model), row.ks === null ? '' : fmt(row.ks, 3)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...body.map(line), `(model: ${r.days} days drawn from seed ${r.seed}; request/trip: share of days; others: mean, and the two-sample KS distance)`].join('\n');
}
