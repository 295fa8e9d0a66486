import { dayRange } from './clock.js';
import { cell, column, numberCell, readCsv } from './csv.js';
import { InputError } from './errors.js';
import { addCovered, fileObservations, slotOf, timeCell, type ImportOptions } from './import-common.js';
import type { Observations } from './observations.js';

/**
 * A generic appliance log, `appliance,start,end,kwh` (kwh may be empty). A run starts at slot
 * floor(local minutes / 15) of its local day and lasts ceil(duration / 15 min) slots, at least 1.
 * The log covers every day from its first to its last run, for every appliance it names: a day in
 * between without a run is a day the appliance was not asked for.
 */
export function readEvents(path: string, opts: ImportOptions = {}): Observations {
  const o = fileObservations(path, 'events');
  const t = readCsv(path);
  const [ca, cs, ce, ck] = [column(t, 'appliance'), column(t, 'start'), column(t, 'end'), column(t, 'kwh')];
  const names = new Set<string>();
  let first = '';
  let last = '';
  for (const row of t.rows) {
    const appliance = cell(row, ca);
    if (appliance === '') throw new InputError(path, row.line, 'appliance', '', 'an appliance id');
    const start = timeCell(t, row, cs, opts.tz, o.notes);
    const end = timeCell(t, row, ce, opts.tz, o.notes);
    if (end.utcMs < start.utcMs) throw new InputError(path, row.line, 'end', cell(row, ce), `a time at or after start (${cell(row, cs)})`);
    const kwh = numberCell(t, row, ck, true);
    if (kwh < 0) throw new InputError(path, row.line, 'kwh', cell(row, ck), 'an energy ≥ 0 kWh, or empty');
    const slots = Math.max(1, Math.ceil((end.utcMs - start.utcMs) / 900_000));
    o.runs.push({ appliance, day: start.day, startSlot: slotOf(start.minute), slots, kwh, at: { file: path, line: row.line } });
    names.add(appliance);
    if (first === '' || start.day.date < first) first = start.day.date;
    if (start.day.date > last) last = start.day.date;
  }
  if (first !== '') for (const n of names) addCovered(o.applianceDays, n, dayRange(first, last));
  return o;
}
