import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { dataDir, daySeed, drawDay, formatIssues, loadScenario, parseScenario, Rng, ScenarioError, SLOTS, type Day, type Scenario } from '../env/index.js';
import { MECHANISMS, type Mechanism } from './market.js';

/**
 * # The community file (DESIGN.md, Neighbourhood)
 *
 * A micro-grid of homes behind one feeder. JSON, validated here; an error names the field and the
 * value (`<file>: invalid community` then one line per problem, as a scenario's errors do).
 *
 * | field | meaning |
 * | --- | --- |
 * | `id`, `name`, `description` | as a scenario's |
 * | `homes[]` | `{ scenario, id?, count?, vary? }`: a scenario id or a path (relative to the file); `count` copies (ids `<id>-1` …), up to 1,000 homes in all |
 * | `homes[].vary.pvPeakKw` | `[lo, hi]`: each copy's PV size drawn uniformly (seeded by `vary.seed` and the copy's number), rounded to `vary.stepKw` (0.5 kWp) so copies share few scenarios |
 * | `feeder.limitKw` | the feeder's hard limit on the community's net import, kW |
 * | `peakEurPerKwDay` | the community peak price: € per kW of the day's highest feeder import, paid to the operator |
 * | `market` | `none`, `bill-sharing`, `mid-market`, `sdr` (community/market.ts) |
 * | `rescoin.valueEur` | € per RSC at which trades are settled on the ledger (default: the first home's coin value) |
 *
 * Every home must have the same tariff and feed-in price (the market clears against one grid
 * price), and the feeder must hold the base loads of all homes at their highest, which no schedule
 * can move; the rest (appliances, the EVs) it limits through the homes' caps (community/env.ts).
 */

const idRe = z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes');

const homeSchema = z.object({
  scenario: z.string().min(1),
  id: idRe.optional(),
  count: z.number().int().min(1).max(1000).default(1),
  vary: z
    .object({
      pvPeakKw: z.tuple([z.number().min(0), z.number().min(0)]).optional(),
      stepKw: z.number().positive().default(0.5),
      seed: z.number().int().min(0).default(1),
    })
    .optional(),
});

export const communitySchema = z.object({
  id: idRe,
  name: z.string(),
  description: z.string(),
  homes: z.array(homeSchema).min(1),
  feeder: z.object({ limitKw: z.number().positive(), source: z.string().min(1).optional() }),
  peakEurPerKwDay: z.number().min(0),
  peakSource: z.string().min(1).optional(),
  market: z.enum(MECHANISMS as unknown as [Mechanism, ...Mechanism[]]),
  rescoin: z.object({ valueEur: z.number().min(0).optional() }).default({}),
});

export type CommunitySpec = z.output<typeof communitySchema>;

export interface CommunityHome {
  /** Unique in the community: the account name on the ledger too. */
  id: string;
  scenario: Scenario;
}

export interface Community {
  id: string;
  name: string;
  description: string;
  homes: CommunityHome[];
  feederKw: number;
  peakEurPerKwDay: number;
  market: Mechanism;
  /** € per RSC of settlements. */
  rscValueEur: number;
  /** The grid prices every home shares: λb per slot and λs. */
  buyPriceKwh: Float64Array;
  sellPriceKwh: number;
  /** The file it was loaded from (absolute), or null for an object parsed in code. */
  origin: string | null;
}

export class CommunityError extends Error {
  override name = 'CommunityError';
}

export const MAX_HOMES = 1000;

/** Validate raw community data; scenario paths resolve against `dir`. Scenarios are loaded once per distinct variant. */
export function parseCommunity(raw: unknown, where = 'community', dir = resolve('.')): Community {
  const res = communitySchema.safeParse(raw, { reportInput: true });
  if (!res.success) throw new CommunityError(formatIssues(where, res.error).replace('invalid scenario', 'invalid community'));
  const spec = res.data;
  const bad = (path: string, msg: string) => new CommunityError(`${where}: invalid community\n  ${path}: ${msg}`);
  const total = spec.homes.reduce((n, h) => n + h.count, 0);
  if (total > MAX_HOMES) throw bad('homes', `${total} homes in all; at most ${MAX_HOMES}`);
  const cache = new Map<string, Scenario>();
  const homes: CommunityHome[] = [];
  spec.homes.forEach((h, k) => {
    const base = load(h.scenario, dir, `homes[${k}].scenario`, where, cache);
    const id0 = h.id ?? base.id;
    for (let c = 0; c < h.count; c++) {
      const id = h.count === 1 ? id0 : `${id0}-${c + 1}`;
      const pv = h.vary?.pvPeakKw;
      let scenario = base;
      if (pv) {
        if (pv[0] > pv[1]) throw bad(`homes[${k}].vary.pvPeakKw`, `got [${pv[0]}, ${pv[1]}]; expected lo ≤ hi`);
        const step = h.vary!.stepKw;
        const kw = Math.round((pv[0] + (pv[1] - pv[0]) * new Rng(daySeed(h.vary!.seed, homes.length)).float()) / step) * step;
        scenario = variant(base, h.scenario, dir, +kw.toFixed(6), `homes[${k}]`, where, cache);
      }
      homes.push({ id, scenario });
    }
  });
  const seen = new Set<string>();
  for (const h of homes) {
    if (seen.has(h.id)) throw bad('homes', `two homes are named "${h.id}"; give each entry its own id`);
    seen.add(h.id);
  }
  const first = homes[0].scenario;
  homes.forEach((h, i) => {
    const s = h.scenario;
    const same = s.tariff.feedInEurPerKwh === first.tariff.feedInEurPerKwh && s.priceKwh.every((p, t) => p === first.priceKwh[t]);
    if (!same) throw bad(`homes (${h.id}, home ${i})`, `its tariff differs from ${homes[0].id}'s; the market clears against one grid price, so every home needs the same tariff and feed-in price`);
  });
  const baseFloor = feederFloorKw(homes);
  if (spec.feeder.limitKw < baseFloor - 1e-9)
    throw bad('feeder.limitKw', `got ${spec.feeder.limitKw}; the homes' base loads at their highest reach ${baseFloor.toFixed(3)} kW in one slot, which no schedule can move: the feeder must hold them`);
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    homes,
    feederKw: spec.feeder.limitKw,
    peakEurPerKwDay: spec.peakEurPerKwDay,
    market: spec.market,
    rscValueEur: spec.rescoin.valueEur ?? first.rescoin.valueEur,
    buyPriceKwh: first.priceKwh,
    sellPriceKwh: first.tariff.feedInEurPerKwh,
    origin: null,
  };
}

