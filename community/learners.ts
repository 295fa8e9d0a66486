import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { daySeed, flatCodec, observationLayout, type Feature, type Policy, type StepInfo } from '../env/index.js';
import type { ActionCodec } from '../runtime/index.js';
import type { Transition } from '../agents/agent.js';
import type { DqnAgent } from '../agents/dqn.js';
import type { QLearningAgent } from '../agents/qlearning.js';
import type { Community } from './community.js';
import type { CommunityTrainConfig } from './config.js';
import type { CommunityAlgorithm } from './run.js';

/**
 * The agents of a community run, behind one face for the train loop (train.ts) and for the
 * learned policies of an evaluation:
 * - `shared` DQN (parameter sharing): ONE network acts for every home, each home's row in one
 *   batch; its transitions all go to the one buffer, tagged with the home (Transition.stream);
 * - `per-home` Q-learning: one table per home, each seeded from the run seed and the home's index.
 * The observation a learner sees is the env's (the home's own features then the 4 community
 * features) followed, for the shared network with `descriptor`, by the home's constant
 * descriptor: PV kWp ÷ 10 and contract kW ÷ 20.
 */

/** The community's 4 observation features (community/core.ts COMMUNITY_FEATURES) as layout entries with Box bounds, after each home's own. */
export const COMMUNITY_LAYOUT: Feature[] = [
  { name: 'community.buy_price', unit: '€/kWh', scaling: '÷ highest band price', low: 0, high: 1 },
  { name: 'community.sell_price', unit: '€/kWh', scaling: '÷ highest band price', low: 0, high: 1 },
  { name: 'community.net', unit: 'kW', scaling: '÷ feeder limit', low: -1, high: 1 },
  { name: 'community.headroom', unit: 'kW', scaling: '÷ feeder limit', low: 0, high: 1 },
];
export const DESCRIPTOR_FEATURES = ['home.pv_kwp', 'home.contract_kw'] as const;

/** The constant descriptor of home i: PV kWp ÷ 10, contract kW ÷ 20. */
export function homeDescriptor(c: Community, i: number): [number, number] {
  const s = c.homes[i].scenario;
  return [s.pv.peakKw / 10, s.grid.contractKw / 20];
}

export interface Learners {
  readonly algorithm: CommunityAlgorithm;
  /** The env's observation size of each home, and what the learner reads (with the descriptor). */
  readonly envObsSize: number;
  readonly obsSize: number;
  /** Flat actions of each home (its codec's n). */
  readonly nActions: number[];
  readonly epsilon: number;
  readonly steps: number;
  readonly updates: number;
  /** A flat action per home; `obs` is n × obsSize, `masks` home i's flat mask at offsets[i]. */
  act(obs: Float32Array, masks: Uint8Array, explore: boolean): Int32Array;
  /** Home i's greedy flat action alone (evaluation: homes act one by one). */
  actHome(i: number, obs: Float32Array, mask: Uint8Array): number;
  /** Learn home i's transition; the loss of the update it ran, else null. */
  learn(i: number, t: Transition): number | null;
  /** Store home i's teacher label (the shared DQN with a teacher only). */
  learnDemo(i: number, obs: Float32Array, mask: Uint8Array, action: number): void;
  endEpisode(): void;
  save(dir: string, policyOnly: boolean): Promise<void>;
  dispose(): void;
}

/** Where home i's flat mask starts in the masks buffer. */
export function maskOffsets(nActions: readonly number[]): number[] {
  const out: number[] = [];
  nActions.reduce((at, n) => (out.push(at), at + n), 0);
  return out;
}

export function codecsOf(c: Community): ActionCodec[] {
  return c.homes.map((h) => flatCodec(h.scenario));
}

/** The env's observation size of home i: its own features and the community's. */
export function envObsSize(c: Community, i = 0): number {
  return observationLayout(c.homes[i].scenario).length + COMMUNITY_LAYOUT.length;
}

