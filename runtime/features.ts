import type { HomeController } from './controller.js';
import type { ControllerSpec, FeatureSpec } from './manifest.js';
import { evRate, SLOTS } from './view.js';

/**
 * # The observation: one table of features
 *
 * Each feature is `{ name, unit, scaling, low, high, read }` (`read` compiled from `expr`): the layout (policy.json
 * `observation.features`, env/home.ts `observationLayout`, the Box bounds) and the values (`read`,
 * from the controller's state of the slot) come from this one list, so they cannot drift apart.
 *
 * | feature | unit | scaling |
 * | --- | --- | --- |
 * | time_sin, time_cos | - | sin/cos(2π·t/96) |
 * | weekend | 0/1 | Saturday or Sunday |
 * | price_now, price_1h, price_4h | €/kWh | ÷ highest band price; the price now, in 4 and in 16 slots |
 * | pv_now, pv_next_1h, pv_next_4h | kW | ÷ PV peak kWp; now, mean over the next 4 and 16 slots (the forecast readings) |
 * | base_now | kW | ÷ contract; fixed loads now |
 * | per appliance: pending | 0/1 | a visible request not done |
 * | per appliance: remaining | slots | ÷ cycle length |
 * | per appliance: slack | slots | (deadline − t + 1 − remaining) ÷ 96 |
 * | per appliance: running | 0/1 | it ran in the previous slot |
 * | ev.home, ev.soc, ev.needed, ev.due (with an EV) | 0/1, kWh, kWh, slots | –, ÷ capacity, ÷ capacity, slots to the next requirement ÷ 96 |
 * | ev.rate (with an EV) | kW | mean grid power the EV needs until due ÷ charge step, at most 4 (above 1 the slow level cannot make it) |
 * | ev.start (with an EV) | kWh | SoC at 00:00, which the day must end with, ÷ capacity: before a trip it tells how much to charge beyond the departure target for the evening |
 * | peak | kW | running import peak ÷ contract |
 *
 * After the last slot (t = 96) the prices and PV read slot 95, and nothing is pending.
 */

export interface FeatureDef extends FeatureSpec {
  /**
   * The value as a JavaScript expression of `h` (the controller), `i` (the appliance of a
   * per-appliance feature) and `evRate`: the controller compiles all of a home's expressions into
   * one function (`compileObservation`), as fast as hand-written code, where 45 calls of separate
   * functions per slot cost more than the rest of the step.
   */
  expr: string;
  /** The value, from `expr`. */
  read(h: HomeController, i: number): number;
}

type Read = FeatureDef['read'];
const compile = (expr: string): Read => new Function('evRate', `return (h, i) => ${expr};`)(evRate) as Read;
const f = (name: string, unit: string, scaling: string, expr: string, low = 0, high = 1): FeatureDef => ({ name, unit, scaling, low, high, expr, read: compile(expr) });
// After the last slot (t = 96) prices and PV read slot 95.
const price = (ahead: number) => `h.priceKwh[Math.min(Math.min(h.slot, ${SLOTS - 1}) + ${ahead}, ${SLOTS - 1})] / h.maxPriceKwh`;
const pending = `(h.deadline[i] >= 0 && h.slot < ${SLOTS})`;

const HOME: FeatureDef[] = [
  f('time_sin', '-', 'sin(2π·t/96)', `Math.sin((2 * Math.PI * h.slot) / ${SLOTS})`, -1, 1),
  f('time_cos', '-', 'cos(2π·t/96)', `Math.cos((2 * Math.PI * h.slot) / ${SLOTS})`, -1, 1),
  f('weekend', '0/1', 'Saturday or Sunday', 'h.weekend'),
  f('price_now', '€/kWh', '÷ highest band price', price(0)),
  f('price_1h', '€/kWh', 'price in 4 slots ÷ highest band price', price(4)),
  f('price_4h', '€/kWh', 'price in 16 slots ÷ highest band price', price(16)),
  f('pv_now', 'kW', '÷ PV kWp', 'h.pvKw / h.pvScale'),
  f('pv_next_1h', 'kW', 'mean of the next 4 slots ÷ PV kWp', 'h.pvNext1hKw / h.pvScale'),
  f('pv_next_4h', 'kW', 'mean of the next 16 slots ÷ PV kWp', 'h.pvNext4hKw / h.pvScale'),
  f('base_now', 'kW', '÷ contract', 'h.baseKw / h.contractKw'),
];

