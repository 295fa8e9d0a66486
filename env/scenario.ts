import { readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DT, SLOTS, SLOTS_PER_HOUR } from './time.js';
import { distributionSchema, habitSupport, histogramSchema, isHistogram, type Distribution } from './habits.js';
import { csvProfileSchema, envelope, findCsv, loadCsvDays, ProfileError } from './profiles.js';
import { ExtendsError, mergeScenario, resolveExtends, resolveExtendsRef, type Builtins, type Resolved } from './extends.js';

/**
 * The scenario: everything that makes one home. Units: kW, kWh, €, RSC; slots are 0..95. Every
 * number the paper does not give carries a `source` next to it in the built-in files (a test keeps
 * them there); a user's own scenario may leave them out.
 */

const slot = z.number().int().min(0).max(SLOTS - 1);
const nonNeg = z.number().min(0);
const fraction = z.number().min(0).max(1);
const source = z.string().min(1).optional();

const tableIRow = z.object({
  device: z.string(),
  n: z.number().int().positive(),
  nominalW: z.number().positive(),
  ku: fraction,
  kc: fraction,
  note: z.string().optional(),
});

const band = z.object({
  name: z.string(),
  eurPerKwh: nonNeg,
  /** Inclusive slot ranges [from, to]. */
  slots: z.array(z.tuple([slot, slot])).min(1),
});

const appliance = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  name: z.string(),
  kind: z.enum(['non-interruptible', 'interruptible']),
  /** Power (kW) drawn in each slot of a cycle: slot k of the cycle draws cycleKw[k]. */
  cycleKw: z.array(nonNeg).min(1).max(SLOTS),
  cycleSource: source,
  /** The paper's window (Table III), inclusive, zero-based: where the habit centres the request. */
  window: z.tuple([slot, slot]),
  habits: z.union([
    z.object({
      /** Probability that the prosumer asks for this activity on a weekday / a weekend day. */
      weekdayProbability: fraction,
      weekendProbability: fraction,
      /** Standard deviation (slots) of the release slot around window[0]; the window keeps its length. */
      releaseSdSlots: nonNeg,
    }),
    z.object({
      weekdayProbability: fraction,
      weekendProbability: fraction,
      /** The release slot as a histogram over slots (env/habits.ts); the window keeps its length. */
      releaseSlot: z.object({ histogram: histogramSchema }),
    }),
  ]),
});

const ev = z.object({
  capacityKwh: z.number().positive(),
  socMinKwh: nonNeg,
  /** Charge levels are 1..chargeSteps times chargeStepKw (equal steps: see env/ev.ts for why). */
  chargeStepKw: z.number().positive(),
  chargeSteps: z.number().int().min(1).max(8),
  /** V2H: discharge into the home (never into the grid). Levels 1..dischargeSteps × dischargeStepKw. */
  v2h: z.boolean(),
  dischargeStepKw: z.number().positive(),
  dischargeSteps: z.number().int().min(0).max(8),
  chargeEfficiency: z.number().gt(0).max(1),
  dischargeEfficiency: z.number().gt(0).max(1),
  /** €/kWh that J pays for each kWh the day ends below its SoC of 00:00; null: evShortfallPrice's default. */
  shortfallEurPerKwh: nonNeg.nullable().default(null),
  habits: z.object({
    weekdayTripProbability: fraction,
    weekendTripProbability: fraction,
    /** First slot away, first slot back, and the battery energy the trip takes (env/habits.ts forms). */
    departureSlot: distributionSchema,
    arrivalSlot: distributionSchema,
    tripKwh: distributionSchema,
    /** SoC at 00:00, uniform in [min, max] as a fraction of capacity. */
    initialSocFraction: z.object({ min: fraction, max: fraction }),
    /** SoC the prosumer needs at departure, fraction of capacity. */
    targetSocFraction: fraction,
  }),
  source,
});

const pvProfile = z.union([
  /** A year of hourly values (kW per kWp after `scale`); each day draws one of its days. */
  csvProfileSchema,
  z.object({ hourlyKwPerKwp: z.array(nonNeg).length(24) }),
]);

