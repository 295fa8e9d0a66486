import { MAX_TEXT, RuleError } from './ledger.js';

/** Checks of a parsed JSON value's form, shared by transactions and blocks; each throws RuleError naming the field. */

export const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
export const show = (x: unknown) => JSON.stringify(x)?.slice(0, 80);

export function fields(o: Record<string, unknown>, want: string, what: string): void {
  const got = Object.keys(o).sort().join(',');
  if (got !== want) throw new RuleError(`${what} has fields ${got || 'none'}, expected ${want}`);
}

export function str(o: Record<string, unknown>, k: string, re: RegExp | null, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new RuleError(`${what}.${k} must be a string, got ${show(v)}`);
  if (re && !re.test(v)) throw new RuleError(`${what}.${k} ${show(v)} has the wrong form (${re.source})`);
  if (v.length > MAX_TEXT) throw new RuleError(`${what}.${k} is ${v.length} characters, at most ${MAX_TEXT}`);
  return v;
}

export function int(o: Record<string, unknown>, k: string, min: number, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RuleError(`${what}.${k} must be an integer ≥ ${min}, got ${show(v)}`);
  return v;
}
