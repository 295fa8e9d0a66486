import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { daySeed, DT, evPowerFits, evRate, FlattenAction, isAllowed, LIMIT_TOL, loadScenario, makeEnv, meanAhead, SLOTS, slotTime, type DaySummary, type HomeView } from '../env/index.js';
import type { LoadedPolicy, PolicyManifest } from '../runtime/policy.js';

/**
 * `rescoin gateway --policy gateway/NAME --replay day.csv [--out messages.jsonl]`: an exported
 * policy run as a home gateway runs it. Each row of the replay CSV is one slot of what the smart
 * meter, the PV inverter, the EV charger and the user's requests tell the gateway; the gateway
 * builds the observation (by feature name, from policy.json's layout and `home` numbers) and the
 * exact action mask, asks the folder's own policy.mjs for an action (never tfjs), and writes one
 * control message per appliance and for the EV per slot, as JSON lines
 * `{ slot, time, device, command, power }` (power in kW, grid side; the paper's "transmit a
 * control message to the smart meter").
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
 * | ev_target_kwh | kWh | the SoC it must hold by then (at the end of the day: the SoC it had at 00:00, so no day borrows from the next) |
 * | ev_floor_kwh | kWh | the lowest SoC allowed at the end of the slot (the charger's safety floor: below it the target is out of reach); empty: max(socMin, target − what the fastest level adds before due) |
 *
 * ## What the gateway keeps as state (from its own commands, as the environment does)
 * per appliance the slots of its cycle already run (so remaining work, whether a non-interruptible
 * cycle is under way, whether it ran last slot, and the power of the cycle slot it runs next), the
 * running import peak (base + appliances + EV − PV, never below 0), and the EV's SoC between
 * readings (η_c·kW·Δt when charging, kW/η_d·Δt when discharging, inside [0, capacity]). One
 * request per appliance per day, as in the environment.
 *
 * ## The mask (the environment's rules, env/home.ts, with the gateway's view)
 * An appliance with a pending request may run, and must when its cycle is under way
 * (non-interruptible) or no slack is left before its deadline; otherwise it waits. The EV idles
 * while away; at home a level is allowed when the SoC after the slot stays between the floor and the
 * capacity and, with the appliances' forced load (charging) or their largest load (V2H), the import
 * stays under the contract and V2H exports nothing; the joint action is then checked as a whole
 * (env/rules.ts `isAllowed`). Should the floor leave no EV level (a floor the charger cannot
 * reach), the gateway allows the levels that fit the contract rather than stop.
 *
 * `rescoin gateway --policy gateway/NAME --write-example day.csv --seed K --day d` writes such a CSV
 * for day d of seed K of the policy's scenario, as a meter would have recorded it with the policy in
 * control: replaying it gives back the environment's observations, masks and actions.
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

/** Loads an exported folder through its own policy.mjs (a dynamic import: no tfjs, no rescoin code). */
export async function loadGatewayPolicy(dir: string): Promise<LoadedPolicy> {
  const rt = (await import(pathToFileURL(resolve(dir, 'policy.mjs')).href)) as typeof import('../runtime/policy.js');
  return rt.loadPolicy(dir);
}

/** What one slot gave: the observation and mask the policy saw, its action and the messages. */
export interface SlotResult {
  observation: Float32Array;
  mask: Uint8Array;
  action: number;
  messages: GatewayMessage[];
}

/** The gateway: state from its own commands, observations and masks from the readings (see the module comment). */
export class Gateway {
  readonly m: PolicyManifest;
  private readonly policy: LoadedPolicy;
  private readonly nApp: number;
  private readonly cycles: number[][];
  private readonly progress: Int32Array;
  private readonly started: Uint8Array;
  private readonly ranLast: Uint8Array;
  private readonly nonInterruptible: boolean[];
  private readonly levelsKw: Float64Array;
  /** The environment's view of the slot (env/core.ts HomeView), filled from the readings and the state. */
  private readonly view: { -readonly [K in keyof HomeView]: HomeView[K] } & { mask: Uint8Array; powerKw: Float64Array; deadline: Int32Array; remaining: Int32Array };
  private readonly features: ((r: ReplayRow) => number)[];
  private readonly flatMask: Uint8Array;
  private readonly components: Int32Array;
  peakKw = 0;
  socKwh: number | null = null;
  private nextSlot = 0;
  private needed = 0;
  /** The EV's SoC at 00:00 (the first row's reading): what the day must end with. */
  private startKwh = 0;

