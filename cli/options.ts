import type { Options as YargsOptions } from 'yargs';
import { UsageError } from './errors.js';

/**
 * Options as data (as vitest's cli-config.ts does): each command declares its flags as one typed
 * object, from which yargs is configured, `--help` is written and the values are checked. yargs only
 * splits the command line; every value is checked here, so that a bad one fails naming its flag.
 */

interface Described {
  /** What the flag does, shown by --help (a test checks that each flag has one). */
  description: string;
}

export interface StringOption extends Described {
  type: 'string';
  default?: string;
  required?: boolean;
}

export interface NumberOption extends Described {
  type: 'number';
  default?: number;
  required?: boolean;
  integer?: boolean;
  /** Smallest value allowed. */
  min?: number;
  /** The value must be > 0. */
  positive?: boolean;
}

export interface BooleanOption extends Described {
  type: 'boolean';
  default: boolean;
}

export interface ChoiceOption extends Described {
  type: 'choice';
  choices: readonly string[];
  default?: string;
  required?: boolean;
}

/** Several strings: `--runs a b` or `--runs a --runs b`. */
export interface ListOption extends Described {
  type: 'list';
  default: readonly string[];
}

export type OptionDef = StringOption | NumberOption | BooleanOption | ChoiceOption | ListOption;
export type OptionDefs = Record<string, OptionDef>;

type ValueOf<D> = D extends { type: 'string' }
  ? string
  : D extends { type: 'number' }
    ? number
    : D extends { type: 'boolean' }
      ? boolean
      : D extends { type: 'choice'; choices: readonly (infer C)[] }
        ? C
        : D extends { type: 'list' }
          ? string[]
          : never;

type Always<D> = D extends { default: unknown } ? true : D extends { required: true } ? true : false;

/** The checked values of a command's flags, keyed as the flags are spelt (`args['plot-day']`). */
export type ArgsOf<O extends OptionDefs> = { -readonly [K in keyof O as Always<O[K]> extends true ? K : never]: ValueOf<O[K]> } & {
  -readonly [K in keyof O as Always<O[K]> extends true ? never : K]?: ValueOf<O[K]>;
};

/** The text --help shows for a flag: its description, with its choices and whether it is required. */
export function helpText(def: OptionDef): string {
  const tags = [def.type === 'choice' ? `[choices: ${def.choices.join(', ')}]` : '', 'required' in def && def.required ? '[required]' : ''].filter(Boolean);
  return [def.description, ...tags].join(' ');
}

/** The yargs definition of a flag: parsing and help only (no validation, no demand, no choices). */
export function yargsOption(def: OptionDef): YargsOptions {
  const describe = helpText(def);
  switch (def.type) {
    case 'boolean':
      return { type: 'boolean', default: def.default, describe };
    case 'list':
      return { type: 'array', string: true, default: [...def.default], describe };
    case 'number':
      // No yargs type: yargs would turn "abc" into NaN, and the error could not show what was given.
      return { default: def.default, requiresArg: true, describe };
    default:
      return { type: 'string', default: def.default, requiresArg: true, describe };
  }
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function checkNumber(def: NumberOption, v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return `expected a number, got ${show(v)}`;
  if (def.integer && !Number.isInteger(v)) return `expected an integer, got ${v}`;
  if (def.positive && !(v > 0)) return `expected a number > 0, got ${v}`;
  if (def.min !== undefined && v < def.min) {
    if (def.integer && def.min === 1) return `expected a positive integer, got ${v}`;
    if (def.integer && def.min === 0) return `expected a non-negative integer, got ${v}`;
    return `expected ${def.integer ? 'an integer' : 'a number'} ≥ ${def.min}, got ${v}`;
  }
  return null;
}

/** Why `v` is not a value of the flag, or null when it is one. */
export function invalid(def: OptionDef, v: unknown): string | null {
  if (Array.isArray(v) && def.type !== 'list') return `given ${v.length} times: expected once`;
  switch (def.type) {
    case 'number':
      return checkNumber(def, v);
    case 'boolean':
      return typeof v === 'boolean' ? null : `expected no value, got ${show(v)}`;
    case 'choice':
      return def.choices.includes(v as string) ? null : `expected one of ${def.choices.join(', ')}, got ${show(v)}`;
    case 'list':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '') ? null : `expected one or more values, got ${show(v)}`;
    default:
      // An empty value is a forgotten one, unless empty is the default (a memo).
      return typeof v === 'string' && (v !== '' || def.default === '') ? null : `expected a value, got ${show(v)}`;
  }
}

/** The checked values of `defs` in what yargs parsed; throws a UsageError naming the first bad flag. */
export function readArgs<O extends OptionDefs>(defs: O, parsed: Record<string, unknown>): ArgsOf<O> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(defs)) {
    const v = parsed[name];
    if (v === undefined) {
      if ('required' in def && def.required) throw new UsageError(`--${name}`, `required: ${def.description}`);
      continue;
    }
    const why = invalid(def, v);
    if (why) throw new UsageError(`--${name}`, why);
    out[name] = v;
  }
  return out as ArgsOf<O>;
}
