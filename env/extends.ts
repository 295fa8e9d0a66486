import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `extends`: a scenario file may name another (a built-in id or a path, relative to itself) and
 * override its fields. Objects merge key by key; anything else (arrays, numbers, strings, null)
 * replaces, so the result never mixes two lists of appliances. A profile (`pv.profile`,
 * `baseLoad.profile`) and a habit distribution (`{ histogram }` or `{ mean, sd, min, max }`) are
 * one value each and replace whole too: merged key by key, a histogram laid over a normal would
 * keep the normal's keys and be read as the normal, and a new CSV would keep the old one's skipRows.
 */

export class ExtendsError extends Error {
  override name = 'ExtendsError';
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => x !== null && typeof x === 'object' && !Array.isArray(x);

/** `over` merged onto `base` (neither is changed). */
export function mergeScenario(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(base[k]) && !isWholeValue(k, v) ? mergeScenario(base[k] as Json, v) : v;
  return out;
}

/** Objects that are one value (a profile, a habit distribution), replaced whole by an override. */
const isWholeValue = (key: string, v: Json): boolean => key === 'profile' || 'histogram' in v || 'mean' in v;

/** A file's raw JSON; errors name the file. */
export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ExtendsError(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ExtendsError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

export interface Resolved {
  raw: Json;
  /** The folders of the file and of every file it extends, nearest first (where CSV paths are looked up). */
  dirs: string[];
}

/** Finds a built-in scenario's file by id (null when there is none) and lists the built-in ids for errors. */
export interface Builtins {
  path(id: string): string | null;
  ids(): string[];
}

/** The file an `extends` value names: a built-in id, or a path relative to `dir`. */
function refPath(ref: unknown, dir: string, builtins: Builtins): string {
  if (typeof ref !== 'string' || ref === '') throw new ExtendsError(`got ${JSON.stringify(ref)}; expected a scenario id or a path to a .json file`);
  const isPath = ref.endsWith('.json') || ref.includes('/');
  const path = isPath ? resolve(dir, ref) : builtins.path(ref);
  if (!path) throw new ExtendsError(`got "${ref}"; expected one of ${builtins.ids().join(', ')} (or a path to a .json file)`);
  if (!existsSync(path)) throw new ExtendsError(`got "${ref}"; no such file (${path})`);
  return path;
}

/**
 * The scenario in `path` with its `extends` chain applied; a chain that comes back to a file it
 * has already read is refused.
 */
export function resolveExtends(path: string, builtins: Builtins, seen: string[] = []): Resolved {
  const abs = resolve(path);
  if (seen.includes(abs)) throw new ExtendsError(`${abs}: extends itself through ${[...seen, abs].join(' → ')}`);
  const raw = readJson(abs);
  if (!isObject(raw)) throw new ExtendsError(`${abs}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const dir = dirname(abs);
  if (raw.extends === undefined) return { raw, dirs: [dir] };
  let basePath: string;
  try {
    basePath = refPath(raw.extends, dir, builtins);
  } catch (e) {
    throw e instanceof ExtendsError ? new ExtendsError(`${abs}: extends: ${e.message}`) : e;
  }
  const base = resolveExtends(basePath, builtins, [...seen, abs]);
  const { extends: _e, ...own } = raw;
  return { raw: mergeScenario(base.raw, own), dirs: [dir, ...base.dirs] };
}

/** What an `extends` value names (an id, or a path relative to `dir`), with its own chain applied. */
export function resolveExtendsRef(ref: unknown, dir: string, builtins: Builtins): Resolved {
  return resolveExtends(refPath(ref, dir, builtins), builtins);
}
