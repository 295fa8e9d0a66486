import { Box, DT, MultiDiscrete, observationLayout, Rng, Slab, SLOTS, type Day, type DayLog, type HomeView } from '../env/index.js';
import { drawCommunityDay, loadCommunity, type Community } from './community.js';
import type { CapPolicy } from './caps.js';
import { COMMUNITY_FEATURES, CommunityCore } from './core.js';
import type { CommunityDayLog, CommunityHomeSummary } from './score.js';

/**
 * # The community environment (`makeCommunityEnv(community)`): PettingZoo's Parallel API
 *
 * The agents are the homes (ids in file order); one episode is one community day of 96 slots
 * (drawCommunityDay: one date, each home its own draws). The spec (action, observation, reward,
 * information set, episode end) is docs/community.md, "Environment"; the per-slot logic is
 * CommunityCore (community/core.ts), which the vector form shares.
 */

export interface CommunityInfo {
  /** The slot the next action plays (96 after the last step). */
  slot: number;
  actionMask: Uint8Array;
  /** Fallbacks applied to the home's last action (0 after reset). */
  violations: number;
  /** A live view of the home now, under its feeder cap (limitKw). */
  home: HomeView;
  /** How far the forced loads of this slot exceed the feeder, kW (0 almost always). */
  feederExcessKw: number;
  /** The home's day summary, on the last step only. */
  day?: CommunityHomeSummary;
}

export interface CommunityEnvOptions {
  /** Seeds the env's own stream of day seeds (reset without a seed). */
  seed?: number;
  /** The operator's headroom allocation (community/caps.ts; default flexShareCaps, the flexibility shares). */
  caps?: CapPolicy;
}

export interface CommunityResetOptions {
  seed?: number;
  options?: { days?: Day[] };
}

export interface CommunityStepResult {
  observations: Record<string, Float32Array>;
  rewards: Record<string, number>;
  terminations: Record<string, boolean>;
  truncations: Record<string, boolean>;
  infos: Record<string, CommunityInfo>;
  /** −(the increase of the operator's term O in this slot). */
  operatorReward: number;
}

export class CommunityEnv {
  readonly community: Community;
  readonly possibleAgents: readonly string[];
  agents: string[] = [];
  /** The per-slot logic on typed arrays (read only: the env drives it). */
  readonly core: CommunityCore;
  private readonly obsSpaces: Box[];
  private readonly actSpaces: MultiDiscrete[];
  private readonly index: Map<string, number>;
  private readonly seeds: Rng;
  private started = false;
  private log!: CommunityDayLog;
  private readonly obsSlab = new Slab((n) => new Float32Array(n));
  private readonly maskSlab = new Slab((n) => new Uint8Array(n));

  constructor(community: Community, opts: CommunityEnvOptions = {}) {
    this.community = community;
    this.possibleAgents = Object.freeze(community.homes.map((h) => h.id));
    this.index = new Map(this.possibleAgents.map((id, i) => [id, i]));
    this.core = new CommunityCore(community, { caps: opts.caps });
    const fb = this.core.featureBounds();
    this.obsSpaces = community.homes.map((h) => {
      const layout = observationLayout(h.scenario);
      return new Box([...layout.map((f) => f.low), ...fb.low], [...layout.map((f) => f.high), ...fb.high]);
    });
    this.actSpaces = this.core.homes.map((h) => new MultiDiscrete(h.nvec));
    this.seeds = new Rng(opts.seed ?? 0);
  }

  /** The feature names of home `id`'s observation: its single-home layout, then the community's. */
  observationNames(id: string): string[] {
    return [...observationLayout(this.community.homes[this.at(id, 'observationNames')].scenario).map((f) => f.name), ...COMMUNITY_FEATURES.map((f) => f.name)];
  }

  observationSpace(id: string): Box {
    return this.obsSpaces[this.at(id, 'observationSpace')];
  }

  actionSpace(id: string): MultiDiscrete {
    return this.actSpaces[this.at(id, 'actionSpace')];
  }