export const scenarioSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    name: z.string(),
    description: z.string(),
    /** What `rescoin habits fit` read to make this file (inputs with their SHA-256). */
    fit: z.record(z.string(), z.unknown()).optional(),
    tableI: z
      .object({ rows: z.array(tableIRow).min(1), totalW: z.number().positive(), source })
      .optional(),
    grid: z.object({ contractKw: z.number().positive(), exportLimitKw: nonNeg, source }),
    tariff: z.object({
      bands: z.array(band).min(1),
      feedInEurPerKwh: nonNeg,
      feedInSource: source,
      source,
    }),
    pv: z.object({ peakKw: nonNeg, profile: pvProfile, source }),
    /**
     * Real base-load days (kWh per hour = kW after `scale`), added to the fixed loads: a day takes
     * the base-load day and the PV day of the same date (the same index), so load and PV stay correlated.
     */
    baseLoad: z.object({ profile: csvProfileSchema, source }).optional(),
    fixedLoads: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        /** 24 hourly values or 96 slot values, kW. */
        profileKw: z.array(nonNeg).refine((a) => a.length === 24 || a.length === SLOTS, {
          message: 'expected 24 hourly or 96 slot values',
        }),
        source,
      }),
    ),
    appliances: z.array(appliance),
    ev: ev.nullable(),
    objective: z.object({
      /** λ: € per kW of the day's import peak. */
      peakEurPerKw: nonNeg,
      /** w: € per kW² (of the PWL x²) per slot, for F.O.2. */
      fo2Weight: nonNeg,
      /** Breakpoints (kW, increasing) of the piecewise-linear approximation of x². */
      fo2BreakpointsKw: z.array(z.number()).min(2),
      source,
    }),
    rescoin: z.object({
      valueEur: nonNeg,
      perKwhSelfConsumed: nonNeg,
      perKwhExported: nonNeg,
      perKwPeakReduction: nonNeg,
      source,
    }),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string, input?: unknown) =>
      ctx.addIssue({ code: 'custom', path, message, input });
    s.tariff.bands.forEach((b, i) =>
      b.slots.forEach(([from, to], j) => {
        if (from > to) issue(['tariff', 'bands', i, 'slots', j], `expected from <= to`, [from, to]);
      }),
    );
    const covered = new Uint8Array(SLOTS);
    for (const b of s.tariff.bands) for (const [from, to] of b.slots) for (let t = from; t <= to; t++) covered[t]++;
    const bad = covered.findIndex((c) => c !== 1);
    if (bad >= 0) issue(['tariff', 'bands'], `every slot must be in exactly one band; slot ${bad} is in ${covered[bad]}`);
    const ids = new Set<string>();
    s.appliances.forEach((a, i) => {
      if (ids.has(a.id)) issue(['appliances', i, 'id'], 'duplicate appliance id', a.id);
      ids.add(a.id);
      const [from, to] = a.window;
      if (to - from + 1 < a.cycleKw.length)
        issue(['appliances', i, 'window'], `window of ${to - from + 1} slots is shorter than the ${a.cycleKw.length}-slot cycle`, a.window);
    });
    const bp = s.objective.fo2BreakpointsKw;
    for (let i = 1; i < bp.length; i++)
      if (!(bp[i] > bp[i - 1])) issue(['objective', 'fo2BreakpointsKw', i], 'breakpoints must increase', bp[i]);
    // Import and export at once must never pay, or an optimiser would do both (see env/score.ts).
    const minPrice = Math.min(...s.tariff.bands.map((b) => b.eurPerKwh));
    const swap = s.tariff.feedInEurPerKwh + s.rescoin.valueEur * (s.rescoin.perKwhExported - s.rescoin.perKwhSelfConsumed);
    if (!(swap < minPrice))
      issue(['tariff', 'feedInEurPerKwh'], `feed-in price plus the RESCoin export premium (${swap.toFixed(6)} €/kWh) must stay below the cheapest import price ${minPrice} €/kWh`, s.tariff.feedInEurPerKwh);
    const wholeSlots = (d: Distribution, path: (string | number)[]) => {
      if (!isHistogram(d)) return;
      const h = d.histogram;
      if (!Number.isInteger(h.start) || !Number.isInteger(h.width)) issue([...path, 'histogram'], 'a slot histogram needs an integer start and width', { start: h.start, width: h.width });
      const [lo, hi] = habitSupport(d, true);
      if (lo < 0 || hi > SLOTS - 1) issue([...path, 'histogram'], `a slot histogram must stay in slots 0..${SLOTS - 1}; its bins with weight reach ${lo}..${hi}`, { start: h.start, width: h.width });
    };
    s.appliances.forEach((a, i) => {
      if ('releaseSlot' in a.habits) wholeSlots(a.habits.releaseSlot, ['appliances', i, 'habits', 'releaseSlot']);
    });
    if (s.ev) {
      const e = s.ev;
      wholeSlots(e.habits.departureSlot, ['ev', 'habits', 'departureSlot']);
      wholeSlots(e.habits.arrivalSlot, ['ev', 'habits', 'arrivalSlot']);
      if (e.v2h && e.dischargeSteps === 0) issue(['ev', 'dischargeSteps'], 'v2h is true but there are no discharge steps', 0);
      if (!e.v2h && e.dischargeSteps !== 0) issue(['ev', 'dischargeSteps'], 'discharge steps need v2h: true', e.dischargeSteps);
      const margin = e.capacityKwh - e.chargeStepKw * e.chargeEfficiency * 0.25;
      if (e.habits.targetSocFraction * e.capacityKwh > margin)
        issue(['ev', 'habits', 'targetSocFraction'], `target must leave one charge step of room below capacity (≤ ${(margin / e.capacityKwh).toFixed(4)})`, e.habits.targetSocFraction);
      if (e.habits.initialSocFraction.max * e.capacityKwh > margin)
        issue(['ev', 'habits', 'initialSocFraction', 'max'], `must leave one charge step of room below capacity (≤ ${(margin / e.capacityKwh).toFixed(4)})`, e.habits.initialSocFraction.max);
      if (e.habits.initialSocFraction.min > e.habits.initialSocFraction.max)
        issue(['ev', 'habits', 'initialSocFraction'], 'min must be ≤ max', e.habits.initialSocFraction);
      if (e.socMinKwh > e.habits.initialSocFraction.min * e.capacityKwh)
        issue(['ev', 'socMinKwh'], 'must be ≤ the lowest initial SoC', e.socMinKwh);
    }
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioSpec = z.output<typeof scenarioSchema>;
export type TableIRow = z.output<typeof tableIRow>;
export type ApplianceSpec = ScenarioSpec['appliances'][number];
export type EvSpec = NonNullable<ScenarioSpec['ev']>;

