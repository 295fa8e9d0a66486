/**
 * # rescoin: the library
 *
 * The curated public surface; everything else is internal and may change without notice.
 *
 * ```ts
 * import { makeEnv, train, evaluate, loadTrainedPolicy, playDay } from 'rescoin';
 * const env = makeEnv('paper-apartment');             // an id, a path to a scenario .json, or a parsed scenario
 * let { observation, info } = env.reset({ seed: 1 });
 * ```
 *
 * | area | names | docs |
 * | --- | --- | --- |
 * | environment | makeEnv, HomeEnv, spaces, wrappers, VectorHomeEnv, checkEnv, scenarios, days | docs/environment.md |
 * | baselines | asapPolicy, cheapestPolicy, prechargePolicy, mpcPolicy, milpPolicy, solveDay, boundDay | docs/milp.md, docs/mpc.md |
 * | agents | train, evaluate, loadTrainedPolicy, the two configs | docs/agents.md |
 * | gateway | exportPolicy, replayDay, the runtime's controller | docs/gateway.md |
 * | RESCoin | Ledger, keys, payouts | docs/ledger.md |
 * | neighbourhood | clearSlot (P2P markets), makeCommunityEnv, scoreCommunityDay, communityPolicies, checkParallelEnv, CommunityVectorEnv | docs/community.md |
 */

// The environment (Gymnasium conventions).
export { makeEnv, HomeEnv, observationLayout, type Env, type EnvOptions, type ResetOptions, type StepInfo, type StepResult, type DayLog, type DaySummary, type Feature } from './env/home.js';
export { Box, Discrete, Dict, MultiDiscrete, type Space } from './env/spaces.js';
export { FlattenAction, RecordEpisodeStatistics, flatCodec, type EpisodeStatistics } from './env/wrappers.js';
export { PeakShaping, PeakShapingVector } from './env/shaping.js';
export { VectorHomeEnv, type VectorEnv, type VectorDaySummary } from './env/vector.js';
export { checkEnv, type CheckReport } from './env/check.js';
export { playDay, type Policy, type PlayedDay } from './env/policy.js';
export { loadScenario, listScenarios, parseScenario, ScenarioError, type Scenario, type ScenarioInput } from './env/scenario.js';
export { drawDay, type Day, type EvDay, type Request } from './env/day.js';
export { scoreDay, type ScoreParts } from './env/score.js';
export type { HomeView, EvView } from './env/core.js';
export { Rng, daySeed } from './env/rng.js';
export { HELD_OUT_SEED, heldOutDay, trainingDay, validationDay } from './env/days.js';
export { SLOTS, DT, slotTime } from './env/time.js';

// Baselines.
export { asapPolicy } from './baseline/asap.js';
export { cheapestPolicy } from './baseline/cheapest.js';
export { prechargePolicy, PRECHARGE_DEFAULTS, type PrechargeParams } from './baseline/precharge.js';
export { milpPolicy, solveDay, type MilpResult } from './baseline/index.js';
export { mpcPolicy, type MpcOptions, type MpcPolicy } from './baseline/mpc.js';
export { boundDay, type BoundOptions, type BoundResult } from './baseline/bound.js';

// Agents: train, evaluate and load.
export { train, loadTrainedPolicy, type TrainOptions, type TrainResult, type TrainCallback, validationCallback } from './training/train.js';
export { evaluate, type EvaluateOptions, type EvaluateResult } from './evaluation/evaluate.js';
export { readReport, type EvaluationReport } from './evaluation/report.js';
export { gapPct } from './evaluation/stats.js';
export { dqnConfig, qlearningConfig, type DqnConfig, type QLearningConfig } from './agents/config.js';
export type { Algorithm } from './agents/agent.js';

// Gateway export.
export { exportPolicy, type ExportOptions, type ExportResult } from './export/export.js';
export { replayDay } from './export/gateway.js';
export { ActionCodec, HomeController, loadController, loadPolicy, type HomeReadings, type LoadedPolicy, type PolicyManifest } from './runtime/index.js';

// RESCoin.
export { Ledger, verifyLedger, type LedgerOptions } from './ledger/store.js';
export { generateKeyPair, saveKeyPair, loadPrivateKey } from './ledger/keys.js';
export { LedgerError } from './ledger/errors.js';
export { toMicroRsc } from './ledger/amount.js';
export { dayPayout, mintPayouts, type PayoutsFile } from './ledger/payouts.js';

// The neighbourhood.
export { clearSlot, newClearing, MECHANISMS, type Clearing, type Mechanism } from './community/market.js';
export { makeCommunityEnv, CommunityEnv, type CommunityEnvOptions, type CommunityInfo, type CommunityStepResult } from './community/env.js';
export { flexShareCaps, planCaps, type CapPolicy } from './community/caps.js';
export { CommunityCore, COMMUNITY_FEATURES } from './community/core.js';
export { scoreCommunityDay, type CommunityDaySummary, type CommunityHomeSummary, type CommunityDayLog } from './community/score.js';
export { communityPolicies, playCommunityDay, type CommunityRule } from './community/play.js';
export { checkParallelEnv, type CheckableEnv } from './community/check.js';
export { CommunityVectorEnv, type CommunityRowSummary } from './community/vector.js';
