import { listScenarios, loadScenario, ScenarioError, type Scenario } from './scenario.js';
import { drawDay, type Day } from './day.js';
import { controllerSpec, HomeCore, type HomeView } from './core.js';
import { observationLayout as layoutOf, type FeatureSpec } from '../runtime/index.js';
import { scoreDay, type ScoreParts } from './score.js';
import { Box, MultiDiscrete } from './spaces.js';
import { Rng } from './rng.js';
import { SLOTS, DT } from './time.js';

/**
 * # PSM home environment (`makeEnv(scenario)`)
 *
 * One episode is one day of 96 slots of 15 minutes (slot t starts at t·15 min; the paper's
 * "t.s. k" is slot k − 1). Each step plays one slot.
 *
 * ## Actions: MultiDiscrete([2, …, 2, nEv])
 * | component | values | meaning |
 * | --- | --- | --- |
 * | c = i < nAppliances | 0 wait, 1 run | appliance i (scenario order). Interruptible: run one slot of the cycle. Non-interruptible: start; once started it runs to the end. |
 * | c = nAppliances (when the scenario has an EV) | 0 idle, 1…K charge, K+1…K+M discharge | grid-side EV power 0, k·chargeStepKw, −m·dischargeStepKw (V2H only) |
 *
 * ## Action mask (`info.actionMask`, the components' masks concatenated, 1 = allowed)
 * - An appliance with no visible request (none today, not released yet, or done) may only wait;
 *   a started non-interruptible cycle, or a request with no slack left before its deadline, must run.
 * - The EV may only idle while away. At home a level is allowed when the SoC after the slot stays
 *   between the floor and the capacity (`EvDay.floorKwh`, known from 00:00: before a trip the lowest
 *   SoC that still reaches the target at departure with the worst-case headroom the habits allow;
 *   after it the same for the SoC of 00:00 by midnight, lowered by the deficit the car comes back
 *   with), a charge level keeps the import under the contract with the forced appliance load,
 *   and a discharge level (V2H) sends nothing into the grid with that load.
 * - Joint limits: the components' masks are checked against the forced load of the others; the
 *   import of the whole action must also stay ≤ contractKw and V2H must not export. The
 *   `FlattenAction` wrapper's flat mask (runtime/codec.ts `ActionCodec`) is exact for the joint action.
 * - Fallback (each counted in `info.violations`): a value outside its mask becomes the allowed
 *   value (wait if allowed, else run; for the EV the allowed level nearest in power, the lower on a
 *   tie); then an EV level that breaks the contract or exports V2H energy drops to the allowed
 *   level nearest to it that does not. Appliances alone always fit the contract (the scenario
 *   checks it), so the import limit is never exceeded and the EV never misses its target.
 *
 * ## Observation: Box of float32 (see `observationLayout`)
 * The features, their units and scaling are runtime/features.ts's table (time, weekend, tariff now
 * and ahead, PV now and forecast, base load, per appliance pending / remaining / slack / running,
 * the EV's home / SoC / needed / due / rate / start, the running peak): the same table gives the
 * layout and the values, for the simulator and for a gateway's policy.mjs alike.
 *
 * ## Reward
 * reward_t = −(slot t's part of J): −[(C_t·imp_t − g·exp_t)·Δt + w·φ(L_t − q) − v·RSC_t]
 *            − [f(peak_t) − f(peak_{t−1})], with f(P) = λ·P − v·r_peak·max(0, peak_ref − P) and
 *            f(peak_{−1}) = 0; the last step also pays −S, the midnight shortfall (score.ts). The
 *            episode return is exactly −J.
 *
 * ## Information set
 * The observation and the mask at slot t depend only on what is known at t: the scenario, the
 * plan of 00:00 (weekday, the EV's SoC, departure and target), the readings up to t, the requests
 * released up to t, and the trip once the car is back (docs/environment.md has the table).
 *
 * ## Start and end
 * `reset({ seed })` draws the day (`drawDay`): weekday and PV from one real day, each appliance's
 * request from its habits, the EV's trip; slot 0, nothing run, the EV home at its drawn SoC. After
 * 96 steps `terminated` is true and `info.day` holds the summary. `truncated` is always false.
 */

export interface ResetOptions {
  seed?: number;
  options?: { day?: Day };
}

export interface DaySummary extends ScoreParts {
  seed: number;
  violations: number;
}

export interface StepInfo {
  /** The slot the next action plays (96 after the last step). */
  slot: number;
  actionMask: Uint8Array;
  /** Fallbacks applied to the last action (0 after reset). */
  violations: number;
  /** A live view of the home now: what a policy may know (no future requests). */
  home: HomeView;
  /** The day's summary, on the last step only. */
  day?: DaySummary;
}

