import { daySeed, type HomeView, type Scenario, type VectorDaySummary } from '../env/index.js';
import { drawCommunityDay, type Community } from './community.js';
import type { CapPolicy } from './caps.js';
import { CommunityCore } from './core.js';
import type { CommunityDaySummary, CommunityHomeSummary } from './score.js';

/**
 * # Many communities stepped at once on typed arrays (the fast path, as env/vector.ts is for homes)
 *
 * `nCommunities` copies of one community, each a CommunityCore (community/core.ts, the env's own
 * per-slot logic: caps, market, rewards). The homes are flattened into rows: with n homes per
 * community, row k is home k mod n of community ⌊k/n⌋. Buffers are owned by the vector env and
 * overwritten by every call: copy what you keep.
 * - `observations[k * obsSize + j]`, `masks[k * maskSize + m]`, `rewards[k]`, `terminated[k]`;
 * - `actions[k * nComponents + c]` in `step(actions)`;
 * - per community: `operatorRewards[q]` and `communitySummaries[q]`.
 * Autoreset in the same step, as VectorHomeEnv: when community q ends its day, its rows are
 * `terminated`, `summaries[k]` holds each home's day (its CommunityHomeSummary and return),
 * `communitySummaries[q]` the community's, and the buffers already show its next day. Community q's
 * j-th day is drawCommunityDay(c, daySeed(seed, j * nCommunities + q)): the same days whatever the
 * number of steps.
 *
 * It is an env/vector.ts `VectorEnv` (rows as its homes, `scenario` the first home's, `view(k)` the
 * row's live HomeView under its feeder cap), so the single-home DQN loop trains ONE network over
 * every home of every copy (parameter sharing). That needs one observation size and one action
 * space: the constructor refuses a community whose homes differ, naming the first that does.
 */

/** A row's day: the home's summary in its community (cost = its market bill) and its return (= −score). */
export interface CommunityRowSummary extends CommunityHomeSummary, VectorDaySummary {
  /** Which copy of the community the row belongs to. */
  community: number;
}

export class CommunityVectorEnv {
  readonly community: Community;
  readonly nCommunities: number;
  /** Homes per community. */
  readonly homesPer: number;
  /** Rows: homes per community × communities. */
  readonly n: number;
  readonly obsSize: number;
  readonly maskSize: number;
  readonly nComponents: number;
  /** The first home's scenario (every home shares its observation size and action space). */
  readonly scenario: Scenario;
  readonly cores: CommunityCore[];
  readonly observations: Float32Array;
  readonly masks: Uint8Array;
  readonly rewards: Float64Array;
  readonly operatorRewards: Float64Array;
  readonly terminated: Uint8Array;
  /** Per row: the home's day when its community ended a day in the last step, else null. */
  readonly summaries: (CommunityRowSummary | null)[];
  /** Per community: its day when it ended one in the last step, else null. */
  readonly communitySummaries: (CommunityDaySummary | null)[];
  private readonly dayCount: Int32Array;
  private readonly daySeeds: Float64Array;
  private seed = 0;

  /** `opts.caps`: the operator's headroom allocation (community/caps.ts), one policy for every copy. */
  constructor(community: Community, nCommunities: number, opts: { caps?: CapPolicy } = {}) {
    if (!Number.isInteger(nCommunities) || nCommunities < 1) throw new Error(`CommunityVectorEnv: nCommunities must be a positive integer, got ${nCommunities}`);
    this.community = community;
    this.nCommunities = nCommunities;
    this.cores = Array.from({ length: nCommunities }, () => new CommunityCore(community, { caps: opts.caps }));
    const core = this.cores[0];
    this.homesPer = core.n;
    checkUniform(community, core);
    const first = core.homes[0];
    this.scenario = community.homes[0].scenario;
    this.obsSize = core.obsSize[0];
    this.maskSize = first.maskSize;
    this.nComponents = first.nComponents;
    this.n = this.homesPer * nCommunities;
    this.observations = new Float32Array(this.n * this.obsSize);
    this.masks = new Uint8Array(this.n * this.maskSize);
    this.rewards = new Float64Array(this.n);
    this.operatorRewards = new Float64Array(nCommunities);
    this.terminated = new Uint8Array(this.n);
    this.summaries = new Array(this.n).fill(null);
    this.communitySummaries = new Array(nCommunities).fill(null);
    this.dayCount = new Int32Array(nCommunities);
    this.daySeeds = new Float64Array(nCommunities);
  }

