import { SLOTS, trainingDay, type Policy, type StepInfo } from '../env/index.js';
import type { ActionCodec } from '../runtime/index.js';
import type { Community } from './community.js';
import { resolveCommunityConfig, type CommunityTrainConfig } from './config.js';
import { CommunityEnv, type CommunityInfo } from './env.js';
import { checkObservations, codecsOf, createLearners, learnedPolicies, loadLearners, maskOffsets, writeObs, type Learners } from './learners.js';
import { communityPolicies } from './play.js';
import { communityHash, COMMUNITY_RUN_FORMAT, CommunityRunDir, type CommunityAlgorithm, type CommunityRunConfig } from './run.js';

/**
 * # Training the neighbourhood's agents (`rescoin community train`; docs/community-agents.md)
 *
 * One episode is one community day: episode e plays the community day drawn from
 * trainingDay(seed, e) (env/days.ts; evaluation plays heldOutDay). Each slot, every home's learner
 * observation (the env's observation of the home, plus the shared network's home descriptor) and
 * flat mask (its exact joint mask under its feeder cap) go in one batch; the homes act; the env
 * steps once; each home learns its own transition. The loop is CleanRL's dqn.py in shape, on the
 * PettingZoo Parallel API.
 *
 * Reward: home i learns r_i + operatorReward ÷ n (config `operatorShare`): its own reward, the
 * slot's part of its J_i under the market, plus its share of the operator's, the increase of the
 * community peak charge. Without the share no home would see the community peak (its own peak
 * term is its own import's); with it, Σ_i of the learned rewards is exactly −(community J), so
 * the homes together learn the community's objective, each paying 1/n of the common term.
 *
 * Same seed, same run: the days come from the seed, the agents' random numbers from their own
 * seeded generators (the shared DQN: the run seed; home i's table: daySeed(seed, i)). A checkpoint
 * is written every `checkpointMinutes` and at the end; `resume` continues from it, dropping the
 * metrics rows written after it.
 */

export interface CommunityTrainOptions {
  community: Community;
  algorithm: CommunityAlgorithm;
  episodes: number;
  seed: number;
  out: string;
  resume?: boolean;
  overwrite?: boolean;
  /** Field overrides of the config (community/config.ts). */
  overrides?: Record<string, unknown>;
  checkpointMinutes?: number;
  /** Stop after this many episodes of this call (to test resume); the run stays resumable. */
  stopAfter?: number;
  /** Called after each episode with its metrics row (progress). */
  onEpisode?: (episode: number, row: EpisodeRow) => void;
}

export interface EpisodeRow {
  episode: number;
  daySeed: number;
  /** The community J of the day, €. */
  score: number;
  operatorCost: number;
  feederPeakKw: number;
  p2pKwh: number;
  violations: number;
  /** Σ of the rewards the homes learned from (−score with the operator's share). */
  return: number;
}

export interface CommunityTrainResult {
  dir: string;
  episodes: number;
  seconds: number;
  steps: number;
  updates: number;
  /** The mean community J of the last min(32, episodes) training days, €. */
  lastMeanScore: number;
}

function newRun(o: CommunityTrainOptions, config: CommunityTrainConfig): CommunityRunConfig {
  const c = o.community;
  return {
    format: COMMUNITY_RUN_FORMAT,
    version: 1,
    algorithm: o.algorithm,
    community: c.origin ?? c.id,
    communityHash: communityHash(c),
    homes: c.homes.map((h) => h.id),
    seed: o.seed,
    episodes: o.episodes,
    config,
    days: `episode e plays the community day drawCommunityDay(c, daySeed(${o.seed}, e))`,
    createdAt: new Date().toISOString(),
  };
}

function openRun(o: CommunityTrainOptions): { dir: CommunityRunDir; run: CommunityRunConfig; episodesDone: number; elapsedSec: number } {
  if (!o.resume) {
    const run = newRun(o, resolveCommunityConfig(o.overrides));
    return { dir: CommunityRunDir.create(o.out, run, o.overwrite), run, episodesDone: 0, elapsedSec: 0 };
  }
  const dir = CommunityRunDir.open(o.out);
  const run = dir.readConfig();
  if (run.communityHash !== communityHash(o.community)) throw new Error(`resume: ${o.out} was trained on another community (${run.community}, hash ${run.communityHash}; this one is ${communityHash(o.community)})`);
  if (o.episodes > run.episodes) {
    run.episodes = o.episodes;
    dir.writeConfig(run);
  }
  const loop = dir.readLoop();
  return { dir, run, episodesDone: loop?.episodesDone ?? 0, elapsedSec: loop?.elapsedSec ?? 0 };
}