  reset(opts: CommunityResetOptions = {}): { observations: Record<string, Float32Array>; infos: Record<string, CommunityInfo> } {
    const given = opts.options?.days;
    if (given && given.length !== this.core.n) throw new Error(`CommunityEnv.reset(): options.days has ${given.length} days, expected one per home (${this.core.n}, drawCommunityDay)`);
    const seed = opts.seed ?? (given ? -1 : this.seeds.int(0, 0x7fffffff));
    const days = given ?? drawCommunityDay(this.community, seed);
    this.core.begin(days);
    this.started = true;
    this.agents = [...this.possibleAgents];
    this.log = newLog(this.core, seed, days);
    const observations: Record<string, Float32Array> = {};
    const infos: Record<string, CommunityInfo> = {};
    for (let i = 0; i < this.core.n; i++) {
      const id = this.possibleAgents[i];
      observations[id] = this.observation(i);
      infos[id] = this.info(i, 0);
    }
    return { observations, infos };
  }

  step(actions: Record<string, ArrayLike<number>>): CommunityStepResult {
    if (!this.started) throw new Error('CommunityEnv.step() called before reset(): call reset({ seed }) first');
    const core = this.core;
    if (core.done) throw new Error('CommunityEnv.step() called after the day ended (every agent terminated): call reset() for the next day');
    if (actions === null || typeof actions !== 'object') throw new Error(`CommunityEnv.step(): actions must be a record keyed by home id (${this.possibleAgents.join(', ')}), got ${String(actions)}`);
    for (let i = 0; i < core.n; i++) {
      const id = this.possibleAgents[i];
      const a = actions[id];
      const nc = core.homes[i].nComponents;
      if (!a || typeof a.length !== 'number' || a.length !== nc)
        throw new Error(`CommunityEnv.step(): actions["${id}"] must have ${nc} components (${this.actSpaces[i].nvec.join(', ')} values), got ${a === undefined ? 'nothing' : JSON.stringify(Array.from(a as ArrayLike<number>))}`);
    }
    for (const id in actions) if (!this.index.has(id)) throw new Error(`CommunityEnv.step(): unknown agent "${id}"; the agents are ${this.possibleAgents.join(', ')}`);
    const t = core.slot;
    this.log.feederExcessKw[t] = core.excessKw;
    for (let i = 0; i < core.n; i++) core.applyHome(i, actions[this.possibleAgents[i]], 0);
    core.settle();
    this.record(t);
    const done = core.done;
    const summary = done ? core.summary(this.log.seed) : undefined;
    if (summary) this.log.summary = summary;
    const observations: Record<string, Float32Array> = {};
    const rewards: Record<string, number> = {};
    const terminations: Record<string, boolean> = {};
    const truncations: Record<string, boolean> = {};
    const infos: Record<string, CommunityInfo> = {};
    for (let i = 0; i < core.n; i++) {
      const id = this.possibleAgents[i];
      observations[id] = this.observation(i);
      rewards[id] = core.rewards[i];
      terminations[id] = done;
      truncations[id] = false;
      const info = this.info(i, core.violations[i]);
      if (summary) info.day = summary.homes[i];
      infos[id] = info;
    }
    if (done) this.agents = [];
    return { observations, rewards, terminations, truncations, infos, operatorReward: core.operatorReward };
  }

  /** Every home's observation (file order, as observationSpace lays it out), then the 4 community features. */
  state(): Float32Array {
    if (!this.started) throw new Error('CommunityEnv.state() called before reset(): call reset({ seed }) first');
    const obs = this.core.observations;
    const out = new Float32Array(obs.length + COMMUNITY_FEATURES.length);
    out.set(obs);
    return this.core.features(out, obs.length);
  }

  /** The Box of state(). */
  stateSpace(): Box {
    const low: number[] = [];
    const high: number[] = [];
    for (const b of this.obsSpaces) {
      low.push(...b.low);
      high.push(...b.high);
    }
    const fb = this.core.featureBounds();
    return new Box([...low, ...fb.low], [...high, ...fb.high]);
  }