  /** Start every community on its first day of `seed` (or on round `firstRound`, to resume a run). */
  reset(seed = 0, firstRound = 0): Float32Array {
    this.seed = seed;
    this.dayCount.fill(firstRound);
    this.rewards.fill(0);
    this.operatorRewards.fill(0);
    this.terminated.fill(0);
    this.summaries.fill(null);
    this.communitySummaries.fill(null);
    for (let q = 0; q < this.nCommunities; q++) this.begin(q);
    return this.observations;
  }

  /** The seed of community q's current day (drawCommunityDay's). */
  seedOf(q: number): number {
    return this.daySeeds[q];
  }

  /** What a policy may see of row k now (its home's live view, under the feeder cap: read only). */
  view(k: number): HomeView {
    const q = Math.floor(k / this.homesPer);
    return this.cores[q].homes[k - q * this.homesPer];
  }

  /** Step every community with its rows' actions; returns the rows' rewards (see the class comment). */
  step(actions: Int32Array): Float64Array {
    if (actions.length !== this.n * this.nComponents)
      throw new Error(`CommunityVectorEnv.step(): expected ${this.n * this.nComponents} actions (${this.n} rows × ${this.nComponents}), got ${actions.length}`);
    const per = this.homesPer;
    const nc = this.nComponents;
    for (let q = 0; q < this.nCommunities; q++) {
      const core = this.cores[q];
      const row0 = q * per;
      for (let i = 0; i < per; i++) core.applyHome(i, actions, (row0 + i) * nc);
      core.settle();
      this.rewards.set(core.rewards, row0);
      this.operatorRewards[q] = core.operatorReward;
      if (core.done) {
        this.terminated.fill(1, row0, row0 + per);
        this.finish(q);
        this.begin(q);
      } else {
        this.terminated.fill(0, row0, row0 + per);
        this.communitySummaries[q] = null;
        this.summaries.fill(null, row0, row0 + per);
        this.publish(q);
      }
    }
    return this.rewards;
  }

  private begin(q: number): void {
    const seed = daySeed(this.seed, this.dayCount[q] * this.nCommunities + q);
    this.daySeeds[q] = seed;
    this.cores[q].begin(drawCommunityDay(this.community, seed));
    this.dayCount[q]++;
    this.publish(q);
  }

  private finish(q: number): void {
    const core = this.cores[q];
    const s = core.summary(this.daySeeds[q]);
    this.communitySummaries[q] = s;
    const row0 = q * this.homesPer;
    for (let i = 0; i < this.homesPer; i++) this.summaries[row0 + i] = { ...s.homes[i], return: core.homes[i].returnSum, community: q };
  }

  /** The core's buffers are laid out as our rows (one obsSize, one maskSize): one copy each. */
  private publish(q: number): void {
    const core = this.cores[q];
    this.observations.set(core.observations, q * this.homesPer * this.obsSize);
    this.masks.set(core.masks, q * this.homesPer * this.maskSize);
  }
}

/** One observation size and one action space for every home, or an error naming the first home that differs. */
function checkUniform(c: Community, core: CommunityCore): void {
  const h0 = core.homes[0];
  const nvec0 = Array.from(h0.nvec).join(', ');
  for (let i = 1; i < core.n; i++) {
    const h = core.homes[i];
    const nvec = Array.from(h.nvec).join(', ');
    const where = `CommunityVectorEnv: home ${i} ("${c.homes[i].id}", scenario ${c.homes[i].scenario.id})`;
    const first = `home 0 ("${c.homes[0].id}", scenario ${c.homes[0].scenario.id})`;
    if (core.obsSize[i] !== core.obsSize[0]) throw new Error(`${where} has an observation of ${core.obsSize[i]} values, ${first} ${core.obsSize[0]}; the vector form needs one size for every home (one shared network)`);
    if (nvec !== nvec0) throw new Error(`${where} has the action space MultiDiscrete([${nvec}]), ${first} MultiDiscrete([${nvec0}]); the vector form needs one action space for every home`);
  }
}
