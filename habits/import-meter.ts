import { parseStamp } from './clock.js';
import { column, numberCell, optionalColumn, readCsv } from './csv.js';
import { InputError } from './errors.js';
import { fileObservations, timeCell, type ImportOptions } from './import-common.js';
import { hourlyDays, type HourSample } from './import-hourly.js';
import type { Observations } from './observations.js';

const HOUR = 3_600_000;

/** Without --tz, local days follow the first row's own offset (whole hours only, as Etc/GMT∓h). */
function zoneOf(first: string | undefined, tz: string | undefined): string {
  if (tz) return tz;
  const s = first ? parseStamp(first) : null;
  if (s?.offsetMs == null || s.offsetMs % HOUR !== 0) return 'UTC';
  const h = s.offsetMs / HOUR;
  return h === 0 ? 'UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}

/**
 * A meter series, `timestamp,import_kwh,export_kwh` or `timestamp,load_kwh,pv_kwh`: energy in the
 * interval starting at each timestamp, hourly or finer, summed into local hours (mean kW). The
 * interval is the most common step between rows; an hour with rows missing is scaled up from the
 * rows it has. With import/export only, load = import − export clipped at 0 (PV is not metered, so
 * self-consumed PV is invisible) and pvKw is null; one note says so.
 */
export function readMeter(path: string, opts: ImportOptions = {}): Observations {
  const o = fileObservations(path, 'meter');
  const t = readCsv(path);
  const ct = column(t, 'timestamp');
  const net = optionalColumn(t, 'import_kwh') >= 0;
  const [ca, cb] = net ? [column(t, 'import_kwh'), column(t, 'export_kwh')] : [column(t, 'load_kwh'), column(t, 'pv_kwh')];
  const tz = zoneOf(t.rows[0]?.cells[ct], opts.tz);
  const rows = t.rows.map((row) => {
    const at = timeCell(t, row, ct, tz, o.notes);
    const [a, b] = [numberCell(t, row, ca, true), numberCell(t, row, cb, true)];
    return { utcMs: at.utcMs, load: net ? Math.max(0, a - b) : a, pv: net ? null : b, line: row.line };
  });
  const steps = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) steps.set(rows[i].utcMs - rows[i - 1].utcMs, (steps.get(rows[i].utcMs - rows[i - 1].utcMs) ?? 0) + 1);
  const step = [...steps.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? HOUR;
  if (step <= 0 || step > HOUR || HOUR % step !== 0)
    throw new InputError(path, rows[1]?.line ?? 2, 'timestamp', t.rows[1]?.cells[ct] ?? '', `rows every hour or a divisor of it (the most common step is ${step / 60_000} min)`);
  const hours = new Map<number, HourSample & { n: number }>();
  for (const r of rows) {
    const key = Math.floor(r.utcMs / HOUR) * HOUR;
    const h = hours.get(key) ?? { utcMs: key, load: 0, pv: net ? null : 0, line: r.line, n: 0 };
    h.load += r.load;
    if (h.pv !== null) h.pv += r.pv ?? NaN;
    h.n++;
    hours.set(key, h);
  }
  const scale = HOUR / step;
  const samples = [...hours.values()].map((h) => ({ ...h, load: (h.load / h.n) * scale, pv: h.pv === null ? null : (h.pv / h.n) * scale }));
  o.meter.push(...hourlyDays(samples, tz, path, !net, o.notes));
  if (net) o.notes.push({ at: { file: path, line: 1 }, message: 'import/export meter: load = import − export clipped at 0, PV not metered (pvKw null)' });
  return o;
}