  /** The log of the current (or just finished) day. */
  trajectory(): CommunityDayLog {
    if (!this.started) throw new Error('CommunityEnv.trajectory() called before reset(): call reset({ seed }) first');
    return this.log;
  }

  close(): void {
    this.started = false;
    this.agents = [];
  }

  private at(id: string, fn: string): number {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`CommunityEnv.${fn}(): unknown agent "${id}"; the agents are ${this.possibleAgents.join(', ')}`);
    return i;
  }

  private observation(i: number): Float32Array {
    const core = this.core;
    const o = core.obsOffsets[i];
    const out = this.obsSlab.take(core.obsSize[i]);
    out.set(core.observations.subarray(o, o + core.obsSize[i]));
    return out;
  }

  private info(i: number, violations: number): CommunityInfo {
    const h = this.core.homes[i];
    const mask = this.maskSlab.take(h.maskSize);
    mask.set(h.mask);
    return { slot: h.slot, actionMask: mask, violations, home: h, feederExcessKw: this.core.excessKw };
  }

  private record(t: number): void {
    const core = this.core;
    const log = this.log;
    const cl = core.clearing;
    log.buyPrice[t] = cl.buyPrice;
    log.sellPrice[t] = cl.sellPrice;
    log.feederKw[t] = core.flowKw;
    log.operatorRewards[t] = core.operatorReward;
    for (let i = 0; i < core.n; i++) {
      const h = core.homes[i];
      const d = log.homes[i];
      const k = i * SLOTS + t;
      d.importKw[t] = core.importKw[k];
      d.exportKw[t] = core.exportKw[k];
      d.loadKw[t] = core.loadKw[k];
      d.evKw[t] = h.applied.evKw;
      d.socKwh[t + 1] = core.socKwh[i * (SLOTS + 1) + t + 1];
      for (let a = 0; a < h.nApp; a++) d.applianceKw[a * SLOTS + t] = h.applied.deviceKw[a];
      d.actions.set(h.appliedComponents, t * h.nComponents);
      d.rewards[t] = core.rewards[i];
      d.violations[t] = core.violations[i];
      log.boughtP2pKw[k] = cl.boughtP2pKw[i];
      log.soldP2pKw[k] = cl.soldP2pKw[i];
      log.boughtGridKw[k] = cl.boughtGridKw[i];
      log.soldGridKw[k] = cl.soldGridKw[i];
      log.paymentEur[k] = cl.paymentEurPerH[i] * DT;
    }
  }
}

function newLog(core: CommunityCore, seed: number, days: Day[]): CommunityDayLog {
  const n = core.n;
  const f = (len: number) => new Float64Array(len);
  const homes: DayLog[] = core.homes.map((h, i) => ({
    day: days[i],
    importKw: f(SLOTS),
    exportKw: f(SLOTS),
    loadKw: f(SLOTS),
    evKw: f(SLOTS),
    socKwh: f(SLOTS + 1).fill(Number.NaN),
    applianceKw: f(h.nApp * SLOTS),
    actions: new Int32Array(SLOTS * h.nComponents),
    rewards: f(SLOTS),
    violations: new Int32Array(SLOTS),
  }));
  homes.forEach((d, i) => (d.socKwh[0] = core.socKwh[i * (SLOTS + 1)]));
  return {
    seed,
    days,
    homes,
    buyPrice: f(SLOTS),
    sellPrice: f(SLOTS),
    boughtP2pKw: f(n * SLOTS),
    soldP2pKw: f(n * SLOTS),
    boughtGridKw: f(n * SLOTS),
    soldGridKw: f(n * SLOTS),
    paymentEur: f(n * SLOTS),
    feederKw: f(SLOTS),
    operatorRewards: f(SLOTS),
    feederExcessKw: f(SLOTS),
  };
}

/** Make the environment of a community: a shipped id (listCommunities()), a path to a community JSON file, or a parsed Community. */
export function makeCommunityEnv(community: Community | string, opts: CommunityEnvOptions = {}): CommunityEnv {
  return new CommunityEnv(typeof community === 'string' ? loadCommunity(community) : community, opts);
}