  constructor(policy: LoadedPolicy) {
    const m = policy.manifest;
    this.m = m;
    this.policy = policy;
    this.nApp = m.action.appliances.length;
    this.cycles = m.action.appliances.map((a) => a.cycleKw);
    this.nonInterruptible = m.action.appliances.map((a) => a.kind === 'non-interruptible');
    this.progress = new Int32Array(this.nApp);
    this.started = new Uint8Array(this.nApp);
    this.ranLast = new Uint8Array(this.nApp);
    this.levelsKw = Float64Array.from(m.action.ev?.levels.map((l) => l.powerKw) ?? []);
    const nvec = Int32Array.from(m.action.nvec);
    const maskOffsets = new Int32Array(nvec.length);
    for (let c = 1; c < nvec.length; c++) maskOffsets[c] = maskOffsets[c - 1] + nvec[c - 1];
    this.view = {
      slot: 0,
      contractKw: m.home.contractKw,
      mask: new Uint8Array(nvec.reduce((a, b) => a + b, 0)),
      maskOffsets,
      nvec,
      powerKw: new Float64Array(this.nApp),
      deadline: new Int32Array(this.nApp),
      remaining: new Int32Array(this.nApp),
      started: this.started,
      baseKw: 0,
      pvKw: 0,
      forcedKw: 0,
      peakKw: 0,
      ev: null,
    };
    this.features = m.observation.features.map((f) => this.feature(f.name));
    this.flatMask = new Uint8Array(m.action.n);
    this.components = new Int32Array(nvec.length);
  }

  /** How to compute one observation feature from a row and the state (env/core.ts `observe`, by name). */
  private feature(name: string): (r: ReplayRow) => number {
    const h = this.m.home;
    const price = (ahead: number) => (r: ReplayRow) => h.priceKwh[Math.min(r.slot + ahead, SLOTS - 1)] / h.maxPriceKwh;
    const pvScale = h.pvPeakKw > 0 ? h.pvPeakKw : 1;
    const fixed: Record<string, (r: ReplayRow) => number> = {
      time_sin: (r) => Math.sin((2 * Math.PI * r.slot) / SLOTS),
      time_cos: (r) => Math.cos((2 * Math.PI * r.slot) / SLOTS),
      weekend: (r) => r.weekend,
      price_now: price(0),
      price_1h: price(4),
      price_4h: price(16),
      pv_now: (r) => r.pvKw / pvScale,
      pv_next_1h: (r) => r.pvNext1hKw / pvScale,
      pv_next_4h: (r) => r.pvNext4hKw / pvScale,
      base_now: (r) => r.baseKw / h.contractKw,
      peak: () => this.peakKw / h.contractKw,
    };
    if (fixed[name]) return fixed[name];
    const ev = h.ev;
    if (ev && name.startsWith('ev.')) {
      const due = (r: ReplayRow) => Math.max(0, r.ev!.dueSlot - r.slot);
      const evFeatures: Record<string, (r: ReplayRow) => number> = {
        'ev.home': (r) => r.ev!.home,
        'ev.soc': () => this.socKwh! / ev.capacityKwh,
        'ev.needed': () => this.needed / ev.capacityKwh,
        'ev.due': (r) => due(r) / SLOTS,
        'ev.rate': (r) => evRate({ neededKwh: this.needed, dueSlot: r.ev!.dueSlot }, ev, r.slot, ev.rateMax),
        'ev.start': () => this.startKwh / ev.capacityKwh,
      };
      if (evFeatures[name]) return evFeatures[name];
    }
    const dot = name.lastIndexOf('.');
    const i = this.m.action.appliances.findIndex((a) => a.device === name.slice(0, dot));
    if (i >= 0) {
      const len = this.cycles[i].length;
      const pending = (r: ReplayRow) => this.view.deadline[i] >= 0 && r.slot < SLOTS;
      const part: Record<string, (r: ReplayRow) => number> = {
        pending: (r) => (pending(r) ? 1 : 0),
        remaining: (r) => (pending(r) ? this.view.remaining[i] / len : 0),
        slack: (r) => (pending(r) ? (this.view.deadline[i] - r.slot + 1 - this.view.remaining[i]) / SLOTS : 0),
        running: () => this.ranLast[i],
      };
      if (part[name.slice(dot + 1)]) return part[name.slice(dot + 1)];
    }
    throw new Error(`policy.json observation feature "${name}": expected one the gateway can build from the readings (see rescoin gateway --help)`);
  }

