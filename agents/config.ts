import { z } from 'zod';

/**
 * Every hyper-parameter of the agents, with its default and where the default comes from. A run's
 * config.json holds the full, resolved config; `rescoin train --config file.json` overrides fields.
 */

/**
 * Greedy validation every `validateEvery` episodes (0: none), on `validationDays` days that are
 * neither training nor held-out days; model/ is the policy that validated best (SB3's EvalCallback
 * with best_model_save_path; see training/validation.ts). On for DQN, whose greedy policy swings from one target
 * copy to the next; off for Q-learning, whose runs are long and whose table is large to copy.
 */
const validation = (validateEvery: number, validationDays: number) => ({
  validateEvery: z.number().int().min(0).default(validateEvery),
  validationDays: z.number().int().positive().default(validationDays),
});

/**
 * Learning from a teacher (DAgger, Ross et al. 2011): the teacher labels every state the homes visit
 * with its own action, and the agent learns the labels (agents/dqfd.ts) besides, or instead of, its
 * TD targets. The teacher is the MPC (baseline/mpc.ts), which sees what the agent sees and no more:
 * imitating the hindsight MILP would teach foresight the agent cannot have.
 */
const teacher = (d: { teacher: 'none' | 'mpc'; teacherEpisodes: number; betaEnd: number }) => ({
  /**
   * 'mpc': learn from the MPC's labels; 'none': plain RL. DQN's default is 'mpc': with the MPC's
   * labels on the first 128 days (β = 1) and DQfD's margin beside TD after them, seed 1 reached
   * 22.8 % on the 30 held-out days against 38.4 % without (both 1,024 days; docs/agents.md has the
   * other tries: DAgger with cross-entropy, β < 1). Q-learning's is 'none'.
   */
  teacher: z.enum(['none', 'mpc']).default(d.teacher),
  /**
   * Probability that a home plays the teacher's action rather than the agent's (DAgger's β), from
   * betaStart to betaEnd over the first betaFraction of the episodes. β = 1 is behaviour cloning;
   * β < 1 visits the agent's own states, where its mistakes lead, and gets them labelled. DQN keeps
   * β = 1 (betaEnd 1): lowering it to 0 over the teacher's days did worse (validation J 0.10–0.15 €
   * against 0.05).
   */
  betaStart: z.number().min(0).max(1).default(1),
  betaEnd: z.number().min(0).max(1).default(d.betaEnd),
  betaFraction: z.number().gt(0).max(1).default(0.5),
  /**
   * Episodes the teacher labels (0: all; DQN 128). After them the agent acts ε-greedy and learns
   * on: TD on its own transitions, and the supervised loss on the labels kept (DQfD's pre-training
   * then fine-tuning, Hester et al. 2018), so the teacher's cost stops while training goes on.
   */
  teacherEpisodes: z.number().int().min(0).default(d.teacherEpisodes),
  /** DQfD's margin, in scaled reward units (cents with rewardScale 100): the label should lead every other allowed action by this much. */
  margin: z.number().positive().default(0.8),
  /** Threads the teacher's MPCs run on (training/teacher-pool.ts; 0: one per core, at most one per home). The labels are the same for any number. */
  teacherThreads: z.number().int().min(0).default(0),
  /** The teacher MPC's relative MIP gap per re-solve (baseline/mpc.ts; its default is 1e-4). */
  teacherMipGap: z.number().positive().default(1e-4),
});

/** DQN's part of learning from a teacher: the supervised loss and its store (agents/dqfd.ts). */
const dqnTeacher = {
  ...teacher({ teacher: 'mpc', teacherEpisodes: 128, betaEnd: 1 }),
  /** The supervised loss on the labels (dqfd.ts): DQfD's large 'margin', or 'cross-entropy' (Q as logits: pure imitation only). */
  imitationLoss: z.enum(['cross-entropy', 'margin']).default('margin'),
  /** Weights of the two losses per update: imitation on a batch of labels, TD on a batch of the agent's own transitions (0: pure imitation). */
  imitationWeight: z.number().min(0).default(1),
  tdWeight: z.number().min(0).default(1),
  /** Labels kept (DAgger aggregates them all: 96 a day). */
  demoBufferSize: z.number().int().positive().default(150_000),
};