export interface StepResult {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

/** Everything that happened in a day, slot by slot (for tests, plots and evaluation). */
export interface DayLog {
  day: Day;
  importKw: Float64Array;
  exportKw: Float64Array;
  loadKw: Float64Array;
  evKw: Float64Array;
  /** socKwh[t]: at the start of slot t (97 entries); NaN without an EV. */
  socKwh: Float64Array;
  /** applianceKw[i * 96 + t]. */
  applianceKw: Float64Array;
  /** The effective actions, actions[t * nComponents + c]. */
  actions: Int32Array;
  rewards: Float64Array;
  violations: Int32Array;
}

/** One observation feature: name, unit, scaling and Box bounds (runtime/features.ts). */
export type Feature = FeatureSpec;

/** The observation's features in order, with units and scaling (for the manifest and the docs). */
export function observationLayout(s: Scenario): Feature[] {
  return layoutOf(controllerSpec(s));
}

export interface EnvOptions {
  /** Seed of the stream of day seeds used when reset() gets no seed (default 0). */
  seed?: number;
}

/** The Gymnasium-style interface every rescoin environment and wrapper implements. */
export interface Env<Obs, Act> {
  readonly observationSpace: Box;
  readonly actionSpace: { sample(rng: Rng, mask?: Uint8Array): Act; contains(x: unknown): boolean };
  reset(opts?: ResetOptions): { observation: Obs; info: StepInfo };
  step(action: Act): { observation: Obs; reward: number; terminated: boolean; truncated: boolean; info: StepInfo };
  close(): void;
}

export class HomeEnv implements Env<Float32Array, ArrayLike<number>> {
  readonly scenario: Scenario;
  readonly observationSpace: Box;
  readonly actionSpace: MultiDiscrete;
  readonly layout: Feature[];
  private readonly core: HomeCore;
  private readonly seeds: Rng;
  private started = false;
  private log!: DayLog;
  private daySeed = 0;
  private readonly obsSlab = new Slab((n) => new Float32Array(n));
  private readonly maskSlab = new Slab((n) => new Uint8Array(n));

  constructor(scenario: Scenario, options: EnvOptions = {}) {
    this.scenario = scenario;
    this.core = new HomeCore(scenario);
    this.layout = observationLayout(scenario);
    this.observationSpace = new Box(
      this.layout.map((f) => f.low),
      this.layout.map((f) => f.high),
    );
    this.actionSpace = new MultiDiscrete(this.core.nvec);
    this.seeds = new Rng(options.seed ?? 0);
  }

  get nComponents(): number {
    return this.core.nComponents;
  }

  reset(opts: ResetOptions = {}): { observation: Float32Array; info: StepInfo } {
    const given = opts.options?.day;
    const seed = given ? given.seed : (opts.seed ?? this.seeds.int(0, 0x7fffffff));
    const day = given ?? drawDay(this.scenario, seed);
    this.daySeed = seed;
    this.core.begin(day);
    this.started = true;
    this.log = newLog(day, this.scenario, this.core.nComponents);
    if (this.core.ev) this.log.socKwh[0] = this.core.ev.socKwh;
    return { observation: this.observation(), info: this.info(0) };
  }

  step(action: ArrayLike<number>): StepResult {
    if (!this.started) throw new Error('HomeEnv.step() called before reset(): call reset({ seed }) first');
    const core = this.core;
    if (core.done) throw new Error('HomeEnv.step() called after the day ended (terminated): call reset() for the next day');
    if (!action || typeof action.length !== 'number' || action.length !== core.nComponents)
      throw new Error(`HomeEnv.step(): action must have ${core.nComponents} components (${this.actionSpace.nvec.join(', ')} values), got ${JSON.stringify(action)}`);
    const t = core.slot;
    const reward = core.step(action);
    this.record(t, reward);
    const terminated = core.done;
    const info = this.info(core.lastViolations);
    if (terminated) info.day = this.summary();
    return { observation: this.observation(), reward, terminated, truncated: false, info };
  }

  close(): void {
    this.started = false;
  }

  /** What a gateway would read at the current slot: the controller's input (reused: copy what you keep). */
  readings(): HomeCore['readings'] {
    if (!this.started) throw new Error('readings() before reset()');
    return this.core.readings;
  }

  /** The log of the current (or just finished) day. */
  trajectory(): DayLog {
    if (!this.started) throw new Error('trajectory() before reset()');
    return this.log;
  }