/** Refuses homes one network cannot share: different observation sizes or action counts. */
export function checkShareable(c: Community): void {
  const d = envObsSize(c, 0);
  const a = flatCodec(c.homes[0].scenario).n;
  c.homes.forEach((h, i) => {
    const [di, ai] = [envObsSize(c, i), flatCodec(h.scenario).n];
    if (di !== d || ai !== a)
      throw new Error(`community ${c.id}: home ${h.id} has ${di} observation features and ${ai} flat actions, ${c.homes[0].id} ${d} and ${a}: one shared DQN needs the same for every home (train --agent qlearning instead)`);
  });
}

/** Writes home i's learner observation: the env's, then the descriptor when asked. */
export function writeObs(c: Community, i: number, envObs: ArrayLike<number>, descriptor: boolean, out: Float32Array, at: number): void {
  const d = envObs.length;
  for (let k = 0; k < d; k++) out[at + k] = envObs[k];
  if (descriptor) out.set(homeDescriptor(c, i), at + d);
}

class SharedDqn implements Learners {
  readonly algorithm = 'dqn' as const;
  constructor(
    readonly agent: DqnAgent,
    readonly envObsSize: number,
    readonly nActions: number[],
  ) {}
  get obsSize() {
    return this.agent.obsSize;
  }
  get epsilon() {
    return this.agent.epsilon;
  }
  get steps() {
    return this.agent.steps;
  }
  get updates() {
    return this.agent.updates;
  }
  act(obs: Float32Array, masks: Uint8Array, explore: boolean): Int32Array {
    return this.agent.actBatch(obs, masks, this.nActions.length, explore);
  }
  actHome(_i: number, obs: Float32Array, mask: Uint8Array): number {
    return this.agent.act(obs, mask, false);
  }
  learn(i: number, t: Transition): number | null {
    return this.agent.learn({ ...t, stream: i });
  }
  learnDemo(_i: number, obs: Float32Array, mask: Uint8Array, action: number): void {
    this.agent.learnDemo(obs, mask, action);
  }
  endEpisode(): void {
    this.agent.endEpisode();
  }
  save(dir: string, policyOnly: boolean): Promise<void> {
    return this.agent.save(dir, { policyOnly });
  }
  dispose(): void {
    this.agent.dispose();
  }
}

class PerHomeQ implements Learners {
  readonly algorithm = 'qlearning' as const;
  private readonly offsets: number[];
  constructor(
    readonly agents: QLearningAgent[],
    readonly ids: string[],
    readonly envObsSize: number,
    readonly nActions: number[],
  ) {
    this.offsets = maskOffsets(nActions);
  }
  get obsSize() {
    return this.envObsSize;
  }
  get epsilon() {
    return this.agents[0].epsilon;
  }
  get steps() {
    return this.agents.reduce((s, a) => s + a.steps, 0);
  }
  get updates() {
    return this.agents.reduce((s, a) => s + a.updates, 0);
  }
  act(obs: Float32Array, masks: Uint8Array, explore: boolean): Int32Array {
    const d = this.obsSize;
    return Int32Array.from(this.agents, (a, i) => a.act(obs.subarray(i * d, (i + 1) * d), masks.subarray(this.offsets[i], this.offsets[i] + this.nActions[i]), explore));
  }
  actHome(i: number, obs: Float32Array, mask: Uint8Array): number {
    return this.agents[i].act(obs, mask, false);
  }
  learn(i: number, t: Transition): number | null {
    return this.agents[i].learn({ ...t, stream: 0 });
  }
  learnDemo(): void {
    throw new Error('community Q-learning has no teacher: the teacher is the shared DQN\'s');
  }
  endEpisode(): void {
    for (const a of this.agents) a.endEpisode();
  }
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const [i, a] of this.agents.entries()) await a.save(join(dir, this.ids[i]));
  }
  dispose(): void {
    for (const a of this.agents) a.dispose();
  }
}

