/**
 * What usage logs say, in the model's terms: local calendar days (the home's time zone), slots
 * 0..95 of 15 minutes. The importers (one per file format) produce it; the fitter and the check
 * read only this, never a file.
 */

/** Where a value came from, for error messages and reports. */
export interface Where {
  file: string;
  line: number;
  column?: string;
}

/** An input file as the fitted scenario's note names it. */
export interface InputFile {
  path: string;
  sha256: string;
  /** The importer that read it: 'events', 'sessions', 'meter', 'opsd', 'norway', 'citylearn'. */
  format: string;
}

/** A local date, `YYYY-MM-DD`, with its day type (1 = Monday … 7 = Sunday). */
export interface LocalDay {
  date: string;
  dayType: number;
}

/** One run of an appliance: the day it started on and its start slot (the release, if unmanaged). */
export interface ApplianceRun {
  appliance: string;
  day: LocalDay;
  startSlot: number;
  /** Slots it ran (≥ 1), and the energy it took, kWh (NaN when the log does not say). */
  slots: number;
  kwh: number;
  at: Where;
}

/** One EV charging session at home: plugged in (the car came back), plugged out (it left). */
export interface EvSession {
  user: string;
  plugIn: LocalDay & { slot: number };
  plugOut: LocalDay & { slot: number };
  kwh: number;
  at: Where;
  /** Hours plugged in (plug-out instant − plug-in instant); optional, added by the importers. */
  hours?: number;
}

/** One local day of a meter: 24 hourly mean powers, kW (= kWh per hour); PV null when not metered. */
export interface MeterDay {
  day: LocalDay;
  loadKw: number[];
  pvKw: number[] | null;
  /** True when pvKw is per kWp of installed PV (CityLearn), not the home's own array. */
  pvPerKwp?: boolean;
}

/** Something the importer did that the user should know: a daylight-saving day, a filled or dropped hour. */
export interface ImportNote {
  at: Where;
  message: string;
}

export interface Observations {
  files: InputFile[];
  /** The days each appliance's log covers (a day without a run counts as "not asked"). */
  applianceDays: Map<string, LocalDay[]>;
  runs: ApplianceRun[];
  /** The days each EV user's log covers. */
  evDays: Map<string, LocalDay[]>;
  sessions: EvSession[];
  meter: MeterDay[];
  notes: ImportNote[];
}

export const emptyObservations = (): Observations => ({
  files: [],
  applianceDays: new Map(),
  runs: [],
  evDays: new Map(),
  sessions: [],
  meter: [],
  notes: [],
});