/**
 * The price of the soft midnight requirement (€ per kWh short of the SoC of 00:00). The default
 * must make any shortfall dearer than the charge that avoids it: a stored kWh costs at most
 * maxPrice/ηc of energy, and a slot that stores step·ηc·Δt kWh raises the peak by at most step kW,
 * i.e. (λ + v·r_peak)/(ηc·Δt) per kWh; twice their sum covers the F.O.2 term's slope as well.
 */
export function evShortfallPrice(s: Scenario): number {
  if (!s.ev) return 0;
  if (s.ev.shortfallEurPerKwh !== null) return s.ev.shortfallEurPerKwh;
  const maxPrice = Math.max(...s.tariff.bands.map((b) => b.eurPerKwh));
  const peak = s.objective.peakEurPerKw + s.rescoin.valueEur * s.rescoin.perKwPeakReduction;
  return (2 * (maxPrice + peak / DT)) / s.ev.chargeEfficiency;
}

/** A validated scenario with its per-slot arrays computed once. */
export interface Scenario extends ScenarioSpec {
  /** Buy price per slot, €/kWh. */
  readonly priceKwh: Float64Array;
  /** Fixed loads (always on, not schedulable) summed per slot, kW. */
  readonly fixedKw: Float64Array;
  /** PV days: each is 96 slots of kW for this home's peakKw; `dayTypes[i]` 1 = Mon … 7 = Sun, or 0. */
  readonly pvDays: Float64Array[];
  readonly pvDayTypes: Uint8Array;
  /**
   * Base-load days, kW per slot: the fixed loads plus the base-load day of the same index as the PV
   * day (just the fixed loads, one day, without `baseLoad`); the day types when PV gives none.
   */
  readonly baseDays: Float64Array[];
  readonly baseDayTypes: Uint8Array;
  /** Per slot, the largest base load of any day (what the contract and the EV's headroom must allow) and the mean (a forecast). */
  readonly baseMaxKw: Float64Array;
  readonly baseMeanKw: Float64Array;
  /** Largest power of each appliance's cycle, kW. */
  readonly applianceMaxKw: Float64Array;
  /** The file a user's scenario was loaded from (absolute), so a run can find it again; unset for built-ins. */
  readonly origin?: string;
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's data/ folder, found from source (env/) and from the build (dist/env/). */
export function dataDir(): string {
  for (const up of ['..', '../..']) {
    const d = resolve(here, up, 'data');
    if (existsSync(join(d, 'scenarios'))) return d;
  }
  throw new ScenarioError(`cannot find the data/ folder above ${here}`);
}

/** A field's value as an error message quotes it: JSON, cut to `max` characters. */
export function describeValue(v: unknown, max = 80): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const s = JSON.stringify(v);
  return s && s.length > max ? `${s.slice(0, max - 3)}...` : String(s);
}

