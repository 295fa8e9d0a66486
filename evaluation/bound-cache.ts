import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Day, Scenario } from '../env/index.js';
import type { BoundResult } from '../baseline/bound.js';
import { writeAtomic } from './report.js';

/**
 * The non-anticipative bound of a day, cached on disk: a solve takes seconds to a minute, and an
 * evaluation asks for the same days again and again. One JSON file per (scenario hash, day seed,
 * samples, seed of the draws, BOUND_VERSION), written through a temporary file and a rename so that
 * two evaluations never read half a file. A file that does not read, or was solved with a shorter
 * time limit without proof, is solved again. The solver is loaded only when a day is solved: the CLI
 * reads DEFAULT_BOUND_CACHE at start-up.
 */

/** The cache folder by default, under the current directory (`rescoin evaluate --cache`). */
export const DEFAULT_BOUND_CACHE = join('.rescoin-cache', 'bound');

export interface CachedBoundOptions {
  dir: string;
  scenarioHash: string;
  samples: number;
  seed: number;
  timeLimitSec: number;
}

const entry = z.strictObject({
  version: z.number().int(),
  scenarioHash: z.string(),
  daySeed: z.number().int(),
  samples: z.number().int(),
  seed: z.number().int(),
  timeLimitSec: z.number(),
  result: z.strictObject({
    bound: z.number(),
    sampleBound: z.number(),
    tripInformationEur: z.number().nullable(),
    status: z.enum(['optimal', 'time-limit']),
    samples: z.number().int(),
    sampled: z.boolean(),
    solveMs: z.number(),
    mipGap: z.number(),
    trips: z.array(z.strictObject({ arrival: z.number().int(), tripKwh: z.number() })),
  }),
});
type Entry = z.infer<typeof entry>;

/** The file of one day's bound in the cache folder. */
export function boundCacheFile(o: CachedBoundOptions, daySeed: number, version: number): string {
  return join(o.dir, `${o.scenarioHash}-${daySeed}-k${o.samples}-s${o.seed}-v${version}.json`);
}

function readEntry(file: string): Entry | null {
  if (!existsSync(file)) return null;
  try {
    const res = entry.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return res.success ? res.data : null;
  } catch {
    return null;
  }
}

/** The bound of `day` from the cache, or solved (and cached) when it is not there. */
export async function cachedBound(s: Scenario, day: Day, o: CachedBoundOptions): Promise<BoundResult & { cached: boolean }> {
  const { boundDay, BOUND_VERSION } = await import('../baseline/bound.js');
  const file = boundCacheFile(o, day.seed, BOUND_VERSION);
  const hit = readEntry(file);
  const usable = hit && hit.version === BOUND_VERSION && hit.scenarioHash === o.scenarioHash && hit.daySeed === day.seed && hit.samples === o.samples && hit.seed === o.seed;
  // An unproven bound is kept only if it had at least the time asked for now.
  if (usable && (hit.result.status === 'optimal' || hit.timeLimitSec >= o.timeLimitSec)) return { ...hit.result, cached: true };
  const result = await boundDay(s, day, { samples: o.samples, seed: o.seed, timeLimitSec: o.timeLimitSec });
  if (!Number.isFinite(result.bound))
    throw new Error(`the bound of day seed ${day.seed} found no dual bound within ${o.timeLimitSec} s (HiGHS: ${result.status}): give the solve more time (--time-limit)`);
  if (result.status !== 'optimal' && result.status !== 'time-limit') throw new Error(`the bound of day seed ${day.seed}: HiGHS ended with ${result.status}`);
  const e: Entry = { version: BOUND_VERSION, scenarioHash: o.scenarioHash, daySeed: day.seed, samples: o.samples, seed: o.seed, timeLimitSec: o.timeLimitSec, result: { ...result, status: result.status } };
  mkdirSync(o.dir, { recursive: true });
  await writeAtomic(file, (tmp) => writeFileSync(tmp, `${JSON.stringify(e)}\n`));
  return { ...result, cached: false };
}
