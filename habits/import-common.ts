import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseStamp, stampToLocal, type LocalTime } from './clock.js';
import { cell, type CsvRow, type CsvTable } from './csv.js';
import { InputError } from './errors.js';
import { emptyObservations, type ImportNote, type LocalDay, type Observations } from './observations.js';

/** Options every importer takes: the home's time zone for wall-clock timestamps. */
export interface ImportOptions {
  tz?: string;
}

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Observations of one file, with its hash. */
export function fileObservations(path: string, format: string): Observations {
  const o = emptyObservations();
  o.files.push({ path, sha256: sha256File(path), format });
  return o;
}

export const slotOf = (minute: number): number => Math.floor(minute / 15);

/** A timestamp cell in the zone; wall times in a DST gap or overlap get a note (see clock.ts for the rule). */
export function timeCell(t: CsvTable, row: CsvRow, col: number, tz: string | undefined, notes: ImportNote[]): LocalTime {
  const raw = cell(row, col);
  const stamp = parseStamp(raw);
  if (!stamp) throw new InputError(t.file, row.line, t.header[col], raw, 'a timestamp such as 2015-10-04T03:00:00+0200, 2018-12-21 10:20 or 21.12.2018 10:20');
  const local = stampToLocal(stamp, tz);
  if (!local) throw new InputError(t.file, row.line, t.header[col], raw, 'a timestamp with an offset (…+02:00 or …Z), or a time zone given with --tz');
  const at = { file: t.file, line: row.line, column: t.header[col] };
  if (local.resolution === 'gap') notes.push({ at, message: `"${raw}" does not exist in ${tz} (clocks spring forward): read as ${local.day.date} minute ${local.minute}, after the change` });
  if (local.resolution === 'ambiguous') notes.push({ at, message: `"${raw}" occurs twice in ${tz} (clocks fall back): read as the first, summer-time occurrence` });
  return local;
}

/** Adds days to a per-key day list, once each, in date order. */
export function addCovered(map: Map<string, LocalDay[]>, key: string, days: LocalDay[]): void {
  const byDate = new Map((map.get(key) ?? []).map((d) => [d.date, d]));
  for (const d of days) byDate.set(d.date, d);
  map.set(key, [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1)));
}
