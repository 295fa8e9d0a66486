import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { daySeed, flatCodec, loadScenario, makeEnv, SLOTS, slotTime, type DaySummary } from '../env/index.js';
import type { GatewayHome, HomeReadings, LoadedPolicy, PolicyManifest } from '../runtime/index.js';

/**
 * `rescoin gateway --policy gateway/NAME --replay day.csv [--out messages.jsonl]`: an exported
 * policy run as a home gateway runs it. Each row of the replay CSV is one slot of what the smart
 * meter, the PV inverter, the EV charger and the user's requests tell the gateway; the folder's own
 * policy.mjs does the rest: its home controller (runtime/controller.ts, the code the simulator runs)
 * builds the observation and the exact action mask from the readings and its state, the policy acts
 * (never tfjs), and the controller applies the action and gives one control message per appliance
 * and for the EV per slot, written as JSON lines `{ slot, time, device, command, power }` (power in
 * kW, grid side; the paper's "transmit a control message to the smart meter"). This module only
 * parses the CSV into the controller's readings. docs/gateway.md has the same without a CSV.
 *
 * ## Replay CSV: one row per slot, slots 0, 1, 2, … in order (a whole day is 96 rows)
 * | column | unit | meaning |
 * | --- | --- | --- |
 * | slot | 0…95 | the 15-minute slot the row describes (slot t starts at t·15 min) |
 * | weekend | 0/1 | Saturday or Sunday |
 * | base_kw | kW | fixed loads now (what the home draws besides the appliances and the EV the gateway switches) |
 * | pv_kw | kW | PV production now |
 * | pv_next_1h_kw, pv_next_4h_kw | kW | PV forecast: mean over the next 4 and the next 16 slots |
 * | `<appliance>_deadline` | slot | per appliance of policy.json (e.g. `dishwasher_deadline`): the last slot of the user's request, on every row from the slot it is made; empty when there is none |
 * | ev_home | 0/1 | (homes with an EV) the EV is plugged in at home |
 * | ev_soc_kwh | kWh | the charger's SoC reading at the start of the slot. Needed on the first row and on the row the EV comes back; empty on other rows, where the gateway integrates its own commands |
 * | ev_due_slot | 0…96 | when the EV's next requirement is due: its departure, or 96 (the end of the day) |
 * | ev_target_kwh | kWh | the SoC it must hold by then (at the end of the day: the SoC it had at 00:00, so no day borrows from the next; while away, plus what the trip is expected to use) |
 * | ev_floor_kwh | kWh | the lowest SoC allowed at the end of the slot (the charger's safety floor: below it the target is out of reach); empty: max(socMin, target − what the fastest level adds before due) |
 *
 * The state the gateway keeps (cycles run, the running import peak, the EV's SoC between readings),
 * the mask and the fallback are the controller's (runtime/controller.ts, module comment).
 *
 * `rescoin gateway --policy gateway/NAME --write-example day.csv --seed K --day d` writes such a CSV
 * for day d of seed K of the policy's scenario, as a meter would have recorded it with the policy in
 * control (the simulator's readings of each slot): replaying it gives back the environment's
 * observations, masks and actions.
 */

/** One row of the replay CSV, parsed and checked. */
export interface ReplayRow {
  /** 1-based line of the CSV (the header is line 1). */
  line: number;
  slot: number;
  weekend: number;
  baseKw: number;
  pvKw: number;
  pvNext1hKw: number;
  pvNext4hKw: number;
  /** Per appliance: the deadline slot of the pending request, or null. */
  deadlines: (number | null)[];
  ev: { home: number; socKwh: number | null; dueSlot: number; targetKwh: number; floorKwh: number | null } | null;
}

/** A control message as the gateway writes it (one JSON line). */
export interface GatewayMessage {
  slot: number;
  time: string;
  device: string;
  command: string;
  /** kW, grid side: positive draws from the home's supply, negative (V2H) feeds the home. */
  power: number;
}

/** The replay columns of a policy's home, in order. */
export function replayColumns(m: PolicyManifest): string[] {
  const cols = ['slot', 'weekend', 'base_kw', 'pv_kw', 'pv_next_1h_kw', 'pv_next_4h_kw', ...m.action.appliances.map((a) => `${a.device}_deadline`)];
  if (m.action.ev) cols.push('ev_home', 'ev_soc_kwh', 'ev_due_slot', 'ev_target_kwh', 'ev_floor_kwh');
  return cols;
}