/** Per appliance, named `<device>.<suffix>`. */
const APPLIANCE: FeatureDef[] = [
  f('pending', '0/1', 'a visible request not done', `(${pending} ? 1 : 0)`),
  f('remaining', 'slots', '÷ cycle length', `(${pending} ? h.remaining[i] / h.cycleLength[i] : 0)`),
  f('slack', 'slots', '(deadline − t + 1 − remaining) ÷ 96', `(${pending} ? (h.deadline[i] - h.slot + 1 - h.remaining[i]) / ${SLOTS} : 0)`),
  f('running', '0/1', 'ran in the previous slot', 'h.ranLast[i]'),
];

const evFeatures = (rateMax: number): FeatureDef[] => [
  f('ev.home', '0/1', 'plugged in at home', '(h.ev.home ? 1 : 0)'),
  f('ev.soc', 'kWh', '÷ capacity', 'h.ev.socKwh / h.ev.capacityKwh'),
  f('ev.needed', 'kWh', 'energy to the next requirement ÷ capacity', 'h.ev.neededKwh / h.ev.capacityKwh'),
  f('ev.due', 'slots', 'slots to the next requirement ÷ 96', `Math.max(0, h.ev.dueSlot - h.slot) / ${SLOTS}`),
  f('ev.rate', 'kW', `needed ÷ (η_c·Δt·slots to due) ÷ charge step, at most ${rateMax}`, `evRate(h.ev, h.ev.spec, h.slot, ${rateMax})`, 0, rateMax),
  f('ev.start', 'kWh', 'SoC at 00:00, which the day must end with ÷ capacity', 'h.ev.startKwh / h.ev.capacityKwh'),
];

const PEAK = f('peak', 'kW', 'running import peak ÷ contract', 'h.peakKw / h.contractKw', 0, 2);

type Writer = (h: HomeController, out: Float32Array, o: number) => void;
/** Compiled writers by source: the homes of a vector env share one function, optimised once. */
const writers = new Map<string, Writer>();
const byTable = new WeakMap<readonly FeatureDef[], { appliance: Int32Array; writer: Writer }>();

/** One function writing every feature of a table into out[o …], in order. */
export function compileObservation(defs: readonly FeatureDef[], appliance: Int32Array): Writer {
  // A shared table (sharedFeatureTable) comes back with the same arrays: skip building its source again.
  const known = byTable.get(defs);
  if (known && known.appliance === appliance) return known.writer;
  const body = defs.map((d, k) => `{ const i = ${appliance[k]}; out[o + ${k}] = ${d.expr}; }`).join('\n');
  let w = writers.get(body);
  if (!w) writers.set(body, (w = new Function('evRate', `return function writeObservation(h, out, o) {\n${body}\n};`)(evRate) as Writer));
  byTable.set(defs, { appliance, writer: w });
  return w;
}

/**
 * featureTable of a spec, built once per spec object: a community of 1,000 homes shares a few specs,
 * and building a table compiles every feature's reader. The table is never written to.
 */
const tables = new WeakMap<ControllerSpec, { defs: FeatureDef[]; appliance: Int32Array }>();
export function sharedFeatureTable(spec: ControllerSpec): { defs: FeatureDef[]; appliance: Int32Array } {
  let t = tables.get(spec);
  if (!t) tables.set(spec, (t = featureTable(spec)));
  return t;
}

/** The features of a home in observation order, each with the appliance it reads (-1: none). */
export function featureTable(spec: ControllerSpec): { defs: FeatureDef[]; appliance: Int32Array } {
  const defs: FeatureDef[] = [...HOME];
  const appliance: number[] = HOME.map(() => -1);
  spec.action.appliances.forEach((a, i) => {
    for (const d of APPLIANCE) {
      defs.push(f(`${a.device}.${d.name}`, d.unit, d.scaling, d.expr, d.low, d.high));
      appliance.push(i);
    }
  });
  if (spec.home.ev)
    for (const d of evFeatures(spec.home.ev.rateMax)) {
      defs.push(d);
      appliance.push(-1);
    }
  defs.push(PEAK);
  appliance.push(-1);
  return { defs, appliance: Int32Array.from(appliance) };
}

/** The observation's features in order, with units, scaling and bounds (the manifest's layout). */
export function observationLayout(spec: ControllerSpec): FeatureSpec[] {
  return featureTable(spec).defs.map(({ name, unit, scaling, low, high }) => ({ name, unit, scaling, low, high }));
}