/** One line per problem: the field, the value found and what was expected. */
export function formatIssues(where: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => {
    const field = i.path.length ? i.path.join('.') : '(root)';
    return `  ${field}: got ${describeValue((i as { input?: unknown }).input)}; ${i.message}`;
  });
  return `${where}: invalid scenario\n${lines.join('\n')}`;
}

/** The computed fields of a Scenario: what parseScenario adds to the validated spec (never hashed, never written). */
export const COMPUTED_FIELDS = ['priceKwh', 'fixedKw', 'pvDays', 'pvDayTypes', 'baseDays', 'baseDayTypes', 'baseMaxKw', 'baseMeanKw', 'applianceMaxKw', 'origin'] as const;

export interface ParseOptions {
  /** Folders where the scenario's CSV paths are looked up before data/ (nearest first). */
  dirs?: readonly string[];
}

/**
 * Validate raw scenario data and precompute its per-slot arrays. `where` names it in errors. A raw
 * object with `extends` is merged onto what it extends first (a path relative to `dirs[0]`, else
 * to the current folder).
 */
export function parseScenario(raw: unknown, where = 'scenario', opts: ParseOptions = {}): Scenario {
  let dirs = opts.dirs ?? [];
  if (raw !== null && typeof raw === 'object' && 'extends' in raw) {
    const { extends: ref, ...own } = raw as Record<string, unknown>;
    const chain = resolveRef(ref, dirs[0] ?? resolve('.'), where);
    raw = mergeScenario(chain.raw, own);
    dirs = [...dirs, ...chain.dirs];
  }
  const res = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!res.success) throw new ScenarioError(formatIssues(where, res.error));
  const spec = res.data;
  const priceKwh = new Float64Array(SLOTS);
  for (const b of spec.tariff.bands) for (const [from, to] of b.slots) for (let t = from; t <= to; t++) priceKwh[t] = b.eurPerKwh;
  const fixedKw = new Float64Array(SLOTS);
  for (const f of spec.fixedLoads)
    for (let t = 0; t < SLOTS; t++) fixedKw[t] += f.profileKw.length === 24 ? f.profileKw[Math.floor(t / SLOTS_PER_HOUR)] : f.profileKw[t];
  const csv = (file: string, field: string) => findCsv(file, dirs, dataDir(), field);
  let pv: { days: Float64Array[]; dayTypes: Uint8Array };
  let base: { days: Float64Array[]; dayTypes: Uint8Array } = { days: [fixedKw], dayTypes: new Uint8Array(1) };
  try {
    pv = loadPvDays(spec, csv);
    if (spec.baseLoad) {
      const p = spec.baseLoad.profile;
      const load = loadCsvDays(p, csv(p.csv, 'baseLoad.profile.csv'), 1, 'baseLoad.profile');
      base = { days: load.days.map((d) => d.map((x, t) => x + fixedKw[t])), dayTypes: load.dayTypes };
    }
  } catch (e) {
    if (e instanceof ProfileError) throw new ScenarioError(`${where}: invalid scenario\n  ${e.message}`);
    throw e;
  }
  if (base.days.length > 1 && pv.days.length > 1 && base.days.length !== pv.days.length)
    throw new ScenarioError(`${where}: invalid scenario\n  baseLoad.profile: got ${base.days.length} days, but pv.profile has ${pv.days.length}; a day takes both from the same date, so they need as many days`);
  const { max: baseMaxKw, mean: baseMeanKw } = envelope(base.days);
  const applianceMaxKw = Float64Array.from(spec.appliances, (a) => Math.max(...a.cycleKw));
  const scenario: Scenario = { ...spec, priceKwh, fixedKw, pvDays: pv.days, pvDayTypes: pv.dayTypes, baseDays: base.days, baseDayTypes: base.dayTypes, baseMaxKw, baseMeanKw, applianceMaxKw };
  checkPhysics(scenario, where);
  return scenario;
}

