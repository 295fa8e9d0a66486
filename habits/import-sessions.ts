import { dayRange } from './clock.js';
import { cell, column, numberCell, optionalColumn, readCsv, type CsvRow, type CsvTable } from './csv.js';
import { InputError } from './errors.js';
import { addCovered, fileObservations, slotOf, timeCell, type ImportOptions } from './import-common.js';
import type { EvSession, ImportNote, Observations } from './observations.js';

/** One session from its plug-in and plug-out cells (shared with the Norwegian importer). */
export function sessionOf(t: CsvTable, row: CsvRow, cols: { in: number; out: number; kwh: number }, user: string, tz: string | undefined, notes: ImportNote[]): EvSession {
  const a = timeCell(t, row, cols.in, tz, notes);
  const b = timeCell(t, row, cols.out, tz, notes);
  if (b.utcMs < a.utcMs) throw new InputError(t.file, row.line, t.header[cols.out], cell(row, cols.out), `a time at or after plug-in (${cell(row, cols.in)})`);
  const kwh = numberCell(t, row, cols.kwh);
  if (kwh < 0) throw new InputError(t.file, row.line, t.header[cols.kwh], cell(row, cols.kwh), 'an energy ≥ 0 kWh');
  return {
    user,
    plugIn: { ...a.day, slot: slotOf(a.minute) },
    plugOut: { ...b.day, slot: slotOf(b.minute) },
    kwh,
    at: { file: t.file, line: row.line },
    hours: (b.utcMs - a.utcMs) / 3_600_000,
  };
}

/** Each user's log covers every day from their first plug-in to their last plug-out. */
export function coverSessions(o: Observations): void {
  const span = new Map<string, [string, string]>();
  for (const s of o.sessions) {
    const [f, l] = span.get(s.user) ?? [s.plugIn.date, s.plugOut.date];
    span.set(s.user, [s.plugIn.date < f ? s.plugIn.date : f, s.plugOut.date > l ? s.plugOut.date : l]);
  }
  for (const [user, [f, l]] of span) addCovered(o.evDays, user, dayRange(f, l));
}

/** A generic EV log, `plug_in,plug_out,kwh[,user]`; without a user column every session is user "ev". */
export function readSessions(path: string, opts: ImportOptions = {}): Observations {
  const o = fileObservations(path, 'sessions');
  const t = readCsv(path);
  const cols = { in: column(t, 'plug_in'), out: column(t, 'plug_out'), kwh: column(t, 'kwh') };
  const cu = optionalColumn(t, 'user');
  for (const row of t.rows) o.sessions.push(sessionOf(t, row, cols, cu >= 0 && cell(row, cu) !== '' ? cell(row, cu) : 'ev', opts.tz, o.notes));
  coverSessions(o);
  return o;
}
