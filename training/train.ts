import { flatCodec, SLOTS, type Scenario } from '../env/index.js';
import type { Algorithm } from '../agents/agent.js';
import { createAgent, loadAgent } from './agents.js';
import type { TrainCallback, TrainContext } from './callbacks.js';
import { writeLearningCurve } from './curve.js';
import { flatMasks, logRound, newRunConfig, numEnvs, resolveConfig, roundPlan, trainingEnv, unflattenAll } from './loop.js';
import { progressCallback } from './progress.js';
import { RunDir, RunDirError, scenarioHash, type LoopState, type RunConfig } from './run-dir.js';
import { validationCallback, type Validation } from './validation.js';
import { LabelCache, playsTeacher, teacherBeta, teaches } from './teacher.js';
import { TeacherPool } from './teacher-pool.js';

/**
 * `rescoin train`: one run = one folder (run-dir.ts). Training episode e plays the day
 * trainingDay(seed, e) (env/days.ts); a resumed run continues from its last checkpoint, dropping the
 * metrics rows written after it, so no episode is lost or counted twice.
 */

export { createAgent, loadAgent, loadTrainedPolicy } from './agents.js';
export { writeLearningCurve } from './curve.js';
export { readRunConfig, RunDir, RunDirError, RUN_FORMAT, scenarioHash, type LoopState, type RunConfig, type RunDirProblem } from './run-dir.js';
export { validate, validationCallback, type Validation, type ValidationCallback } from './validation.js';
export type { RoundLog, TrainCallback, TrainContext } from './callbacks.js';

export interface TrainOptions {
  scenario: Scenario;
  algorithm: Algorithm;
  episodes: number;
  seed: number;
  out: string;
  resume: boolean;
  /** Replace a run already in `out` (instead of refusing). */
  overwrite?: boolean;
  /** Field overrides of the algorithm's config. */
  overrides?: Record<string, unknown>;
  checkpointMinutes?: number;
  /** Show a progress bar (on stderr). */
  progress?: boolean;
  /** Stop after this many episodes of this call (to test resume); the run stays resumable. */
  stopAfter?: number;
  /** More hooks into the loop (callbacks.ts), run after validation and the progress bar. */
  callbacks?: TrainCallback[];
}

export interface TrainResult {
  dir: string;
  /** With validation: the policy model/ holds (the best validated), else null (the final agent). */
  selected: Validation | null;
  episodes: number;
  seconds: number;
  steps: number;
  updates: number;
  /** With a teacher: days its labels were computed for in this call, and days read from the run folder's cache. */
  teacherDays: number;
  cachedTeacherDays: number;
}