/**
 * The highest base load the feeder can see in one slot. The homes share the date (drawCommunityDay),
 * so with year profiles of one length it is the highest slot of the summed base-load days; otherwise
 * (homes with years of different lengths) the sum of each home's highest base load per slot.
 */
export function feederFloorKw(homes: readonly CommunityHome[]): number {
  const days = homes[0].scenario.baseDays.length;
  const shared = homes.every((h) => h.scenario.baseDays.length === days);
  let worst = 0;
  const rows = shared ? days : 1;
  for (let d = 0; d < rows; d++)
    for (let t = 0; t < SLOTS; t++) {
      let sum = 0;
      for (const h of homes) sum += shared ? h.scenario.baseDays[d][t] : h.scenario.baseMaxKw[t];
      if (sum > worst) worst = sum;
    }
  return worst;
}

function load(ref: string, dir: string, field: string, where: string, cache: Map<string, Scenario>): Scenario {
  const isPath = ref.endsWith('.json') || ref.includes('/');
  const key = isPath ? resolve(dir, ref) : ref;
  let s = cache.get(key);
  if (s) return s;
  try {
    s = loadScenario(isPath ? key : ref);
  } catch (e) {
    if (e instanceof ScenarioError) throw new CommunityError(`${where}: invalid community\n  ${field}: ${e.message}`);
    throw e;
  }
  cache.set(key, s);
  return s;
}

/** The scenario with another PV size: one parse per distinct size (copies share it). */
function variant(base: Scenario, ref: string, dir: string, pvKw: number, field: string, where: string, cache: Map<string, Scenario>): Scenario {
  const key = `${ref}@pv=${pvKw}`;
  let s = cache.get(key);
  if (s) return s;
  const isPath = ref.endsWith('.json') || ref.includes('/');
  const from = isPath ? resolve(dir, ref) : ref;
  try {
    s = parseScenario({ extends: from, id: `${base.id}-pv${String(pvKw).replace('.', 'p')}`, pv: { peakKw: pvKw }, grid: { exportLimitKw: Math.max(base.grid.exportLimitKw, pvKw) } }, `${where} ${field} (PV ${pvKw} kWp)`, { dirs: [dir] });
  } catch (e) {
    if (e instanceof ScenarioError) throw new CommunityError(`${where}: invalid community\n  ${field}.vary.pvPeakKw: ${e.message}`);
    throw e;
  }
  cache.set(key, s);
  return s;
}

/** The built-in communities of data/communities/. */
export function listCommunities(): string[] {
  const d = join(dataDir(), 'communities');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort() : [];
}

/** Load a community by id (data/communities/) or path. */
export function loadCommunity(idOrPath: string): Community {
  const isPath = idOrPath.endsWith('.json') || idOrPath.includes('/');
  const path = isPath ? (isAbsolute(idOrPath) ? idOrPath : resolve(idOrPath)) : join(dataDir(), 'communities', `${idOrPath}.json`);
  if (!existsSync(path)) throw new CommunityError(`unknown community "${idOrPath}"; expected one of: ${listCommunities().join(', ')} (or a path to a .json file)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CommunityError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return { ...parseCommunity(raw, path, dirname(path)), origin: path };
}

/** The days of a community day: one date for all (they share the weather), home i's own draws from daySeed(seed, i). */
export function drawCommunityDay(c: Community, seed: number): Day[] {
  const date = new Rng(seed).int(0, 0x7fffffff);
  return c.homes.map((h, i) => drawDay(h.scenario, daySeed(seed, i), { date }));
}
