import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { SLOTS, SLOTS_PER_HOUR } from './time.js';

/**
 * Real days from a CSV column of hourly values (PV per kWp, base load in kWh per hour = kW): row 0
 * (after `skipRows`) is 00:00–01:00 of the first day, 24 rows a day, each hour held flat over its
 * four slots.
 */
export const csvProfileSchema = z.object({
  /** The CSV, looked up next to the scenario file, then next to each file it extends, then under data/. */
  csv: z.string(),
  column: z.string(),
  /** Multiplier from the column's unit to kW (base load) or kW per kWp (PV). */
  scale: z.number().positive(),
  /** Optional column with the day of week, 1 = Monday … 7 = Sunday. */
  dayTypeColumn: z.string().optional(),
  /** Rows to skip at the top so that row 0 is hour 00:00-01:00 of a day. */
  skipRows: z.number().int().min(0).default(0),
});
export type CsvProfile = z.output<typeof csvProfileSchema>;

export class ProfileError extends Error {
  override name = 'ProfileError';
}

const csvCache = new Map<string, string[][]>();
function readCsv(path: string): string[][] {
  let rows = csvCache.get(path);
  if (!rows) {
    rows = readFileSync(path, 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
    csvCache.set(path, rows);
  }
  return rows;
}

/** The first of `dirs` (then `dataDir`) that holds `file`; an error names every place tried. */
export function findCsv(file: string, dirs: readonly string[], dataDir: string, field: string): string {
  const places = isAbsolute(file) ? [file] : [...dirs, dataDir].map((d) => resolve(d, file));
  const found = places.find((p) => existsSync(p));
  if (!found) throw new ProfileError(`${field}: got "${file}"; no such file (looked in ${[...new Set(places)].join(', ')})`);
  return found;
}

/** The days of a CSV profile, each 96 slots of `scale × value × factor`; dayTypes[i] 0 when the file gives none. */
export function loadCsvDays(p: CsvProfile, path: string, factor: number, field: string): { days: Float64Array[]; dayTypes: Uint8Array } {
  const rows = readCsv(path);
  const header = rows[0];
  const col = header.indexOf(p.column);
  if (col < 0) throw new ProfileError(`${field}.column: got "${p.column}"; expected one of ${header.join(', ')}`);
  const dayCol = p.dayTypeColumn ? header.indexOf(p.dayTypeColumn) : -1;
  if (p.dayTypeColumn && dayCol < 0) throw new ProfileError(`${field}.dayTypeColumn: got "${p.dayTypeColumn}"; expected one of ${header.join(', ')}`);
  const body = rows.slice(1 + p.skipRows);
  const nDays = Math.floor(body.length / 24);
  if (nDays === 0) throw new ProfileError(`${field}.csv: ${path} has ${body.length} rows after the header and skipRows; a day needs 24`);
  const days: Float64Array[] = [];
  const dayTypes = new Uint8Array(nDays);
  for (let d = 0; d < nDays; d++) {
    const day = new Float64Array(SLOTS);
    for (let h = 0; h < 24; h++) {
      const text = body[d * 24 + h][col];
      const v = Number(text);
      if (text === undefined || text.trim() === '' || !Number.isFinite(v) || v < 0)
        throw new ProfileError(`${path}:${2 + p.skipRows + d * 24 + h}: column ${p.column}: got "${text ?? ''}"; expected a number ≥ 0`);
      for (let k = 0; k < SLOTS_PER_HOUR; k++) day[h * SLOTS_PER_HOUR + k] = v * p.scale * factor;
    }
    days.push(day);
    if (dayCol >= 0) dayTypes[d] = Number(body[d * 24][dayCol]);
  }
  return { days, dayTypes };
}

/** Per slot, the largest and the mean value over days. */
export function envelope(days: readonly Float64Array[]): { max: Float64Array; mean: Float64Array } {
  const max = new Float64Array(SLOTS);
  const mean = new Float64Array(SLOTS);
  for (const d of days)
    for (let t = 0; t < SLOTS; t++) {
      max[t] = Math.max(max[t], d[t]);
      mean[t] += d[t] / days.length;
    }
  return { max, mean };
}