/** The run folder and config of a new run, or of the run to resume with its last checkpoint's loop state (null: none yet). */
function openRun(o: TrainOptions): { runDir: RunDir; run: RunConfig; resumed: LoopState | null } {
  if (!o.resume) {
    const run = newRunConfig(o, resolveConfig(o.algorithm, o.overrides));
    return { runDir: RunDir.create(o.out, run, { overwrite: o.overwrite }), run, resumed: null };
  }
  const runDir = RunDir.open(o.out);
  const run = runDir.readConfig();
  if (run.scenarioHash !== scenarioHash(o.scenario))
    throw new RunDirError('scenario', o.out, `resume: ${o.out} was trained on another version of scenario ${run.scenario} (hash ${run.scenarioHash}, this one is ${scenarioHash(o.scenario)})`);
  if (o.episodes > run.episodes) {
    run.episodes = o.episodes;
    runDir.writeConfig(run);
  }
  return { runDir, run, resumed: runDir.readLoop() };
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  // Set-up: the run folder, the agent (fresh or from the checkpoint), the homes and their buffers.
  const { runDir, run, resumed } = openRun(o);
  const agent = resumed ? await loadAgent(run.algorithm, runDir.checkpoint, o.scenario) : await createAgent(run, o.scenario, run.episodes * SLOTS);
  const start = resumed ?? { episodesDone: 0, elapsedSec: 0 };
  runDir.startMetrics(start.episodesDone);
  const n = numEnvs(run);
  const { rounds, startRound, stopRound } = roundPlan(run.episodes, n, start.episodesDone, o.stopAfter);
  const env = trainingEnv(o.scenario, n, run.config);
  const codec = flatCodec(o.scenario);
  const A = codec.n;
  const d = env.obsSize;
  const masks = new Uint8Array(n * A);
  const noActions = new Uint8Array(A);
  const prevObs = new Float32Array(n * d);
  const actionsMD = new Int32Array(n * env.nComponents);
  const scratch = new Int32Array(env.nComponents);
  const losses: number[][] = Array.from({ length: n }, () => []);
  const tc = run.config;
  const teacher = tc.teacher !== 'none' ? new TeacherPool(o.scenario, n, tc.teacherMipGap, tc.teacherThreads) : null;
  const slotLabels = new Int32Array(n);
  const labelCache = new LabelCache(o.out);
  let teacherDays = 0;
  let cachedTeacherDays = 0;

  const { validateEvery, validationDays } = run.config;
  const validation = validateEvery > 0 ? validationCallback({ every: validateEvery, days: validationDays }) : null;
  const callbacks = [validation, o.progress ? progressCallback() : null, ...(o.callbacks ?? [])].filter((c): c is TrainCallback => c !== null);
  const ctx: TrainContext = { agent, scenario: o.scenario, run, runDir, totalEpisodes: rounds * n };
  for (const c of callbacks) await c.onStart?.(ctx, start.episodesDone);

  const t0 = performance.now();
  const elapsed = () => start.elapsedSec + (performance.now() - t0) / 1000;
  const checkpoint = async (episodesDone: number, final: boolean) => {
    for (const c of callbacks) await c.onCheckpoint?.(ctx, episodesDone, final);
    await runDir.writeCheckpoint({ episodesDone, elapsedSec: elapsed() }, (dir) => agent.save(dir));
  };
  let lastCheckpoint = t0;

  for (let round = startRound; round < stopRound; round++) {
    env.reset(run.seed, round);
    flatMasks(codec, env, masks);
    // With a teacher: this round's labels, from the cache when a run before a resume computed them.
    const teaching = teacher !== null && teaches(tc, round * n);
    const cached = teaching ? labelCache.read(round, n) : null;
    const labels = teaching ? (cached ?? new Int32Array(n * SLOTS)) : null;
    if (teaching && !cached) await teacher.startDay(run.seed, round);
    if (teaching && cached) cachedTeacherDays += n;
    else if (teaching) teacherDays += n;
    const beta = teaching ? teacherBeta(tc, round * n, rounds * n) : 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      // Act: ε-greedy within each home's flat mask, one batch for all homes (greedy under a teacher).
      const actions = agent.actBatch(env.observations, masks, n, !teaching);
      if (teaching && labels) {
        // Label every home's state; a home plays the label with probability β (DAgger).
        if (!cached) await teacher.labels(env, codec, slotLabels);
        for (let i = 0; i < n; i++) {
          if (!cached) labels[i * SLOTS + slot] = slotLabels[i];
          const label = labels[i * SLOTS + slot];
          agent.learnDemo?.(env.observations.subarray(i * d, (i + 1) * d), masks.subarray(i * A, (i + 1) * A), label);
          if (playsTeacher(run.seed, round * n + i, slot, beta)) actions[i] = label;
        }
      }
      prevObs.set(env.observations);
      // Step: every home plays its action (the days end together, at the last slot).
      env.step(unflattenAll(codec, actions, actionsMD, scratch));
      if (teaching && !cached) teacher.played(actionsMD, env.nComponents);
      // Store and learn: one transition per home (shaped rewards when the env is wrapped).
      for (let i = 0; i < n; i++) {
        const done = env.terminated[i] === 1;
        const mask = masks.subarray(i * A, (i + 1) * A);
        if (!done) codec.flatMask(env.view(i), mask);
        const loss = agent.learn({
          obs: prevObs.subarray(i * d, (i + 1) * d),
          action: actions[i],
          reward: env.rewards[i],
          nextObs: env.observations.subarray(i * d, (i + 1) * d),
          nextMask: done ? noActions : mask,
          done,
          stream: i,
        });
        if (loss !== null) losses[i].push(loss);
      }
    }
    agent.endEpisode();
    if (teaching && labels && !cached) labelCache.write(round, labels);

    // Log: one metrics row per episode of the round (the unshaped day).
    const log = logRound(runDir, run, agent, env, round, losses, elapsed());
    // Callbacks, before the checkpoint: a checkpoint never runs ahead of a validation due before it.
    for (const c of callbacks) await c.onEpisodeEnd?.(ctx, log);

    // Checkpoint every few minutes (the end of this call writes one anyway).
    if (performance.now() - lastCheckpoint > (o.checkpointMinutes ?? 2) * 60_000 && round + 1 < stopRound) {
      await checkpoint(log.episodesDone, false);
      lastCheckpoint = performance.now();
    }
  }

  await teacher?.close();
  // The end: the last checkpoint, then a finished run's model/ and learning curve.
  const episodesDone = stopRound * n;
  const finished = stopRound === rounds;
  await checkpoint(episodesDone, finished);
  let modelWritten = false;
  for (const c of callbacks) modelWritten = (await c.onEnd?.(ctx, episodesDone, finished)) === true || modelWritten;
  if (finished) {
    if (!modelWritten) await runDir.writeModel((dir) => agent.save(dir, { policyOnly: true }));
    await writeLearningCurve(o.out);
  }
  const result = { dir: o.out, episodes: episodesDone, seconds: (performance.now() - t0) / 1000, steps: agent.steps, updates: agent.updates, teacherDays, cachedTeacherDays, selected: finished ? (validation?.best ?? null) : null };
  agent.dispose();
  return result;
}