/** The homes' learner observations (n × obsSize) and flat masks of the slot the env is at. */
function gather(c: Community, codecs: readonly ActionCodec[], learners: Learners, descriptor: boolean, observations: Record<string, Float32Array>, infos: Record<string, CommunityInfo>, obs: Float32Array, masks: Uint8Array, offsets: number[]): void {
  c.homes.forEach((h, i) => {
    writeObs(c, i, observations[h.id], descriptor, obs, i * learners.obsSize);
    codecs[i].flatMask(infos[h.id].home, masks.subarray(offsets[i], offsets[i] + learners.nActions[i]));
  });
}

/** What a home's rule sees: the single-home fields of its CommunityInfo. */
const homeInfo = (info: CommunityInfo): StepInfo => ({ slot: info.slot, actionMask: info.actionMask, violations: info.violations, home: info.home });

/**
 * The teacher's slot: each home's rule acts on its own observation prefix (its action goes to
 * the env in `actions`), and its flat action is home i's label on the learner observation and
 * flat mask, kept only where the mask allows it (a forced charge over the cap, left to the
 * controller's fallback, is no label). Returns the flat actions, the played ones' codes.
 */
function teacherSlot(env: CommunityEnv, rules: readonly Policy[], codecs: readonly ActionCodec[], learners: Learners, observations: Record<string, Float32Array>, infos: Record<string, CommunityInfo>, obs: Float32Array, masks: Uint8Array, offsets: number[], actions: Record<string, ArrayLike<number>>): Int32Array {
  const ids = env.possibleAgents;
  const d = learners.obsSize;
  const flat = new Int32Array(ids.length);
  ids.forEach((id, i) => {
    const a = rules[i].act(observations[id].subarray(0, env.core.homeObsSize[i]), homeInfo(infos[id]));
    actions[id] = a;
    flat[i] = codecs[i].flatten(a);
    const mask = masks.subarray(offsets[i], offsets[i] + learners.nActions[i]);
    if (mask[flat[i]] === 1) learners.learnDemo(i, obs.subarray(i * d, (i + 1) * d), mask, flat[i]);
  });
  return flat;
}

