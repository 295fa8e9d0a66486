import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DT, SLOTS, SLOTS_PER_HOUR } from './time.js';

/**
 * The scenario: everything that makes one home. Every number the paper does not give carries a
 * `source` next to it in the JSON file. Units: kW, kWh, €, RSC; slots are 0..95.
 */

const slot = z.number().int().min(0).max(SLOTS - 1);
const nonNeg = z.number().min(0);
const fraction = z.number().min(0).max(1);
const source = z.string().min(1);

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

const habitSpread = z.object({ mean: z.number(), sd: nonNeg, min: z.number(), max: z.number() });

const appliance = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  name: z.string(),
  kind: z.enum(['non-interruptible', 'interruptible']),
  /** Power (kW) drawn in each slot of a cycle: slot k of the cycle draws cycleKw[k]. */
  cycleKw: z.array(nonNeg).min(1).max(SLOTS),
  cycleSource: source,
  /** The paper's window (Table III), inclusive, zero-based: where the habit centres the request. */
  window: z.tuple([slot, slot]),
  habits: z.object({
    /** Probability that the prosumer asks for this activity on a weekday / a weekend day. */
    weekdayProbability: fraction,
    weekendProbability: fraction,
    /** Standard deviation (slots) of the release slot around window[0]; the window keeps its length. */
    releaseSdSlots: nonNeg,
  }),
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
    departureSlot: habitSpread,
    arrivalSlot: habitSpread,
    tripKwh: habitSpread,
    /** SoC at 00:00, uniform in [min, max] as a fraction of capacity. */
    initialSocFraction: z.object({ min: fraction, max: fraction }),
    /** SoC the prosumer needs at departure, fraction of capacity. */
    targetSocFraction: fraction,
  }),
  source,
});

const pvProfile = z.union([
  z.object({
    /** A year of hourly values in a CSV under data/; each day draws one of its days. */
    csv: z.string(),
    column: z.string(),
    /** Multiplier from the column's unit to kW per kWp. */
    scale: z.number().positive(),
    /** Optional column with the day of week, 1 = Monday … 7 = Sunday. */
    dayTypeColumn: z.string().optional(),
    /** Rows to skip at the top so that row 0 is hour 00:00-01:00 of a day. */
    skipRows: z.number().int().min(0).default(0),
  }),
  z.object({ hourlyKwPerKwp: z.array(nonNeg).length(24) }),
]);

export const scenarioSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    name: z.string(),
    description: z.string(),
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
    if (s.ev) {
      const e = s.ev;
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
  /** Largest power of each appliance's cycle, kW. */
  readonly applianceMaxKw: Float64Array;
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

/** Validate raw scenario data and precompute its per-slot arrays. `where` names it in errors. */
export function parseScenario(raw: unknown, where = 'scenario'): Scenario {
  const res = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!res.success) throw new ScenarioError(formatIssues(where, res.error));
  const spec = res.data;
  const priceKwh = new Float64Array(SLOTS);
  for (const b of spec.tariff.bands) for (const [from, to] of b.slots) for (let t = from; t <= to; t++) priceKwh[t] = b.eurPerKwh;
  const fixedKw = new Float64Array(SLOTS);
  for (const f of spec.fixedLoads)
    for (let t = 0; t < SLOTS; t++) fixedKw[t] += f.profileKw.length === 24 ? f.profileKw[Math.floor(t / SLOTS_PER_HOUR)] : f.profileKw[t];
  const { days, dayTypes } = loadPvDays(spec, where);
  const applianceMaxKw = Float64Array.from(spec.appliances, (a) => Math.max(...a.cycleKw));
  const scenario: Scenario = { ...spec, priceKwh, fixedKw, pvDays: days, pvDayTypes: dayTypes, applianceMaxKw };
  checkPhysics(scenario, where);
  return scenario;
}

/**
 * Limits that need the arrays: appliances alone never exceed the contract (so only the EV is ever
 * limited by it, see env/home.ts), and PV never exceeds the export limit (curtailment is not modelled).
 */