  private observation(): Float32Array {
    const out = this.obsSlab.take(this.layout.length);
    this.core.writeObservation(out);
    return out;
  }

  private info(violations: number): StepInfo {
    const mask = this.maskSlab.take(this.core.maskSize);
    mask.set(this.core.mask);
    return { slot: this.core.slot, actionMask: mask, violations, home: this.core };
  }

  private record(t: number, reward: number): void {
    const core = this.core;
    const log = this.log;
    log.importKw[t] = core.lastImportKw;
    log.exportKw[t] = core.lastExportKw;
    log.loadKw[t] = core.lastLoadKw;
    log.evKw[t] = core.lastEvKw;
    if (core.ev) log.socKwh[t + 1] = core.ev.socKwh;
    for (let i = 0; i < core.nApp; i++) {
      // The power drawn is the cycle slot just run: progress was advanced by step().
      log.applianceKw[i * SLOTS + t] = core.appliedComponents[i] ? this.scenario.appliances[i].cycleKw[core.progress[i] - 1] : 0;
    }
    log.actions.set(core.appliedComponents, t * core.nComponents);
    log.rewards[t] = reward;
    log.violations[t] = core.lastViolations;
  }

  private summary(): DaySummary {
    const parts = scoreDay(this.scenario, this.log.day, this.log);
    return { ...parts, seed: this.daySeed, violations: this.core.violations };
  }
}

function newLog(day: Day, s: Scenario, nComponents: number): DayLog {
  // One backing buffer for the whole log: a reset allocates once instead of ten times.
  const nApp = s.appliances.length;
  const f64 = 6 * SLOTS + (SLOTS + 1) + nApp * SLOTS;
  const buf = new ArrayBuffer(f64 * 8 + 2 * SLOTS * Math.max(1, nComponents) * 4);
  let off = 0;
  const f = (n: number) => {
    const a = new Float64Array(buf, off, n);
    off += n * 8;
    return a;
  };
  const i32 = (n: number) => {
    const a = new Int32Array(buf, off, n);
    off += n * 4;
    return a;
  };
  return {
    day,
    importKw: f(SLOTS),
    exportKw: f(SLOTS),
    loadKw: f(SLOTS),
    evKw: f(SLOTS),
    rewards: f(SLOTS),
    socKwh: f(SLOTS + 1).fill(Number.NaN),
    applianceKw: f(nApp * SLOTS),
    actions: i32(SLOTS * nComponents),
    violations: i32(SLOTS),
  };
}

/**
 * Fresh arrays without an allocation each: views handed out of a large slab. A view is never
 * handed out twice, so what a caller keeps is never overwritten.
 */
export class Slab<T extends Float32Array | Uint8Array> {
  private buf: T;
  private pos = 0;
  constructor(
    private readonly make: (n: number) => T,
    private readonly size = 1 << 16,
  ) {
    this.buf = make(size);
  }
  take(n: number): T {
    if (this.pos + n > this.buf.length) {
      this.buf = this.make(Math.max(this.size, n));
      this.pos = 0;
    }
    const view = this.buf.subarray(this.pos, this.pos + n) as T;
    this.pos += n;
    return view;
  }
}

/**
 * Make the home environment of a scenario, as Gymnasium's `gym.make`: a shipped scenario's id
 * (`listScenarios()`), a path to a scenario JSON file, or a scenario that `parseScenario` or
 * `loadScenario` returned. Anything else is refused here, naming what was given, instead of
 * failing later inside a step.
 */
export function makeEnv(scenario: Scenario | string, options: EnvOptions = {}): HomeEnv {
  return new HomeEnv(toScenario(scenario), options);
}

function toScenario(x: unknown): Scenario {
  if (typeof x === 'string') return loadScenario(x);
  const parsed = x !== null && typeof x === 'object' && (x as Partial<Scenario>).priceKwh instanceof Float64Array && Array.isArray((x as Partial<Scenario>).pvDays);
  if (parsed) return x as Scenario;
  const what = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? 'an unparsed object (pass it through parseScenario first)' : `${typeof x} ${String(x)}`;
  throw new ScenarioError(`makeEnv: expected a scenario id (${listScenarios().join(', ')}), a path to a scenario .json file or a parsed scenario; got ${what}`);
}

/** Energy of a day's log, kWh (a helper for reports). */
export function energyKwh(kw: ArrayLike<number>): number {
  let e = 0;
  for (let t = 0; t < kw.length; t++) e += kw[t] * DT;
  return e;
}
