import { addDays } from './clock.js';
import { cell, column, readCsv } from './csv.js';
import { fileObservations } from './import-common.js';
import { coverSessions, sessionOf } from './import-sessions.js';
import type { EvSession, Observations } from './observations.js';

/**
 * Sørensen et al. 2021's residential EV sessions (data/norway_residential_ev/SOURCE.md): `;`,
 * decimal commas, `dd.mm.yyyy hh:mm` in Europe/Oslo whatever --tz says.
 *
 * Only `Private` sessions are kept: a `Shared` charge point serves many cars, not one household's,
 * and the figures paper-apartment cites are private ones (8.2 kWh median per private session;
 * all sessions give 9.05). Sessions without a plug-out (`NA`) cannot say when the car left and are
 * skipped; both are counted in one note.
 */
export const NORWAY_TZ = 'Europe/Oslo';

/**
 * "Overnight", the definition that gives paper-apartment's 2,538 private sessions: plugged in at
 * 07:00 or later, plugged out on the next calendar day between 02:00 and 12:59, at most 24 h
 * plugged in. Their mean plug-in slot is 18:47, their most common plug-out hour 07.
 */
export function isOvernight(s: EvSession): boolean {
  const hours = s.hours ?? (s.plugOut.slot + 96 - s.plugIn.slot) / 4;
  return s.plugIn.slot >= 28 && s.plugOut.date === addDays(s.plugIn.date, 1) && s.plugOut.slot >= 8 && s.plugOut.slot < 52 && hours <= 24;
}

export function readNorway(path: string): Observations {
  const o = fileObservations(path, 'norway');
  const t = readCsv(path, { delimiter: ';', decimalComma: true });
  const cols = { in: column(t, 'Start_plugin'), out: column(t, 'End_plugout'), kwh: column(t, 'El_kWh') };
  const [cu, ct] = [column(t, 'User_ID'), column(t, 'User_type')];
  let shared = 0;
  let open = 0;
  for (const row of t.rows) {
    if (cell(row, ct) !== 'Private') shared++;
    else if (cell(row, cols.out) === 'NA') open++;
    else o.sessions.push(sessionOf(t, row, cols, cell(row, cu), NORWAY_TZ, o.notes));
  }
  o.notes.push({ at: { file: path, line: 1 }, message: `kept ${o.sessions.length} private sessions; skipped ${shared} shared-charge-point sessions and ${open} private ones without a plug-out (NA)` });
  coverSessions(o);
  return o;
}