function checkPhysics(s: Scenario, where: string): void {
  const applianceSum = s.applianceMaxKw.reduce((a, b) => a + b, 0);
  const worst = Math.max(...s.fixedKw) + applianceSum;
  if (worst > s.grid.contractKw)
    throw new ScenarioError(`${where}: invalid scenario\n  grid.contractKw: got ${s.grid.contractKw}; fixed loads plus every appliance at its cycle peak reach ${worst.toFixed(3)} kW, which must fit under the contract`);
  const pvMax = Math.max(0, ...s.pvDays.map((d) => Math.max(...d)));
  if (pvMax > s.grid.exportLimitKw + 1e-9)
    throw new ScenarioError(`${where}: invalid scenario\n  pv.peakKw: got ${s.pv.peakKw}; PV reaches ${pvMax.toFixed(3)} kW, above grid.exportLimitKw ${s.grid.exportLimitKw} (curtailment is not modelled)`);
}

const csvCache = new Map<string, string[][]>();
function readCsv(path: string): string[][] {
  let rows = csvCache.get(path);
  if (!rows) {
    rows = readFileSync(path, 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
    csvCache.set(path, rows);
  }
  return rows;
}

function loadPvDays(spec: ScenarioSpec, where: string): { days: Float64Array[]; dayTypes: Uint8Array } {
  const p = spec.pv.profile;
  if ('hourlyKwPerKwp' in p) {
    const day = new Float64Array(SLOTS);
    for (let t = 0; t < SLOTS; t++) day[t] = p.hourlyKwPerKwp[Math.floor(t / SLOTS_PER_HOUR)] * spec.pv.peakKw;
    return { days: [day], dayTypes: new Uint8Array(1) };
  }
  const path = join(dataDir(), p.csv);
  if (!existsSync(path)) throw new ScenarioError(`${where}: invalid scenario\n  pv.profile.csv: got "${p.csv}"; no such file under data/`);
  const rows = readCsv(path);
  const header = rows[0];
  const col = header.indexOf(p.column);
  if (col < 0) throw new ScenarioError(`${where}: invalid scenario\n  pv.profile.column: got "${p.column}"; expected one of ${header.join(', ')}`);
  const dayCol = p.dayTypeColumn ? header.indexOf(p.dayTypeColumn) : -1;
  if (p.dayTypeColumn && dayCol < 0)
    throw new ScenarioError(`${where}: invalid scenario\n  pv.profile.dayTypeColumn: got "${p.dayTypeColumn}"; expected one of ${header.join(', ')}`);
  const body = rows.slice(1 + p.skipRows);
  const nDays = Math.floor(body.length / 24);
  const days: Float64Array[] = [];
  const dayTypes = new Uint8Array(nDays);
  for (let d = 0; d < nDays; d++) {
    const day = new Float64Array(SLOTS);
    for (let h = 0; h < 24; h++) {
      const v = Number(body[d * 24 + h][col]);
      if (!Number.isFinite(v)) throw new ScenarioError(`${where}: ${p.csv} line ${2 + p.skipRows + d * 24 + h}, column ${p.column}: not a number`);
      for (let k = 0; k < SLOTS_PER_HOUR; k++) day[h * SLOTS_PER_HOUR + k] = v * p.scale * spec.pv.peakKw;
    }
    days.push(day);
    if (dayCol >= 0) dayTypes[d] = Number(body[d * 24][dayCol]);
  }
  return { days, dayTypes };
}

/** The ids of the scenarios shipped in data/scenarios/. */
export function listScenarios(): string[] {
  return readdirSync(join(dataDir(), 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Load a scenario by id (from data/scenarios/) or by path to a JSON file. */
export function loadScenario(idOrPath: string): Scenario {
  const isPath = idOrPath.endsWith('.json') || idOrPath.includes('/');
  const path = isPath ? resolve(idOrPath) : join(dataDir(), 'scenarios', `${idOrPath}.json`);
  if (!existsSync(path)) {
    const known = listScenarios();
    throw new ScenarioError(`unknown scenario "${idOrPath}"; expected one of: ${known.join(', ')} (or a path to a .json file)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}

/** Table I of the paper, eq. (2): P_ma = Σ n·k_c·(k_u·P_N), in W. */
export function contractSizingW(rows: TableIRow[]): number {
  return rows.reduce((sum, r) => sum + r.n * r.kc * r.ku * r.nominalW, 0);
}