export async function trainCommunity(o: CommunityTrainOptions): Promise<CommunityTrainResult> {
  const c = o.community;
  const { dir, run, episodesDone, elapsedSec } = openRun(o);
  const cfg = run.config;
  const descriptor = run.algorithm === 'dqn' && cfg.descriptor;
  const learners = episodesDone > 0 ? await loadLearners(c, run.algorithm, dir.checkpoint, false) : await createLearners(c, run.algorithm, cfg, run.seed, run.episodes);
  dir.startMetrics(episodesDone);
  const n = c.homes.length;
  const ids = c.homes.map((h) => h.id);
  const codecs = codecsOf(c);
  const offsets = maskOffsets(learners.nActions);
  const d = learners.obsSize;
  const obs = new Float32Array(n * d);
  const prevObs = new Float32Array(n * d);
  const masks = new Uint8Array(offsets[n - 1] + learners.nActions[n - 1]);
  const noActions = masks.map(() => 0);
  const scratch = codecs.map((k) => new Int32Array(k.nvec.length));
  const env = new CommunityEnv(c);
  const rules = run.algorithm === 'dqn' && cfg.teacher === 'precharge' ? communityPolicies(c, 'precharge') : null;
  const stop = o.stopAfter !== undefined ? Math.min(run.episodes, episodesDone + o.stopAfter) : run.episodes;
  const t0 = performance.now();
  const elapsed = () => elapsedSec + (performance.now() - t0) / 1000;
  const checkpoint = (done: number) => dir.writeCheckpoint({ episodesDone: done, elapsedSec: elapsed() }, (p) => learners.save(p, false));
  let lastCheckpoint = t0;
  const scores: number[] = [];

  for (let e = episodesDone; e < stop; e++) {
    const daySeed = trainingDay(run.seed, e);
    let { observations, infos } = env.reset({ seed: daySeed });
    gather(c, codecs, learners, descriptor, observations, infos, obs, masks, offsets);
    const teach = rules !== null && e < cfg.teacherEpisodes;
    if (teach) for (let i = 0; i < n; i++) await rules[i].reset?.(homeInfo(infos[ids[i]]));
    let ret = 0;
    let lossSum = 0;
    let lossCount = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const actions: Record<string, ArrayLike<number>> = {};
      let flat: Int32Array;
      if (teach) flat = teacherSlot(env, rules, codecs, learners, observations, infos, obs, masks, offsets, actions);
      else {
        flat = learners.act(obs, masks, true);
        for (let i = 0; i < n; i++) actions[ids[i]] = codecs[i].unflatten(flat[i], scratch[i]);
      }
      prevObs.set(obs);
      const r = env.step(actions);
      const done = env.agents.length === 0;
      observations = r.observations;
      infos = r.infos;
      gather(c, codecs, learners, descriptor, observations, infos, obs, masks, offsets);
      const share = cfg.operatorShare ? r.operatorReward / n : 0;
      for (let i = 0; i < n; i++) {
        const reward = r.rewards[ids[i]] + share;
        ret += reward;
        const nextMask = (done ? noActions : masks).subarray(offsets[i], offsets[i] + learners.nActions[i]);
        const loss = learners.learn(i, { obs: prevObs.subarray(i * d, (i + 1) * d), action: flat[i], reward, nextObs: obs.subarray(i * d, (i + 1) * d), nextMask, done });
        if (loss !== null) {
          lossSum += loss;
          lossCount++;
        }
      }
    }
    learners.endEpisode();
    const s = env.trajectory().summary!;
    const row: EpisodeRow = {
      episode: e,
      daySeed,
      score: s.score,
      operatorCost: s.operatorCost,
      feederPeakKw: s.feederPeakKw,
      p2pKwh: s.homes.reduce((a, h) => a + h.p2pBoughtKwh, 0),
      violations: s.homes.reduce((a, h) => a + h.violations, 0),
      return: ret,
    };
    scores.push(s.score);
    dir.appendMetrics([e, daySeed, s.score, s.operatorCost, s.feederPeakKw, row.p2pKwh, row.violations, ret, learners.epsilon, lossCount ? lossSum / lossCount : '', learners.steps, learners.updates, elapsed().toFixed(2), s.feederExcessKwh]);
    o.onEpisode?.(e, row);
    if (performance.now() - lastCheckpoint > (o.checkpointMinutes ?? 2) * 60_000 && e + 1 < stop) {
      await checkpoint(e + 1);
      lastCheckpoint = performance.now();
    }
  }
  await checkpoint(stop);
  if (stop === run.episodes) await dir.writeModel((p) => learners.save(p, true));
  const last = scores.slice(-32);
  const result = { dir: o.out, episodes: stop, seconds: (performance.now() - t0) / 1000, steps: learners.steps, updates: learners.updates, lastMeanScore: last.length ? last.reduce((a, b) => a + b, 0) / last.length : NaN };
  learners.dispose();
  return result;
}

/** A learned policy of each home, from a finished run folder (its model/), named after the folder. */
export interface LearnedRun {
  name: string;
  run: CommunityRunConfig;
  policies: Policy[];
  /** The policies read the env's whole community observation, not the single-home prefix. */
  fullObservation: true;
  dispose(): void;
}

/** Loads a community run's model/ as one greedy Policy per home; refuses a run of another community. */
export async function loadCommunityRun(path: string, c: Community, name: string): Promise<LearnedRun> {
  const dir = CommunityRunDir.open(path);
  const run = dir.readConfig();
  if (run.communityHash !== communityHash(c)) throw new Error(`${path} was trained on community ${run.community} (hash ${run.communityHash}), not on ${c.id} (hash ${communityHash(c)})`);
  const learners = await loadLearners(c, run.algorithm, dir.model, true);
  const descriptor = run.algorithm === 'dqn' && run.config.descriptor;
  try {
    checkObservations(c, learners, descriptor);
  } catch (e) {
    learners.dispose();
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return { name, run, policies: learnedPolicies(c, learners, name, descriptor), fullObservation: true, dispose: () => learners.dispose() };
}