  /** Fills the view and the component mask for the row's slot (env/core.ts `prepare`). */
  private prepare(r: ReplayRow, file: string): void {
    const v = this.view;
    const mask = v.mask;
    mask.fill(0);
    v.slot = r.slot;
    v.baseKw = r.baseKw;
    v.pvKw = r.pvKw;
    v.peakKw = this.peakKw;
    let forced = 0;
    let most = 0;
    for (let i = 0; i < this.nApp; i++) {
      const len = this.cycles[i].length;
      const left = len - this.progress[i];
      const d = r.deadlines[i];
      v.remaining[i] = left;
      if (d === null || left <= 0) {
        mask[2 * i] = 1;
        v.powerKw[i] = 0;
        v.deadline[i] = -1;
        continue;
      }
      v.deadline[i] = d;
      v.powerKw[i] = this.cycles[i][this.progress[i]];
      const must = this.started[i] === 1 || d - r.slot + 1 <= left;
      mask[2 * i + 1] = 1;
      most += v.powerKw[i];
      if (must) forced += v.powerKw[i];
      else mask[2 * i] = 1;
    }
    v.forcedKw = forced;
    const ev = this.m.home.ev;
    if (!ev || !r.ev) return;
    const off = v.maskOffsets[this.nApp];
    if (r.ev.socKwh !== null) this.socKwh = r.ev.socKwh;
    if (r.slot === 0 && r.ev.socKwh !== null) this.startKwh = r.ev.socKwh;
    if (this.socKwh === null) throw new ReplayError(`${file} line ${r.line}, column ev_soc_kwh: expected the EV's SoC (kWh): the gateway does not know it yet (give it on the first row and when the EV comes back)`);
    const soc = this.socKwh;
    this.needed = Math.max(0, r.ev.targetKwh - soc);
    const home = r.ev.home === 1;
    v.ev = { home, socKwh: soc, capacityKwh: ev.capacityKwh, levelsKw: this.levelsKw, neededKwh: this.needed, dueSlot: r.ev.dueSlot, startKwh: this.startKwh };
    if (!home) {
      mask[off] = 1;
      return;
    }
    const fastest = Math.max(0, ...this.levelsKw);
    const floor = r.ev.floorKwh ?? Math.max(ev.socMinKwh, r.ev.targetKwh - Math.max(0, r.ev.dueSlot - r.slot - 1) * fastest * ev.chargeEfficiency * DT);
    const lo = floor - LIMIT_TOL;
    const hi = ev.capacityKwh + LIMIT_TOL;
    const minNet = r.baseKw + forced - r.pvKw;
    const maxNet = r.baseKw + most - r.pvKw;
    let any = false;
    for (let k = 0; k < this.levelsKw.length; k++) {
      const kw = this.levelsKw[k];
      const next = this.nextSoc(soc, kw);
      if (next < lo || next > hi) continue;
      if (!evPowerFits(kw, kw > 0 ? minNet : maxNet, v.contractKw)) continue;
      mask[off + k] = 1;
      any = true;
    }
    // A floor out of reach: charge as the contract allows rather than stop (see the module comment).
    if (!any) for (let k = 0; k < this.levelsKw.length; k++) if (this.levelsKw[k] >= 0 && evPowerFits(this.levelsKw[k], minNet, v.contractKw)) mask[off + k] = 1;
  }

  private nextSoc(soc: number, kw: number): number {
    const ev = this.m.home.ev!;
    return kw >= 0 ? soc + kw * ev.chargeEfficiency * DT : soc + (kw / ev.dischargeEfficiency) * DT;
  }

