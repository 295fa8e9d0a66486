import { dayRange, hoursInDay, localOfInstant } from './clock.js';
import type { ImportNote, MeterDay } from './observations.js';

/**
 * Hourly energies → local meter days, shared by the meter, OPSD and CityLearn importers.
 *
 * - A 25-hour day (clocks fall back): the repeated hour's two values are averaged; noted.
 * - A 23-hour day (spring forward): the hour that does not exist is interpolated; noted.
 * - Missing hours: a run of up to MAX_GAP hours is interpolated linearly between its neighbours
 *   (the nearest value at the day's edge), one note each; a longer run drops the day, noted.
 */
export const MAX_GAP = 3;

/** One hour: energy from utcMs for an hour, kWh (= mean kW); NaN when not known. */
export interface HourSample {
  utcMs: number;
  load: number;
  pv: number | null;
  line: number;
}

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** Fills NaN runs of at most MAX_GAP in place; returns the runs filled, or null if one is longer. */
function fillGaps(xs: number[][]): Array<[number, number]> | null {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < 24; i++) {
    if (!xs.some((x) => Number.isNaN(x[i]))) continue;
    let j = i;
    while (j + 1 < 24 && xs.some((x) => Number.isNaN(x[j + 1]))) j++;
    if (j - i + 1 > MAX_GAP || (i === 0 && j === 23)) return null;
    runs.push([i, j]);
    i = j;
  }
  for (const x of xs)
    for (const [i, j] of runs) {
      const left = i > 0 ? x[i - 1] : x[j + 1];
      const right = j < 23 ? x[j + 1] : x[i - 1];
      for (let k = i; k <= j; k++) x[k] = left + ((right - left) * (k - i + 1)) / (j - i + 2);
    }
  return runs;
}

export function hourlyDays(samples: HourSample[], tz: string, file: string, hasPv: boolean, notes: ImportNote[]): MeterDay[] {
  const byDate = new Map<string, HourSample[][]>();
  for (const s of samples) {
    const local = localOfInstant(s.utcMs, tz);
    let hours = byDate.get(local.day.date);
    if (!hours) byDate.set(local.day.date, (hours = Array.from({ length: 24 }, () => [])));
    hours[Math.floor(local.minute / 60)].push(s);
  }
  const dates = [...byDate.keys()].sort();
  if (dates.length === 0) return [];
  const out: MeterDay[] = [];
  for (const day of dayRange(dates[0], dates[dates.length - 1])) {
    const hours = byDate.get(day.date);
    if (!hours) {
      notes.push({ at: { file, line: 0 }, message: `${day.date}: no data; day dropped` });
      continue;
    }
    const line = hours.flat()[0]?.line ?? 0;
    const at = { file, line };
    const n = hoursInDay(day.date, tz);
    const load: number[] = [];
    const pv: number[] = [];
    for (let h = 0; h < 24; h++) {
      const ok = hours[h].filter((s) => Number.isFinite(s.load) && (!hasPv || Number.isFinite(s.pv ?? NaN)));
      if (ok.length > 1) notes.push({ at: { file, line: ok[1].line }, message: `${day.date} has ${n} hours (clocks fall back): the repeated hour ${hh(h)} averaged` });
      else if (n === 23 && hours[h].length === 0) notes.push({ at, message: `${day.date} has 23 hours (clocks spring forward): hour ${hh(h)} filled by interpolation` });
      load.push(ok.length ? ok.reduce((a, s) => a + s.load, 0) / ok.length : NaN);
      pv.push(ok.length && hasPv ? ok.reduce((a, s) => a + (s.pv ?? 0), 0) / ok.length : NaN);
    }
    const runs = fillGaps(hasPv ? [load, pv] : [load]);
    if (!runs) {
      notes.push({ at, message: `${day.date}: more than ${MAX_GAP} hours missing in a row; day dropped` });
      continue;
    }
    for (const [i, j] of runs)
      if (!(n === 23 && i === j && hours[i].length === 0)) notes.push({ at, message: `${day.date}: hours ${hh(i)}–${hh(j + 1)} missing, interpolated` });
    out.push({ day, loadKw: load, pvKw: hasPv ? pv : null });
  }
  return out;
}