export const qlearningConfig = z.object({
  /** Discount. 1: a day is a finite episode and the slot is in the state, so −J is undiscounted. */
  gamma: z.number().min(0).max(1).default(1),
  /** Learning rate α at the start and at the end of training (linear in episodes). */
  alphaStart: z.number().gt(0).max(1).default(0.5),
  alphaEnd: z.number().gt(0).max(1).default(0.05),
  /** ε-greedy exploration: from start to end over the first `epsilonFraction` of the episodes. */
  epsilonStart: z.number().min(0).max(1).default(1),
  epsilonEnd: z.number().min(0).max(1).default(0.02),
  epsilonFraction: z.number().gt(0).max(1).default(0.7),
  /**
   * Rewards are in €; the table learns them times this (cents). The update is linear in the reward,
   * so the greedy policy does not depend on it: it only sets the units of the table and the loss.
   */
  rewardScale: z.number().positive().default(100),
  /**
   * Update a day's transitions when it ends, from the last slot back to the first (as episodic
   * backward updates, Lee et al. 2019): what the end of the day costs reaches slot 0 in one pass,
   * where forward one-step updates carry it back one slot per visit.
   */
  backward: z.boolean().default(true),
  /** What a state never updated is worth: 0, or the running mean of the targets at its slot (see qlearning.ts). */
  unseenValue: z.enum(['zero', 'slot-mean']).default('slot-mean'),
  /**
   * Train on r + γ·Φ(s') − Φ(s) with env/shaping.ts's peak potential: the EV's unavoidable peak is
   * charged when it becomes unavoidable. Potential-based, so the optimum is unchanged; metrics stay unshaped.
   */
  peakShaping: z.boolean().default(true),
  ...validation(0, 16),
  ...teacher({ teacher: 'none', teacherEpisodes: 0, betaEnd: 0 }),
});

export const dqnConfig = z.object({
  /** Hidden layer widths of the Q-network (ReLU). */
  hidden: z.array(z.number().int().positive()).min(1).default([128, 128]),
  /** Dueling head (Wang et al. 2016): V(s) + A(s, a) − mean A. */
  dueling: z.boolean().default(true),
  /**
   * Discount. 1: the day's objective is undiscounted, and any γ < 1 pays the agent to defer costs,
   * so it idled the EV until the fast level was forced. With the ev.rate feature, 1,024 days, 30
   * held-out days: γ 1 51.7 %, 0.999 53.4 %, 0.99 (CleanRL's and SB3's default) 65.4 %.
   */
  gamma: z.number().min(0).max(1).default(1),
  /**
   * Rewards summed per target (n-step returns; Rainbow uses 3). A day hides delayed costs: an EV left
   * idle is forced to its fast level slots later, raising the peak, and one-step targets carry that
   * back one slot per update. 1 by default: 8 did worse in 1,024 days (83.1 % gap against 72.8 %).
   */
  nStep: z.number().int().min(1).max(96).default(1),
  /**
   * Adam learning rate (CleanRL dqn.py uses 2.5e-4 on Atari; a small MLP takes more). 2e-3 after
   * 1,024 days: 35.2, 34.9, 48.1 % gap with training seeds 1–3 (30 held-out days), against 40.3,
   * 57.7, 56.5 % for 5e-4 after 1,536 days; 4e-3 did worse (55.8 %, seed 1).
   */
  learningRate: z.number().positive().default(2e-3),
  /** Global-norm gradient clipping (SB3 DQN: max_grad_norm 10). */
  maxGradNorm: z.number().positive().default(10),
  batchSize: z.number().int().positive().default(128),
  bufferSize: z.number().int().positive().default(100_000),
  /** Steps of experience before the first update (CleanRL: learning_starts). */
  learningStarts: z.number().int().min(0).default(2_000),
  /** One gradient update every this many environment steps (CleanRL: train_frequency). */
  trainFrequency: z.number().int().positive().default(4),
  /** Target network: hard copy every `targetUpdateSteps` updates when tau = 1, else Polyak with tau each update. */
  tau: z.number().gt(0).max(1).default(1),
  targetUpdateSteps: z.number().int().positive().default(500),
  /** Double DQN (van Hasselt et al. 2016): the online net picks a', the target net values it. */
  double: z.boolean().default(true),
  /**
   * ε at the start; null: 1 without a teacher (explore from scratch), 0.2 with one (the labels
   * have taught a policy already, and DQfD explores little around it: 0.01 in Hester et al.).
   */
  epsilonStart: z.number().min(0).max(1).nullable().default(null),
  epsilonEnd: z.number().min(0).max(1).default(0.02),
  /** ε decays linearly over this fraction of the run's steps (CleanRL: exploration_fraction 0.5). */
  epsilonFraction: z.number().gt(0).max(1).default(0.5),
  rewardScale: z.number().positive().default(100),
  /**
   * Train on r + γ·Φ(s') − Φ(s) with env/shaping.ts's peak potential. Off: it helps Q-learning but
   * not DQN (75.0 % gap against 65.4 % without, 1,024 days, 30 held-out days).
   */
  peakShaping: z.boolean().default(false),
  /** Homes stepped together to collect experience (the vector env). */
  numEnvs: z.number().int().positive().default(8),
  /*
   * 64 validation days (16 until issue 13), for a steadier pick: validation never changes training
   * (greedy play draws no random number), and a day costs about 10 ms. Measured (npm run
   * bench:train, held-out gap of the picked policy, 16 → 64 days): seed 1 22.8 → 22.8 % (the
   * same pick), seed 2 28.1 → 32.1 % (episode 192 → 896), while both curves passed 18.2–18.3 %.
   * Neither count picks well: the validation and held-out days disagree by several points.
   */
  ...validation(64, 64),
  ...dqnTeacher,
});

export type QLearningConfig = z.output<typeof qlearningConfig>;
export type DqnConfig = z.output<typeof dqnConfig>;
