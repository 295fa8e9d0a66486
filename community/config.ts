import { z } from 'zod';
import { dqnConfig, qlearningConfig, type DqnConfig, type QLearningConfig } from '../agents/config.js';

/**
 * Hyper-parameters of the neighbourhood's agents (community/train.ts): the single-home agents'
 * configs (agents/config.ts), with the defaults changed where the community differs, and what
 * the community adds. A run's config.json holds the resolved config; `rescoin community train
 * --config file.json` overrides fields (`{"dqn": {"learningRate": 0.001}, "descriptor": false}`).
 */

/**
 * DQN with parameter sharing: one network for every home. Changed from the single home's defaults:
 * - teacher 'none': the MPC teacher labels every home's state with a solve per slot (≈ 9× the
 *   single home's cost per community day), far over the issue's 4-minute training budget;
 * - validateEvery 0: no greedy validation days inside the budget; model/ is the final network;
 * - learningStarts 864 (one community day of 9 homes) and numEnvs 1: the homes of ONE community
 *   are the parallel streams (9 transitions per slot), so there is nothing to vectorise beside them;
 * - epsilonFraction 0.3: with a few hundred days ε must reach its floor early enough to learn
 *   from the greedy policy's own states;
 * - hidden [64, 64] and trainFrequency 8: a community day of 9 homes is 864 transitions, and the
 *   single home's [128, 128] every 4 steps cost about 2.5 s of CPU per day here (216 updates),
 *   about 1 s with these, so the default 150 days fit the budget (docs/community-agents.md).
 */
export const communityDqnDefaults: Partial<DqnConfig> = {
  teacher: 'none',
  validateEvery: 0,
  learningStarts: 864,
  numEnvs: 1,
  epsilonFraction: 0.3,
  hidden: [64, 64],
  trainFrequency: 8,
};

/**
 * Per-home tabular Q-learning: one table per home, the single home's defaults (the key is the
 * single-home key of runtime/tablekey.ts: the community features are not in it, since every
 * extra digit multiplies the states a table must visit; the community reaches it through the
 * shared operator reward).
 */
export const communityQlearningDefaults: Partial<QLearningConfig> = {};

export const communityTrainConfig = z.object({
  dqn: dqnConfig.default(dqnConfig.parse(communityDqnDefaults)),
  qlearning: qlearningConfig.default(qlearningConfig.parse(communityQlearningDefaults)),
  /**
   * Append a constant per-home descriptor to the shared network's observation, PV kWp ÷ 10 and
   * contract kW ÷ 20, so one network can tell homes apart where their observations alone would
   * not (the observation's PV feature is already ÷ kWp). The env is unchanged: the trainer and the
   * learned policy append it. Q-learning ignores it (its key is per home anyway).
   */
  descriptor: z.boolean().default(true),
  /**
   * Each home learns from its own reward plus operatorReward ÷ n, its share of the operator's
   * (the increase of the community peak charge), so the homes see the community peak; Σ over the
   * homes of the learned rewards is the community's −J. false: each home's own reward only.
   */
  operatorShare: z.boolean().default(true),
  /**
   * The shared DQN's teacher (DQfD, Hester et al. 2018): 'precharge' plays the pre-charge rule
   * (community/play.ts, fitted to each home's cap; µs per decision, where the MPC costs about 7 s
   * a 9-home day) on the first `teacherEpisodes` days and stores each home's (observation, flat
   * mask, rule's flat action) as a label; the network learns TD plus imitationWeight × the large
   * margin loss on the kept labels (agents/dqfd.ts), and plays ε-greedy after those days (ε starts
   * at 0.2). Q-learning ignores it. The dqn block's own `teacher` (the single home's MPC) is unused here.
   * The default: on citylearn-9 (150 days, seeds 1–3) it took the gap to J* from 64.9 / 86.4 % to
   * 49.7 / 43.8 / 43.4 %, for about 1.5× the training CPU (two batches per update; docs/community-agents.md).
   */
  teacher: z.enum(['none', 'precharge']).default('precharge'),
  /** Days the rule plays and labels (the first ones); at least 1 with a teacher. */
  teacherEpisodes: z.number().int().min(1).default(40),
  /** Weight of the margin loss on the labels per update (TD's is dqn.tdWeight). */
  imitationWeight: z.number().min(0).default(1),
});

export type CommunityTrainConfig = z.output<typeof communityTrainConfig>;

/**
 * The resolved config: the defaults, the community's changes, then `overrides` (per algorithm,
 * field by field). Errors name the field and the value.
 */
export function resolveCommunityConfig(overrides: Record<string, unknown> = {}): CommunityTrainConfig {
  const o = overrides as { dqn?: Record<string, unknown>; qlearning?: Record<string, unknown> };
  const merged = { ...overrides, dqn: { ...communityDqnDefaults, ...(o.dqn ?? {}) }, qlearning: { ...communityQlearningDefaults, ...(o.qlearning ?? {}) } };
  const r = communityTrainConfig.strict().safeParse(merged, { reportInput: true });
  if (!r.success) throw new Error(`invalid community train config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
