import { ExtendsError, resolveExtendsRef } from '../env/extends.js';
import { BUILTINS } from '../env/scenario.js';
import { SLOTS } from '../env/time.js';
import type { ApplianceRun, LocalDay, Observations } from './observations.js';
import { fitEv, histogramOf, isWeekend, mean, sampleSd, type EvSummary, type Form } from './fit-ev.js';
import { contractFor, contractRule, fitLoad } from './fit-load.js';

/**
 * `fitHabits`: a scenario that `extends` a base, with the habits the observations show. Only what
 * the data speaks to is written; everything else comes from the base through `extends` (objects
 * merge key by key, arrays replace: so `appliances` is written whole).
 */

export class FitError extends Error {
  override name = 'FitError';
}

type Json = Record<string, unknown>;
interface BaseAppliance {
  id: string;
  window: [number, number];
  cycleKw: number[];
  habits: Json;
  [k: string]: unknown;
}
interface BaseJson {
  id: string;
  appliances: BaseAppliance[];
  ev: ({ chargeEfficiency: number; chargeStepKw: number; habits: Json } & Json) | null;
  pv: { peakKw: number } & Json;
  grid: { contractKw: number; exportLimitKw: number } & Json;
  fixedLoads: { profileKw: number[] }[];
  [k: string]: unknown;
}

export interface FitOptions {
  id: string;
  form: Form;
  /** What the output's `extends` says: a built-in id or a path relative to the output. */
  baseRef: string;
  /** The companion CSV's file name, as the scenario names it (beside the scenario). */
  companion?: string;
  /** PV size (kWp) the meter's PV is divided by; default the base's pv.peakKw. */
  pvKwp?: number;
  tz?: string;
}

export interface ApplianceSummary {
  id: string;
  days: { weekday: number; weekend: number };
  asked: { weekday: number; weekend: number };
  /** First runs whose release would push the window past 23:45, moved to the last slot that fits. */
  clipped: number;
}

