import { hoursInDay, localOfInstant, parseStamp } from './clock.js';
import { cell, column, numberCell, readCsv } from './csv.js';
import { InputError } from './errors.js';
import { addCovered, fileObservations, slotOf } from './import-common.js';
import { hourlyDays } from './import-hourly.js';
import type { LocalDay, Observations } from './observations.js';

/**
 * The OPSD household file (data/opsd_household_konstanz/SOURCE.md): cumulative kWh per channel,
 * hourly, `utc_timestamp` at the start of each hour. Local days are Europe/Berlin, from the file's
 * own cet_cest_timestamp, whatever --tz says.
 *
 * An hour's energy is the next reading minus this one. An hour is unknown when either reading is
 * empty, the readings are not an hour apart, the difference is negative, or it exceeds the
 * channel's CAP: those are the meter catch-ups after gaps that SOURCE.md warns about.
 */
export const OPSD_TZ = 'Europe/Berlin';
const PREFIX = 'DE_KN_residential4_';
/** kWh in one hour no real reading exceeds: a 16 A circuit for appliances, well above the ~10 kWp PV's 8.5 for the rest. */
const CAP: Record<string, number> = { dishwasher: 3.7, washing_machine: 3.7, pv: 15, grid_import: 15, grid_export: 15 };
/** Appliance channels → the model's appliance ids. */
export const OPSD_APPLIANCES: Record<string, string> = { dishwasher: 'dishwasher', washing_machine: 'washing-machine' };
/**
 * A run starts at an hour above this energy after an hour at or below it. The dishwasher's idle
 * hours read 0.00–0.04 kWh (standby, the odd pump) and its heating hours 0.2–0.9, the washing
 * machine's likewise; 0.1 kWh lies in the empty valley between.
 */
export const RUN_THRESHOLD_KWH = 0.1;

const HOUR = 3_600_000;

function hourlyEnergy(t: ReturnType<typeof readCsv>, times: number[], channel: string): number[] {
  const col = column(t, PREFIX + channel);
  const v = t.rows.map((row) => numberCell(t, row, col, true));
  return v.map((x, i) => {
    const e = i + 1 < v.length && times[i + 1] - times[i] === HOUR ? v[i + 1] - x : NaN;
    return e >= 0 && e <= CAP[channel] ? e : NaN;
  });
}

export function readOpsd(path: string): Observations {
  const o = fileObservations(path, 'opsd');
  const t = readCsv(path);
  const cu = column(t, 'utc_timestamp');
  const times = t.rows.map((row) => {
    const s = parseStamp(cell(row, cu));
    if (!s || s.offsetMs === null) throw new InputError(path, row.line, 'utc_timestamp', cell(row, cu), 'a UTC timestamp such as 2015-10-04T01:00:00Z');
    return s.wallMs - s.offsetMs;
  });
  const locals = times.map((u) => localOfInstant(u, OPSD_TZ));
  for (const [channel, id] of Object.entries(OPSD_APPLIANCES)) {
    const e = hourlyEnergy(t, times, channel);
    const known = new Map<string, { day: LocalDay; n: number }>();
    e.forEach((x, i) => {
      if (!Number.isFinite(x)) return;
      const k = known.get(locals[i].day.date) ?? { day: locals[i].day, n: 0 };
      k.n++;
      known.set(locals[i].day.date, k);
      if (!(x > RUN_THRESHOLD_KWH) || !(e[i - 1] <= RUN_THRESHOLD_KWH)) return;
      let j = i;
      let kwh = 0;
      while (j < e.length && e[j] > RUN_THRESHOLD_KWH) kwh += e[j++];
      o.runs.push({ appliance: id, day: locals[i].day, startSlot: slotOf(locals[i].minute), slots: (j - i) * 4, kwh, at: { file: path, line: t.rows[i].line } });
    });
    addCovered(o.applianceDays, id, [...known.values()].filter((k) => k.n === hoursInDay(k.day.date, OPSD_TZ)).map((k) => k.day));
  }
  const [imp, exp, pv] = ['grid_import', 'grid_export', 'pv'].map((c) => hourlyEnergy(t, times, c));
  // The house's own use: what it drew, less what it fed in, plus all it made.
  const samples = times.map((utcMs, i) => ({ utcMs, load: Math.max(0, imp[i] - exp[i] + pv[i]), pv: pv[i], line: t.rows[i].line }));
  o.meter.push(...hourlyDays(samples, OPSD_TZ, path, true, o.notes));
  return o;
}