/** A replay CSV problem, naming the file, the line and the column. */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** Parses and checks a replay CSV; errors name the line and the column. */
export function parseReplay(text: string, m: PolicyManifest, file = 'replay.csv'): ReplayRow[] {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new ReplayError(`${file}: empty; expected a header line and one row per slot`);
  const header = lines[0].split(',').map((h) => h.trim());
  const expected = replayColumns(m);
  header.forEach((h, k) => {
    if (!expected.includes(h)) throw new ReplayError(`${file} line 1, column ${k + 1} "${h}": unknown column; expected the columns ${expected.join(', ')}`);
  });
  for (const c of expected) if (!header.includes(c)) throw new ReplayError(`${file} line 1: missing column ${c}; expected the columns ${expected.join(', ')}`);
  if (lines.length - 1 > SLOTS) throw new ReplayError(`${file} line ${SLOTS + 2}: a day has ${SLOTS} slots; expected at most ${SLOTS} rows`);
  const at = new Map(header.map((h, k) => [h, k]));
  return lines.slice(1).map((text, k) => {
    const line = k + 2;
    const cells = text.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw new ReplayError(`${file} line ${line}: ${cells.length} fields, expected ${header.length} (one per header column)`);
    const cell = (c: string) => cells[at.get(c)!];
    const bad = (c: string, want: string): never => {
      throw new ReplayError(`${file} line ${line}, column ${c}: expected ${want}, got ${JSON.stringify(cell(c))}`);
    };
    const num = (c: string, lo: number, hi: number, want: string, optional = false, integer = false): number | null => {
      const s = cell(c);
      if (s === '') return optional ? null : bad(c, want);
      const v = Number(s);
      if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) return bad(c, want);
      return v;
    };
    const slot = num('slot', k, k, `slot ${k} (rows are consecutive slots from 0)`, false, true)!;
    const kw = (c: string) => num(c, 0, Infinity, 'a power ≥ 0 kW')!;
    const ev = m.home.ev;
    return {
      line,
      slot,
      weekend: num('weekend', 0, 1, '0 or 1', false, true)!,
      baseKw: kw('base_kw'),
      pvKw: kw('pv_kw'),
      pvNext1hKw: kw('pv_next_1h_kw'),
      pvNext4hKw: kw('pv_next_4h_kw'),
      deadlines: m.action.appliances.map((a) => num(`${a.device}_deadline`, slot, SLOTS - 1, `empty or a deadline slot from ${slot} to ${SLOTS - 1}`, true, true)),
      ev: ev
        ? {
            home: num('ev_home', 0, 1, '0 or 1', false, true)!,
            socKwh: num('ev_soc_kwh', 0, ev.capacityKwh, `empty or a SoC from 0 to ${ev.capacityKwh} kWh`, true),
            dueSlot: num('ev_due_slot', slot, SLOTS, `a slot from ${slot} to ${SLOTS}`, false, true)!,
            targetKwh: num('ev_target_kwh', 0, Infinity, 'an energy ≥ 0 kWh')!,
            floorKwh: num('ev_floor_kwh', 0, ev.capacityKwh, `empty or a SoC from 0 to ${ev.capacityKwh} kWh`, true),
          }
        : null,
    };
  });
}

/** The folder's own policy.mjs (a dynamic import: no tfjs, no rescoin code). */
async function runtimeOf(dir: string): Promise<typeof import('../runtime/index.js')> {
  return (await import(pathToFileURL(resolve(dir, 'policy.mjs')).href)) as typeof import('../runtime/index.js');
}

/** Loads an exported folder's policy through its own policy.mjs. */
export async function loadGatewayPolicy(dir: string): Promise<LoadedPolicy> {
  return (await runtimeOf(dir)).loadPolicy(dir);
}

/** Loads an exported folder's home controller and policy through its own policy.mjs. */
export async function loadGatewayHome(dir: string): Promise<GatewayHome> {
  return (await runtimeOf(dir)).loadController(dir);
}

/** What one slot gave: the observation and mask the policy saw, its action and the messages. */
export interface SlotResult {
  observation: Float32Array;
  mask: Uint8Array;
  action: number;
  messages: GatewayMessage[];
}

/** The gateway: replay rows as the controller's readings. */
export class Gateway {
  readonly m: PolicyManifest;
  private readonly readings: HomeReadings;

  constructor(readonly home: GatewayHome) {
    this.m = home.policy.manifest;
    this.readings = { slot: 0, weekend: 0, baseKw: 0, pvKw: 0, pvNext1hKw: 0, pvNext4hKw: 0, deadlines: [], ev: null };
    home.begin();
  }

  /** The running import peak, kW. */
  get peakKw(): number {
    return this.home.controller.peakKw;
  }