/** The scenario that `ref` (an id or a path relative to `dir`) names, with its own extends applied. */
function resolveRef(ref: unknown, dir: string, where: string): Resolved {
  try {
    return resolveExtendsRef(ref, dir, BUILTINS);
  } catch (e) {
    if (e instanceof ExtendsError) throw new ScenarioError(`${where}: invalid scenario\n  extends: ${e.message}`);
    throw e;
  }
}

/** A built-in scenario's file, or null. */
function builtinPath(id: string): string | null {
  const path = join(dataDir(), 'scenarios', `${id}.json`);
  return existsSync(path) ? path : null;
}
/** The built-in scenarios, as `extends` looks them up. */
export const BUILTINS: Builtins = { path: builtinPath, ids: () => listScenarios() };

/**
 * Limits that need the arrays: appliances alone never exceed the contract on any base-load day (so
 * only the EV is ever limited by it, see env/home.ts), and PV never exceeds the export limit
 * (curtailment is not modelled).
 */
function checkPhysics(s: Scenario, where: string): void {
  const applianceSum = s.applianceMaxKw.reduce((a, b) => a + b, 0);
  const worst = Math.max(...s.baseMaxKw) + applianceSum;
  if (worst > s.grid.contractKw)
    throw new ScenarioError(`${where}: invalid scenario\n  grid.contractKw: got ${s.grid.contractKw}; the base load at its highest plus every appliance at its cycle peak reach ${worst.toFixed(3)} kW, which must fit under the contract`);
  const pvMax = Math.max(0, ...s.pvDays.map((d) => Math.max(...d)));
  if (pvMax > s.grid.exportLimitKw + 1e-9)
    throw new ScenarioError(`${where}: invalid scenario\n  pv.peakKw: got ${s.pv.peakKw}; PV reaches ${pvMax.toFixed(3)} kW, above grid.exportLimitKw ${s.grid.exportLimitKw} (curtailment is not modelled)`);
}

function loadPvDays(spec: ScenarioSpec, csv: (file: string, field: string) => string): { days: Float64Array[]; dayTypes: Uint8Array } {
  const p = spec.pv.profile;
  if ('hourlyKwPerKwp' in p) {
    const day = new Float64Array(SLOTS);
    for (let t = 0; t < SLOTS; t++) day[t] = p.hourlyKwPerKwp[Math.floor(t / SLOTS_PER_HOUR)] * spec.pv.peakKw;
    return { days: [day], dayTypes: new Uint8Array(1) };
  }
  return loadCsvDays(p, csv(p.csv, 'pv.profile.csv'), spec.pv.peakKw, 'pv.profile');
}

/** The ids of the scenarios shipped in data/scenarios/. */
export function listScenarios(): string[] {
  return readdirSync(join(dataDir(), 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Load a scenario by id (from data/scenarios/) or by path to a JSON file, with its `extends` chain applied. */
export function loadScenario(idOrPath: string): Scenario {
  const isPath = idOrPath.endsWith('.json') || idOrPath.includes('/');
  const path = isPath ? resolve(idOrPath) : join(dataDir(), 'scenarios', `${idOrPath}.json`);
  if (!existsSync(path)) {
    const known = listScenarios();
    throw new ScenarioError(`unknown scenario "${idOrPath}"; expected one of: ${known.join(', ')} (or a path to a .json file)`);
  }
  let resolved: Resolved;
  try {
    resolved = resolveExtends(path, BUILTINS);
  } catch (e) {
    if (e instanceof ExtendsError) throw new ScenarioError(e.message);
    throw e;
  }
  const s = parseScenario(resolved.raw, path, { dirs: resolved.dirs });
  return isPath && builtinPath(s.id) !== path ? { ...s, origin: path } : s;
}