/** Fresh learners for a run; `totalEpisodes` sets the ε (and α) schedules. */
export async function createLearners(c: Community, algorithm: CommunityAlgorithm, config: CommunityTrainConfig, seed: number, totalEpisodes: number): Promise<Learners> {
  const nActions = codecsOf(c).map((k) => k.n);
  if (algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    const agents = c.homes.map((h, i) => new QLearningAgent({ layout: [...observationLayout(h.scenario), ...COMMUNITY_LAYOUT], nActions: nActions[i], config: config.qlearning, seed: daySeed(seed, i), totalEpisodes }));
    return new PerHomeQ(agents, c.homes.map((h) => h.id), envObsSize(c), nActions);
  }
  checkShareable(c);
  const { initBackend } = await import('../models/backend.js');
  await initBackend('auto');
  const { DqnAgent } = await import('../agents/dqn.js');
  const obsSize = envObsSize(c) + (config.descriptor ? DESCRIPTOR_FEATURES.length : 0);
  // The agent's `teacher` only switches its label store and DQfD update on (agents/dqn.ts); the labels come from the community trainer.
  const dqn = config.teacher === 'none' ? config.dqn : { ...config.dqn, teacher: 'mpc' as const, teacherEpisodes: config.teacherEpisodes, imitationWeight: config.imitationWeight };
  const agent = new DqnAgent({ obsSize, nActions: nActions[0], config: dqn, seed, totalSteps: totalEpisodes * 96 * c.homes.length });
  return new SharedDqn(agent, envObsSize(c), nActions);
}

/** Learners saved by `save` (a checkpoint, or with `policyOnly` a run's model/). */
export async function loadLearners(c: Community, algorithm: CommunityAlgorithm, dir: string, policyOnly: boolean): Promise<Learners> {
  const nActions = codecsOf(c).map((k) => k.n);
  if (algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    const agents = await Promise.all(c.homes.map((h) => QLearningAgent.load(join(dir, h.id))));
    return new PerHomeQ(agents, c.homes.map((h) => h.id), envObsSize(c), nActions);
  }
  const { initBackend } = await import('../models/backend.js');
  await initBackend('auto');
  const { DqnAgent } = await import('../agents/dqn.js');
  const agent = policyOnly ? await DqnAgent.loadPolicyOnly(dir) : await DqnAgent.load(dir);
  return new SharedDqn(agent, envObsSize(c), nActions);
}

/**
 * Refuses learners saved for other observations than the env gives now (a feature added since):
 * they would read every later feature from the wrong place, silently.
 */
export function checkObservations(c: Community, learners: Learners, descriptor: boolean): void {
  if (learners instanceof PerHomeQ) {
    c.homes.forEach((h, i) => {
      const now = [...observationLayout(h.scenario), ...COMMUNITY_LAYOUT].map((f) => f.name).join(', ');
      const seen = learners.agents[i].layout.map((f) => f.name).join(', ');
      if (seen !== now) throw new Error(`home ${h.id}'s table was trained on observations of [${seen}], but the env now gives [${now}]: retrain it with this version`);
    });
    return;
  }
  const want = learners.envObsSize + (descriptor ? DESCRIPTOR_FEATURES.length : 0);
  if (learners.obsSize !== want) throw new Error(`the network was trained on ${learners.obsSize} features, but the env and descriptor now give ${want}: retrain it with this version`);
}

/**
 * One greedy Policy per home from trained learners (env/policy.ts), named `name`: home i's policy
 * reads the community observation the env gives it, adds the descriptor when the run used one,
 * and plays the greedy flat action inside the home's exact joint mask (capped by its feeder share).
 */
export function learnedPolicies(c: Community, learners: Learners, name: string, descriptor: boolean): Policy[] {
  const codecs = codecsOf(c);
  return c.homes.map((h, i) => {
    const flat = codecs[i];
    const obs = new Float32Array(learners.obsSize);
    const mask = new Uint8Array(flat.n);
    const out = new Int32Array(flat.nvec.length);
    return {
      name,
      act(observation: Float32Array, info: StepInfo) {
        if (observation.length !== learners.envObsSize) throw new Error(`${name}: home ${h.id}'s observation has ${observation.length} features; the run was trained on ${learners.envObsSize}`);
        writeObs(c, i, observation, descriptor, obs, 0);
        flat.flatMask(info.home, mask);
        return flat.unflatten(learners.actHome(i, obs, mask), out);
      },
    };
  });
}
