import { checkTimeZone } from './clock.js';
import { readCitylearn } from './import-citylearn.js';
import { addCovered } from './import-common.js';
import { readEvents } from './import-events.js';
import { readMeter } from './import-meter.js';
import { readNorway } from './import-norway.js';
import { readOpsd } from './import-opsd.js';
import { readSessions } from './import-sessions.js';
import { emptyObservations, type Observations } from './observations.js';

/** The input files by format, as the CLI's --events, --sessions, … flags give them. */
export interface InputSpec {
  events?: string[];
  sessions?: string[];
  meter?: string[];
  opsd?: string[];
  norway?: string[];
  citylearn?: string[];
}

/** Merges one file's observations into the total; covered days are unions per appliance or user. */
export function mergeObservations(into: Observations, part: Observations): Observations {
  into.files.push(...part.files);
  into.runs.push(...part.runs);
  into.sessions.push(...part.sessions);
  into.meter.push(...part.meter);
  into.notes.push(...part.notes);
  for (const [k, days] of part.applianceDays) addCovered(into.applianceDays, k, days);
  for (const [k, days] of part.evDays) addCovered(into.evDays, k, days);
  return into;
}

/** Reads every input file. OPSD, Norway and CityLearn carry their own zone; --tz is for the generic formats. */
export function readInputs(inputs: InputSpec, opts: { tz?: string } = {}): Observations {
  if (opts.tz) checkTimeZone(opts.tz);
  const o = emptyObservations();
  for (const p of inputs.events ?? []) mergeObservations(o, readEvents(p, opts));
  for (const p of inputs.sessions ?? []) mergeObservations(o, readSessions(p, opts));
  for (const p of inputs.meter ?? []) mergeObservations(o, readMeter(p, opts));
  for (const p of inputs.opsd ?? []) mergeObservations(o, readOpsd(p));
  for (const p of inputs.norway ?? []) mergeObservations(o, readNorway(p));
  for (const p of inputs.citylearn ?? []) mergeObservations(o, readCitylearn(p));
  return o;
}
