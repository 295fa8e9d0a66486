import { addDays, dayTypeOfDate } from './clock.js';
import { cell, column, numberCell, readCsv, type CsvRow } from './csv.js';
import { InputError } from './errors.js';
import { fileObservations } from './import-common.js';
import { hourlyDays } from './import-hourly.js';
import type { Observations } from './observations.js';

/**
 * A CityLearn 2022 building (data/citylearn_2022/SOURCE.md): hourly rows without timestamps,
 * `month,hour,day_type,…`, `hour` 1–24 being the hour that ends then, so hour 24 is the day's last
 * and a leading hour-24 row belongs to the day before: rows up to the first `hour` 1 are skipped
 * (as paper-apartment's pv.profile does with skipRows 1). The file has no DST and no zone: days
 * are taken as written.
 *
 * The file has no year either. The first full day is taken as the 1st of its month (the month
 * changes on that row in every CityLearn 2022 building), in the latest year up to 2022, the
 * challenge's, whose calendar agrees with every day's `month` and `day_type` (1 = Monday … 7 =
 * Sunday: the pricing file's weekend peak falls on day types 6 and 7). Building_1 gives
 * 2022-08-01 … 2023-07-31. Its last day lacks hour 24, filled like any missing hour, and noted.
 *
 * load = non_shiftable_load (kWh/h = kW); pv = solar_generation ÷ 1000, kW per kWp of PV (the file
 * gives W per kW): MeterDay.pvPerKwp says so; schema.json has each building's PV size.
 */
const FIRST_YEAR = 2022;
const HOUR = 3_600_000;

function yearOf(firstMonth: number, dayRows: Array<{ month: number; dayType: number }>): number | null {
  for (let y = FIRST_YEAR; y > FIRST_YEAR - 40; y--) {
    let date = `${y}-${String(firstMonth).padStart(2, '0')}-01`;
    let ok = true;
    for (const d of dayRows) {
      if (Number(date.slice(5, 7)) !== d.month || (d.dayType <= 7 && dayTypeOfDate(date) !== d.dayType)) {
        ok = false;
        break;
      }
      date = addDays(date, 1);
    }
    if (ok) return y;
  }
  return null;
}

export function readCitylearn(path: string): Observations {
  const o = fileObservations(path, 'citylearn');
  const t = readCsv(path);
  const [cm, ch, cd, cl, cp] = [column(t, 'month'), column(t, 'hour'), column(t, 'day_type'), column(t, 'non_shiftable_load'), column(t, 'solar_generation')];
  const hourOf = (row: CsvRow) => {
    const h = numberCell(t, row, ch);
    if (!Number.isInteger(h) || h < 1 || h > 24) throw new InputError(path, row.line, 'hour', cell(row, ch), 'an hour 1–24');
    return h;
  };
  const firstFull = t.rows.findIndex((row) => hourOf(row) === 1);
  if (firstFull < 0) throw new InputError(path, 2, 'hour', cell(t.rows[0] ?? { line: 2, cells: [] }, ch), 'a row with hour 1 somewhere (a day start)');
  if (firstFull > 0) o.notes.push({ at: { file: path, line: t.rows[0].line }, message: `${firstFull} row(s) before the first hour 1 belong to the day before the file's first full day: skipped` });
  const body = t.rows.slice(firstFull);
  const starts = body.filter((row) => hourOf(row) === 1);
  const dayRows = starts.map((row) => ({ month: numberCell(t, row, cm), dayType: numberCell(t, row, cd) }));
  const year = yearOf(dayRows[0].month, dayRows);
  if (year === null) throw new InputError(path, starts[0].line, 'day_type', cell(starts[0], cd), `a calendar that fits: no year ≤ ${FIRST_YEAR} matches the months and day types from month ${dayRows[0].month}, day 1`);
  o.notes.push({ at: { file: path, line: starts[0].line }, message: `no year in the file: day 1 is ${year}-${String(dayRows[0].month).padStart(2, '0')}-01, synthetic; solar_generation ÷ 1000 is kW per kWp of PV` });
  let dayStart = Date.parse(`${year}-${String(dayRows[0].month).padStart(2, '0')}-01T00:00:00Z`) - 24 * HOUR;
  const samples = body.map((row) => {
    const h = hourOf(row);
    if (h === 1) dayStart += 24 * HOUR;
    return { utcMs: dayStart + (h - 1) * HOUR, load: numberCell(t, row, cl), pv: numberCell(t, row, cp) / 1000, line: row.line };
  });
  o.meter.push(...hourlyDays(samples, 'UTC', path, true, o.notes).map((d) => ({ ...d, pvPerKwp: true })));
  return o;
}