  /** One slot: builds the observation and mask, acts through policy.mjs, and applies the commands to the state. */
  step(r: ReplayRow, file = 'replay.csv'): SlotResult {
    if (r.slot !== this.nextSlot) throw new ReplayError(`${file} line ${r.line}, column slot: expected slot ${this.nextSlot}, got ${r.slot}`);
    this.prepare(r, file);
    const observation = new Float32Array(this.features.length);
    for (let k = 0; k < this.features.length; k++) observation[k] = this.features[k](r);
    const mask = this.flatMask;
    const n = this.m.action.n;
    for (let a = 0; a < n; a++) mask[a] = isAllowed(this.view, this.unflatten(a)) ? 1 : 0;
    const action = this.policy.act(observation, mask);
    const c = this.unflatten(action);
    const powers = Float64Array.from(this.view.powerKw);
    const time = slotTime(r.slot);
    const messages = this.policy.describe(action, powers).map((msg) => ({ slot: r.slot, time, device: msg.device, command: msg.command, power: msg.powerKw }));
    // Apply: the cycles advance, the EV's SoC moves, the meter's import sets the running peak.
    let appKw = 0;
    for (let i = 0; i < this.nApp; i++) {
      if (c[i] === 1) {
        appKw += powers[i];
        this.progress[i]++;
        if (this.nonInterruptible[i]) this.started[i] = this.progress[i] < this.cycles[i].length ? 1 : 0;
      }
      this.ranLast[i] = c[i];
    }
    let evKw = 0;
    if (this.m.action.ev && r.ev) {
      evKw = this.levelsKw[c[this.nApp]];
      if (r.ev.home === 1) this.socKwh = Math.min(this.m.home.ev!.capacityKwh, Math.max(0, this.nextSoc(this.socKwh!, evKw)));
    }
    const net = r.baseKw + appKw + evKw - r.pvKw;
    if (net > this.peakKw) this.peakKw = net;
    this.nextSlot++;
    return { observation, mask: mask.slice(), action, messages };
  }

  private unflatten(a: number): Int32Array {
    const nvec = this.view.nvec;
    const out = this.components;
    let rest = a;
    for (let c = nvec.length - 1; c >= 0; c--) {
      out[c] = rest % nvec[c];
      rest = Math.floor(rest / nvec[c]);
    }
    return out;
  }
}

export interface ReplayResult {
  slots: SlotResult[];
  messages: GatewayMessage[];
  peakKw: number;
}

/** Replays a CSV through an exported folder; writes the messages as JSON lines to `out` when given. */
export async function replayDay(policyDir: string, csvPath: string, out?: string): Promise<ReplayResult> {
  const policy = await loadGatewayPolicy(policyDir);
  const rows = parseReplay(readFileSync(csvPath, 'utf8'), policy.manifest, basename(csvPath));
  const gw = new Gateway(policy);
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

/**
 * Day `day` of seed `seed` of the policy's scenario, played in the environment with the exported
 * policy (through its policy.mjs) in control, written as the replay CSV a meter would have recorded.
 */
export async function exampleDay(policyDir: string, seed: number, day: number, scenarioArg?: string): Promise<ExampleDay> {
  const policy = await loadGatewayPolicy(policyDir);
  const m = policy.manifest;
  const s = loadScenario(scenarioArg ?? m.scenario.id);
  const { scenarioHash } = await import('../training/train.js');
  if (scenarioHash(s) !== m.scenario.hash)
    throw new Error(`${policyDir} was exported for scenario ${m.scenario.id} with hash ${m.scenario.hash}, but ${scenarioArg ?? m.scenario.id} has hash ${scenarioHash(s)}: expected the same home (give its file with --scenario)`);
  const env = makeEnv(s);
  const flat = new FlattenAction(makeEnv(s));
  let { observation, info } = env.reset({ seed: daySeed(seed, day) });
  const d = env.trajectory().day;
  const lines = [replayColumns(m).join(',')];
  const out: Omit<ExampleDay, 'csv' | 'summary'> = { actions: [], observations: [], masks: [] };
  const cell = (x: number | null) => (x === null ? '' : String(x));
  for (let t = 0; t < SLOTS; t++) {
    const row: (number | null)[] = [t, d.weekend ? 1 : 0, d.baseKw[t], d.pvKw[t], meanAhead(d.pvKw, t, 4), meanAhead(d.pvKw, t, 16)];
    for (const r of d.requests) row.push(r && r.release <= t && t <= r.deadline ? r.deadline : null);
    const e = info.home.ev;
    if (e && d.ev) {
      const trip = d.ev.trip;
      const readSoc = t === 0 || (trip && t === d.ev.arrival);
      const target = trip && t < d.ev.departure ? d.ev.targetKwh : e.home ? d.ev.soc0Kwh : d.ev.soc0Kwh + d.ev.tripKwh;
      row.push(e.home ? 1 : 0, readSoc ? e.socKwh : null, e.dueSlot, target, e.home ? d.ev.floorKwh[t + 1] : null);
    }
    lines.push(row.map(cell).join(','));
    const mask = flat.flatMask(info.home);
    const a = policy.act(observation, mask);
    out.actions.push(a);
    out.observations.push(observation.slice());
    out.masks.push(mask);
    const r = env.step(flat.unflatten(a));
    observation = r.observation;
    info = r.info;
  }
  return { csv: `${lines.join('\n')}\n`, summary: info.day!, ...out };
}