  /** One slot: the row's readings through the controller and the policy. */
  step(r: ReplayRow, file = 'replay.csv'): SlotResult {
    const c = this.home.controller;
    if (r.slot !== c.slot) throw new ReplayError(`${file} line ${r.line}, column slot: expected slot ${c.slot}, got ${r.slot}`);
    if (r.ev && r.ev.socKwh === null && c.ev && !c.ev.known)
      throw new ReplayError(`${file} line ${r.line}, column ev_soc_kwh: expected the EV's SoC (kWh): the gateway does not know it yet (give it on the first row and when the EV comes back)`);
    const x = this.readings;
    x.slot = r.slot;
    x.weekend = r.weekend;
    x.baseKw = r.baseKw;
    x.pvKw = r.pvKw;
    x.pvNext1hKw = r.pvNext1hKw;
    x.pvNext4hKw = r.pvNext4hKw;
    x.deadlines = r.deadlines;
    x.ev = r.ev ? { home: r.ev.home, socKwh: r.ev.socKwh, dueSlot: r.ev.dueSlot, targetKwh: r.ev.targetKwh, floorKwh: r.ev.floorKwh } : null;
    const d = this.home.step(x);
    const time = slotTime(r.slot);
    const messages = d.messages.map((msg) => ({ slot: r.slot, time, device: msg.device, command: msg.command, power: msg.powerKw }));
    return { observation: d.observation.slice(), mask: d.mask.slice(), action: d.action, messages };
  }
}

export interface ReplayResult {
  slots: SlotResult[];
  messages: GatewayMessage[];
  peakKw: number;
}

/** Replays a CSV through an exported folder; writes the messages as JSON lines to `out` when given. */
export async function replayDay(policyDir: string, csvPath: string, out?: string): Promise<ReplayResult> {
  const home = await loadGatewayHome(policyDir);
  const rows = parseReplay(readFileSync(csvPath, 'utf8'), home.policy.manifest, basename(csvPath));
  const gw = new Gateway(home);
  const slots = rows.map((r) => gw.step(r, basename(csvPath)));
  const messages = slots.flatMap((s) => s.messages);
  if (out !== undefined) writeFileSync(out, messages.map((msg) => `${JSON.stringify(msg)}\n`).join(''));
  return { slots, messages, peakKw: gw.peakKw };
}

export interface ExampleDay {
  csv: string;
  /** The environment's summary of the day played with the policy in control. */
  summary: DaySummary;
  /** Flat actions the policy chose, per slot. */
  actions: number[];
  /** The environment's observations and flat masks, per slot. */
  observations: Float32Array[];
  masks: Uint8Array[];
}

/** A CSV cell: empty for no reading (null, NaN). */
const cell = (x: number | boolean | null) => (x === null || Number.isNaN(x) ? '' : String(Number(x)));

/**
 * Day `day` of seed `seed` of the policy's scenario, played in the environment with the exported
 * policy (through its policy.mjs) in control, written as the replay CSV a meter would have recorded:
 * the simulator's own readings of each slot (env/core.ts), the trip's expected energy folded into
 * the target while the EV is away (the CSV has no column of its own for it).
 */
export async function exampleDay(policyDir: string, seed: number, day: number, scenarioArg?: string): Promise<ExampleDay> {
  const policy = await loadGatewayPolicy(policyDir);
  const m = policy.manifest;
  const s = loadScenario(scenarioArg ?? m.scenario.id);
  const { scenarioHash } = await import('../training/train.js');
  if (scenarioHash(s) !== m.scenario.hash)
    throw new Error(`${policyDir} was exported for scenario ${m.scenario.id} with hash ${m.scenario.hash}, but ${scenarioArg ?? m.scenario.id} has hash ${scenarioHash(s)}: expected the same home (give its file with --scenario)`);
  const env = makeEnv(s);
  const codec = flatCodec(s);
  let { observation, info } = env.reset({ seed: daySeed(seed, day) });
  const lines = [replayColumns(m).join(',')];
  const out: Omit<ExampleDay, 'csv' | 'summary'> = { actions: [], observations: [], masks: [] };
  for (let t = 0; t < SLOTS; t++) {
    const r = env.readings();
    const row: (number | boolean | null)[] = [t, r.weekend, r.baseKw, r.pvKw, r.pvNext1hKw, r.pvNext4hKw];
    for (const d of r.deadlines) row.push(d >= t ? d : null);
    const e = r.ev;
    if (e) row.push(e.home, e.socKwh, e.dueSlot, e.targetKwh, e.floorKwh);
    lines.push(row.map(cell).join(','));
    const mask = codec.flatMask(info.home);
    const a = policy.act(observation, mask);
    out.actions.push(a);
    out.observations.push(observation.slice());
    out.masks.push(mask);
    const step = env.step(codec.unflatten(a));
    observation = step.observation;
    info = step.info;
  }
  return { csv: `${lines.join('\n')}\n`, summary: info.day!, ...out };
}
