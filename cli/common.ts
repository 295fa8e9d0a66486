import { existsSync, readFileSync } from 'node:fs';
import { CommunityError, loadCommunity, type Community } from '../community/community.js';
import { loadScenario, ScenarioError, type Scenario } from '../env/index.js';
import { UsageError } from './errors.js';

/** Flags that several commands share, as data. */

export const scenarioOption = { type: 'string', default: 'paper-apartment', description: 'Scenario id (see `rescoin scenarios`) or path to a scenario JSON' } as const;
export const jsonOption = { type: 'boolean', default: false, description: 'Print JSON instead of text' } as const;
export const runSeedOption = { type: 'number', default: 1, integer: true, min: 0, description: 'Run seed K: day d is drawn from daySeed(K, d), the same whatever the number of days' } as const;
export const timeLimitOption = { type: 'number', default: 60, positive: true, description: 'Seconds the MILP may spend on each day; a day not proven optimal by then keeps the best schedule found' } as const;
export const workersOption = { type: 'number', integer: true, min: 1, description: 'Worker threads (default: the available cores); results are identical for any N' } as const;
export const redisOption = { type: 'string', description: 'Enqueue the jobs on BullMQ at this Redis and collect their results (rescoin worker processes them)' } as const;

/** The scenario a flag names; an unknown id or a bad file is the flag's error. */
export function scenarioFrom(value: string, flag = '--scenario'): Scenario {
  try {
    return loadScenario(value);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(flag, e.message);
    throw e;
  }
}

/** A flag's file name must end in one of `exts` (e.g. .svg or .png). */
export function checkExtension(flag: string, value: string | undefined, exts: readonly string[]): void {
  if (value !== undefined && !exts.some((x) => value.toLowerCase().endsWith(x))) throw new UsageError(flag, `expected a file name ending in ${exts.join(' or ')}, got ${value}`);
}

/** The community a flag names; an unknown id or a bad file is the flag's error. */
export function communityFrom(value: string, flag = '--community'): Community {
  try {
    return loadCommunity(value);
  } catch (e) {
    if (e instanceof CommunityError) throw new UsageError(flag, e.message);
    throw e;
  }
}

/** A --config file of hyper-parameter overrides: a JSON object, or the flag's error. */
export function readOverrides(path: string, flag = '--config'): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(flag, `${path} does not exist`);
  try {
    const x: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`expected a JSON object, got ${JSON.stringify(x)}`);
    return x as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(flag, `${path}: ${(e as Error).message}`);
  }
}
