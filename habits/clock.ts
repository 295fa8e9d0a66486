import type { LocalDay } from './observations.js';

/**
 * Timestamps → local day and slot in an IANA time zone, through Intl.DateTimeFormat only.
 *
 * Local wall times that do not exist or occur twice are resolved as Temporal's "compatible" rule
 * (and RFC 5545) do: a time in the spring-forward gap moves forward by the gap (02:30 → 03:30), an
 * ambiguous fall-back time takes its first occurrence (the summer-time one). Both are reported.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when it is not an IANA name Intl knows. */
export function checkTimeZone(tz: string): void {
  try {
    formatter(tz);
  } catch {
    throw new RangeError(`--tz: got "${tz}"; an IANA time zone name such as Europe/Rome`);
  }
}

/** The zone's offset from UTC at an instant, ms. */
export function offsetAt(tz: string, utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

export type WallResolution = 'exact' | 'gap' | 'ambiguous';

/** The instant of a wall time (given as ms since the epoch as if it were UTC) in a zone. */
export function wallToInstant(wallMs: number, tz: string): { utcMs: number; resolution: WallResolution } {
  const before = offsetAt(tz, wallMs - DAY);
  const after = offsetAt(tz, wallMs + DAY);
  const fits = (o: number) => offsetAt(tz, wallMs - o) === o;
  const early = wallMs - before;
  if (before !== after && fits(before) && fits(after)) return { utcMs: Math.min(early, wallMs - after), resolution: 'ambiguous' };
  if (fits(before)) return { utcMs: early, resolution: 'exact' };
  if (fits(after)) return { utcMs: wallMs - after, resolution: 'exact' };
  // In the gap: read with the offset before the change, which lands as far past it as the wall time was.
  return { utcMs: early, resolution: 'gap' };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DOTTED = /^(\d{2})\.(\d{2})\.(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** A parsed timestamp: an instant when it carried an offset, else a wall time. */
export interface Stamp {
  wallMs: number;
  /** Offset written in the text, ms; null for a local wall time. */
  offsetMs: number | null;
}

/** Parses ISO 8601 (with or without offset) or `dd.mm.yyyy hh:mm`; null when it is neither. */
export function parseStamp(text: string): Stamp | null {
  let y: number, mo: number, d: number, h: number, mi: number, s: number;
  let off: string | undefined;
  const iso = ISO.exec(text);
  const dot = iso ? null : DOTTED.exec(text);
  if (iso) [y, mo, d, h, mi, s, off] = [+iso[1], +iso[2], +iso[3], +iso[4], +iso[5], +(iso[6] ?? 0), iso[7]];
  else if (dot) [d, mo, y, h, mi, s] = [+dot[1], +dot[2], +dot[3], +dot[4], +dot[5], +(dot[6] ?? 0)];
  else return null;
  const wallMs = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wallMs);
  // Date.UTC rolls 31.02 into March: refuse it instead.
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59) return null;
  if (off === undefined) return { wallMs, offsetMs: null };
  if (off === 'Z') return { wallMs, offsetMs: 0 };
  const sign = off[0] === '-' ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  return { wallMs, offsetMs: sign * (Number(digits.slice(0, 2)) * HOUR + Number(digits.slice(2) || 0) * 60_000) };
}

/** A local moment: its day, minute of the day and the instant. */
export interface LocalTime {
  day: LocalDay;
  minute: number;
  utcMs: number;
  resolution: WallResolution;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayTypeOfDate = (date: string): number => ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
export const localDay = (date: string): LocalDay => ({ date, dayType: dayTypeOfDate(date) });
export const addDays = (date: string, n: number): string => isoDate(Date.parse(`${date}T00:00:00Z`) + n * DAY);

/** Every day from `first` to `last`, both included. */
export function dayRange(first: string, last: string): LocalDay[] {
  const out: LocalDay[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) out.push(localDay(d));
  return out;
}

/** The local time of a wall time (ms as if UTC) that is the instant utcMs somewhere. */
export function localOfWall(wallMs: number, utcMs: number, resolution: WallResolution = 'exact'): LocalTime {
  const date = isoDate(wallMs);
  const minute = Math.floor((wallMs - Date.parse(`${date}T00:00:00Z`)) / 60_000);
  return { day: localDay(date), minute, utcMs, resolution };
}

export const localOfInstant = (utcMs: number, tz: string): LocalTime => localOfWall(utcMs + offsetAt(tz, utcMs), utcMs);

/** A stamp in the zone: an instant with an offset is moved into `tz` (if given), a wall time is read in `tz`. */
export function stampToLocal(s: Stamp, tz: string | undefined): LocalTime | null {
  if (s.offsetMs !== null) {
    const utcMs = s.wallMs - s.offsetMs;
    return tz ? localOfInstant(utcMs, tz) : localOfWall(s.wallMs, utcMs);
  }
  if (!tz) return null;
  const r = wallToInstant(s.wallMs, tz);
  return r.resolution === 'gap' ? { ...localOfInstant(r.utcMs, tz), resolution: 'gap' } : { ...localOfWall(s.wallMs, r.utcMs), resolution: r.resolution };
}

/** Hours in a local day: 23, 24 or 25 around a daylight-saving change. */
export function hoursInDay(date: string, tz: string): number {
  const start = wallToInstant(Date.parse(`${date}T00:00:00Z`), tz).utcMs;
  const end = wallToInstant(Date.parse(`${addDays(date, 1)}T00:00:00Z`), tz).utcMs;
  return Math.round((end - start) / HOUR);
}