export interface FitResult {
  scenario: Json;
  companionCsv: string | null;
  summary: { appliances: ApplianceSummary[]; ev: EvSummary | null; meterDays: number; contractKw: number | null };
  /** What the user should know (printed by the CLI). */
  messages: string[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The first run of each day (the model asks at most once a day), by date. */
function firstRuns(runs: readonly ApplianceRun[]): Map<string, ApplianceRun> {
  const first = new Map<string, ApplianceRun>();
  for (const r of runs) {
    const f = first.get(r.day.date);
    if (!f || r.startSlot < f.startSlot) first.set(r.day.date, r);
  }
  return first;
}

/** One appliance's habits (and window, for the normal form) from its covered days and runs. */
export function fitAppliance(a: BaseAppliance, covered: readonly LocalDay[], runs: readonly ApplianceRun[], form: Form): { appliance: BaseAppliance; summary: ApplianceSummary } {
  const days = new Map<string, LocalDay>(covered.map((d) => [d.date, d]));
  for (const r of runs) days.set(r.day.date, r.day);
  const first = firstRuns(runs);
  const length = a.window[1] - a.window[0] + 1;
  const latest = SLOTS - length;
  const summary: ApplianceSummary = { id: a.id, days: { weekday: 0, weekend: 0 }, asked: { weekday: 0, weekend: 0 }, clipped: 0 };
  const release = { weekday: [] as number[], weekend: [] as number[] };
  for (const d of days.values()) {
    const type = isWeekend(d) ? 'weekend' : 'weekday';
    summary.days[type]++;
    const r = first.get(d.date);
    if (!r) continue;
    summary.asked[type]++;
    if (r.startSlot > latest) summary.clipped++;
    release[type].push(Math.min(r.startSlot, latest));
  }
  const share = (type: 'weekday' | 'weekend', key: string) => (summary.days[type] > 0 ? round(summary.asked[type] / summary.days[type], 4) : (a.habits[key] as number));
  const probabilities = { weekdayProbability: share('weekday', 'weekdayProbability'), weekendProbability: share('weekend', 'weekendProbability') };
  const all = [...release.weekday, ...release.weekend];
  if (all.length === 0) return { appliance: { ...a, habits: { ...a.habits, ...probabilities } }, summary };
  if (form === 'empirical') return { appliance: { ...a, habits: { ...probabilities, releaseSlot: histogramOf(release.weekday, release.weekend, 1) } }, summary };
  const w0 = Math.min(latest, Math.max(0, Math.round(mean(all))));
  return { appliance: { ...a, window: [w0, w0 + length - 1], habits: { ...probabilities, releaseSdSlots: round(sampleSd(all), 3) } }, summary };
}

function checkApplianceIds(base: BaseJson, obs: Observations): void {
  const known = new Set(base.appliances.map((a) => a.id));
  const seen = new Set([...obs.applianceDays.keys(), ...obs.runs.map((r) => r.appliance)]);
  const unknown = [...seen].filter((id) => !known.has(id));
  if (unknown.length === 0) return;
  const where = obs.runs.find((r) => r.appliance === unknown[0])?.at;
  const at = where ? ` (first at ${where.file}:${where.line})` : '';
  throw new FitError(`appliance ${unknown.map((u) => `"${u}"`).join(', ')} in the data${at} is not in the base scenario ${base.id}; expected one of: ${[...known].join(', ')}`);
}

const filesText = (obs: Observations) => obs.files.map((f) => `${f.path} (${f.format}, sha256 ${f.sha256})`).join('; ');

/** The fitted scenario (see the header) and what to tell the user. */
export function fitHabits(base: BaseJson, obs: Observations, opts: FitOptions): FitResult {
  checkApplianceIds(base, obs);
  const messages: string[] = [];
  const out: Json = { extends: opts.baseRef, id: opts.id, name: `${opts.id} (fitted)` };
  const summaries: ApplianceSummary[] = [];
  const appliances = base.appliances.map((a) => {
    const covered = obs.applianceDays.get(a.id) ?? [];
    const runs = obs.runs.filter((r) => r.appliance === a.id);
    if (covered.length === 0 && runs.length === 0) return a;
    const f = fitAppliance(a, covered, runs, opts.form);
    summaries.push(f.summary);
    if (f.summary.clipped) messages.push(`${a.id}: ${f.summary.clipped} first runs start too late for the ${a.window[1] - a.window[0] + 1}-slot window to end by 23:45; their release is moved to slot ${SLOTS - (a.window[1] - a.window[0] + 1)}`);
    return f.appliance;
  });
  if (summaries.length) out.appliances = appliances;
  let ev: EvSummary | null = null;
  if (obs.sessions.length) {
    if (!base.ev) throw new FitError(`the data has ${obs.sessions.length} EV sessions but the base scenario ${base.id} has no EV (ev: null): choose a base with an EV`);
    const f = fitEv(obs, base.ev.chargeEfficiency, opts.form);
    out.ev = { habits: f.habits };
    ev = f.summary;
    messages.push(...f.messages);
  }
  const contractKw = fitMeter(base, obs, opts, out, messages, appliances);
  const companion = obs.meter.length ? fitLoad(obs.meter, opts.pvKwp ?? base.pv.peakKw).csv : null;
  out.description = `Fitted by rescoin habits fit (form ${opts.form}${opts.tz ? `, time zone ${opts.tz}` : ''}) from ${filesText(obs)}; everything else from ${opts.baseRef}.`;
  out.fit = {
    inputs: obs.files,
    tz: opts.tz ?? null,
    form: opts.form,
    days: { appliances: Object.fromEntries(summaries.map((s) => [s.id, s.days.weekday + s.days.weekend])), ev: [...obs.evDays.values()].reduce((n, d) => n + d.length, 0), meter: obs.meter.length },
    notes: obs.notes.length,
  };
  return { scenario: out, companionCsv: companion, summary: { appliances: summaries, ev, meterDays: obs.meter.length, contractKw }, messages };
}

/** baseLoad, pv, fixedLoads and the grid from the meter days; the contract if it was resized. */
function fitMeter(base: BaseJson, obs: Observations, opts: FitOptions, out: Json, messages: string[], appliances: BaseAppliance[]): number | null {
  if (obs.meter.length === 0) return null;
  const pvKwp = opts.pvKwp ?? base.pv.peakKw;
  const load = fitLoad(obs.meter, pvKwp);
  const csv = opts.companion ?? `${opts.id}.days.csv`;
  const profile = (column: string) => ({ csv, column, scale: 1, dayTypeColumn: 'day_type', skipRows: 0 });
  out.baseLoad = { profile: profile('load_kw'), source: `Whole-home meter, ${load.days} days (${filesText(obs)}), hourly mean kW` };
  // A whole-home meter already holds the always-on loads: the base's fixed loads would count twice.
  out.fixedLoads = [];
  const noPv = load.pvDays === 0;
  out.pv = { peakKw: noPv ? 0 : pvKwp, profile: profile('pv_kw_per_kwp'), source: noPv ? 'The meter has no PV: the fitted home has none' : `Metered PV of the same days, per kWp of ${pvKwp} kWp${opts.pvKwp === undefined ? " (the base's size; --pv-kwp to set it)" : ''}` };
  if (noPv) messages.push('meter: no PV in the data: the fitted home has no PV (pv.peakKw 0)');
  else if (load.pvDays < load.days) messages.push(`meter: ${load.days - load.pvDays} of ${load.days} days have no PV: their PV is 0`);
  const peaks = appliances.map((a) => Math.max(...a.cycleKw));
  const worst = load.maxBaseKw + peaks.reduce((a, b) => a + b, 0);
  const grid: Json = {};
  let contractKw: number | null = null;
  if (worst > base.grid.contractKw) {
    contractKw = contractFor(load.maxBaseKw, peaks, base.ev?.chargeStepKw ?? 0);
    grid.contractKw = contractKw;
    grid.source = contractRule(load.maxBaseKw, peaks, base.ev?.chargeStepKw ?? 0, contractKw);
    messages.push(`grid: the base's ${base.grid.contractKw} kW contract cannot hold the metered load (${load.maxBaseKw.toFixed(3)} kW at most) plus every appliance at its peak (${worst.toFixed(3)} kW): contract set to ${contractKw} kW`);
  }
  if (!noPv && load.maxPvKw > base.grid.exportLimitKw) {
    grid.exportLimitKw = Math.ceil(load.maxPvKw * 10) / 10;
    grid.source = `${grid.source ? `${grid.source as string}. ` : ''}Export limit raised to the metered PV peak ${grid.exportLimitKw} kW (curtailment is not modelled)`;
    messages.push(`grid: metered PV reaches ${load.maxPvKw.toFixed(3)} kW, above the base's export limit: set to ${grid.exportLimitKw as number} kW`);
  }
  if (Object.keys(grid).length) out.grid = grid;
  return contractKw;
}

/** A scenario's raw JSON by id or path, with its `extends` chain merged in (env/extends.ts): the fitter's base. */
export function readScenarioJson(ref: string, from = process.cwd()): BaseJson {
  try {
    return resolveExtendsRef(ref, from, BUILTINS).raw as unknown as BaseJson;
  } catch (e) {
    if (e instanceof ExtendsError) throw new FitError(`base scenario: ${e.message}`);
    throw e;
  }
}
