import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { daySeed, flatCodec, validationDay, VALIDATION_DAY_OFFSET, makeEnv, observationLayout, peakPotential, playDay, shapingTerm, VectorHomeEnv, type Scenario } from '../env/index.js';
import { agentPolicy, type Agent, type Algorithm } from '../agents/agent.js';
import { dqnConfig, qlearningConfig, type DqnConfig, type QLearningConfig } from '../agents/config.js';

/**
 * `rescoin train`: one run = one folder.
 *   config.json     everything that defines the run (algorithm, scenario and its hash, seed, episodes, hyper-parameters)
 *   metrics.csv     one row per episode, appended as it ends (a crash loses nothing written)
 *   checkpoint/     the agent and the loop state, replaced atomically every few minutes and at the end
 *   model/          the policy, only what acting and export need (the online net or the table): with
 *                   validation, the one that validated best (best/), else the final agent
 *   validation.csv  with validation (`validateEvery` > 0): the greedy policy's mean score on the
 *                   validation days every `validateEvery` episodes and at the end
 *   best/           the best validated policy so far and its figures (best/validation.json)
 *   learning-curve.svg / .png
 * Training day e is daySeed(seed, e); `--resume` continues from the last checkpoint, dropping the
 * metrics rows written after it, so no episode is lost or counted twice.
 */

export const RUN_FORMAT = 1;

export interface RunConfig {
  format: number;
  algorithm: Algorithm;
  scenario: string;
  scenarioHash: string;
  seed: number;
  episodes: number;
  config: QLearningConfig | DqnConfig;
  /** How training days are drawn. */
  days: string;
  createdAt: string;
}

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
}

export interface TrainResult {
  dir: string;
  /** With validation: the policy model/ holds (the best validated), else null (the final agent). */
  selected: Validation | null;
  episodes: number;
  seconds: number;
  steps: number;
  updates: number;
}

const METRIC_COLUMNS = ['episode', 'day_seed', 'return', 'score', 'cost', 'peak_kw', 'par', 'rescoin', 'violations', 'epsilon', 'loss', 'steps', 'updates', 'elapsed_s'] as const;

/** A short hash of the scenario's content: a run is only resumed or evaluated on the same home. */
export function scenarioHash(s: Scenario): string {
  const { priceKwh: _p, fixedKw: _f, pvDays: _d, pvDayTypes: _t, applianceMaxKw: _m, ...spec } = s;
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export async function createAgent(run: RunConfig, scenario: Scenario, totalSteps: number): Promise<Agent> {
  const nActions = flatCodec(scenario).n;
  if (run.algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    return new QLearningAgent({ layout: observationLayout(scenario), nActions, config: run.config as QLearningConfig, seed: run.seed, totalEpisodes: run.episodes });
  }
  const { initBackend } = await import('../models/backend.js');
  await initBackend('auto');
  const { DqnAgent } = await import('../agents/dqn.js');
  return new DqnAgent({ obsSize: observationLayout(scenario).length, nActions, config: run.config as DqnConfig, seed: run.seed, totalSteps });
}

/**
 * Loads a saved agent (with `policyOnly`, only what acting needs, as a run's model/ holds); with
 * `scenario`, refuses one whose observation does not match what the
 * environment shows now (an agent saved before a feature was added would read every later feature
 * from the wrong place, silently).
 */
export async function loadAgent(algorithm: Algorithm, dir: string, scenario?: Scenario, opts: { policyOnly?: boolean } = {}): Promise<Agent> {
  let agent: Agent;
  let seen: string;
  if (algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    const q = await QLearningAgent.load(dir);
    [agent, seen] = [q, q.layout.map((f) => f.name).join(', ')];
  } else {
    const { initBackend } = await import('../models/backend.js');
    await initBackend('auto');
    const { DqnAgent } = await import('../agents/dqn.js');
    const d = opts.policyOnly ? await DqnAgent.loadPolicyOnly(dir) : await DqnAgent.load(dir);
    [agent, seen] = [d, `${d.obsSize} features`];
  }
  if (scenario) {
    const layout = observationLayout(scenario);
    const now = algorithm === 'qlearning' ? layout.map((f) => f.name).join(', ') : `${layout.length} features`;
    if (seen !== now) {
      agent.dispose();
      throw new Error(`${dir}: the agent was trained on observations of [${seen}], but the environment now gives [${now}]: retrain it with this version`);
    }
  }
  return agent;
}

export function readRunConfig(dir: string): RunConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${dir} is not a run folder: no config.json (train one with \`rescoin train --out ${dir}\`)`);
  const run = JSON.parse(readFileSync(path, 'utf8')) as RunConfig;
  if (run.format !== RUN_FORMAT) throw new Error(`${path}: run format ${run.format}, this rescoin reads format ${RUN_FORMAT}`);
  return run;
}

function numEnvs(run: RunConfig): number {
  return run.algorithm === 'dqn' ? (run.config as DqnConfig).numEnvs : 1;
}

/** Truncate a per-episode CSV to the rows before episode `done` (the rows after the last checkpoint are redone). */
function trimMetrics(path: string, done: number, columns: readonly string[] = METRIC_COLUMNS): void {
  if (!existsSync(path)) {
    writeFileSync(path, `${columns.join(',')}\n`);
    return;
  }
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const kept = [lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) < done)];
  writeFileSync(path, `${kept.join('\n')}\n`);
}

interface LoopState {
  episodesDone: number;
  elapsedSec: number;
}


const VALIDATION_COLUMNS = ['episode', 'mean_score', 'mean_peak_kw', 'violations', 'best'] as const;

export interface Validation {
  /** Episodes trained when the policy was validated. */
  episode: number;
  meanScore: number;
  meanPeakKw: number;
  violations: number;
  /** How many validation days, and which. */
  dayCount: number;
  days: string;
}

/** The greedy policy's mean score J on the run's validation days. */
export async function validate(agent: Agent, scenario: Scenario, seed: number, days: number, episode: number): Promise<Validation> {
  const env = makeEnv(scenario);
  const policy = agentPolicy('validation', agent, scenario);
  let score = 0;
  let peak = 0;
  let violations = 0;
  for (let k = 0; k < days; k++) {
    const { summary } = await playDay(env, policy, validationDay(seed, k));
    score += summary.score;
    peak += summary.peakKw;
    violations += summary.violations;
  }
  return { episode, meanScore: score / days, meanPeakKw: peak / days, violations, dayCount: days, days: `daySeed(${seed}, ${VALIDATION_DAY_OFFSET} + k), k = 0…${days - 1}` };
}

/** best/'s figures, or null when there is none (or it is ahead of the checkpoint: it will be redone). */
function readBest(dir: string, episodesDone: number): Validation | null {
  const path = join(dir, 'best', 'validation.json');
  if (!existsSync(path)) return null;
  const v = JSON.parse(readFileSync(path, 'utf8')) as Validation;
  return v.episode <= episodesDone ? v : null;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const dir = o.out;
  const configPath = join(dir, 'config.json');
  const ckpt = join(dir, 'checkpoint');
  let run: RunConfig;
  let agent: Agent;
  let state: LoopState = { episodesDone: 0, elapsedSec: 0 };
  if (o.resume) {
    run = readRunConfig(dir);
    if (run.scenarioHash !== scenarioHash(o.scenario)) throw new Error(`--resume: ${dir} was trained on another version of scenario ${run.scenario} (hash ${run.scenarioHash})`);
    if (o.episodes > run.episodes) {
      run.episodes = o.episodes;
      writeFileSync(configPath, `${JSON.stringify(run, null, 2)}\n`);
    }
    if (existsSync(join(ckpt, 'loop.json'))) {
      state = JSON.parse(readFileSync(join(ckpt, 'loop.json'), 'utf8')) as LoopState;
      agent = await loadAgent(run.algorithm, ckpt, o.scenario);
    } else agent = await createAgent(run, o.scenario, run.episodes * 96);
  } else {
    if (existsSync(configPath)) {
      if (!o.overwrite) throw new Error(`${dir} already holds a run: add --resume to continue it, --overwrite to replace it, or choose another --out`);
      rmSync(dir, { recursive: true, force: true });
    }
    const schema = o.algorithm === 'dqn' ? dqnConfig : qlearningConfig;
    const parsed = schema.safeParse(o.overrides ?? {});
    if (!parsed.success) throw new Error(`invalid ${o.algorithm} config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    run = {
      format: RUN_FORMAT,
      algorithm: o.algorithm,
      scenario: o.scenario.id,
      scenarioHash: scenarioHash(o.scenario),
      seed: o.seed,
      episodes: o.episodes,
      config: parsed.data,
      days: `episode e plays day daySeed(${o.seed}, e)`,
      createdAt: new Date().toISOString(),
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(configPath, `${JSON.stringify(run, null, 2)}\n`);
    agent = await createAgent(run, o.scenario, run.episodes * 96);
  }
  const metricsPath = join(dir, 'metrics.csv');
  trimMetrics(metricsPath, state.episodesDone);
  const { validateEvery, validationDays } = run.config;
  const validationPath = join(dir, 'validation.csv');
  let best: Validation | null = null;
  let lastValidated = -1;
  if (validateEvery > 0) {
    trimMetrics(validationPath, state.episodesDone + 1, VALIDATION_COLUMNS);
    best = readBest(dir, state.episodesDone);
    if (!best) rmSync(join(dir, 'best'), { recursive: true, force: true });
    lastValidated = Number(readFileSync(validationPath, 'utf8').trim().split('\n').slice(1).at(-1)?.split(',')[0] ?? -1);
  }
  /** Validates the greedy policy after `episodesDone` episodes; keeps it in best/ when it is the best yet. */
  const validateNow = async (episodesDone: number) => {
    const v = await validate(agent, o.scenario, run.seed, validationDays, episodesDone);
    lastValidated = episodesDone;
    const better = v.violations === 0 && (best === null || v.meanScore < best.meanScore);
    appendFileSync(validationPath, `${[v.episode, v.meanScore, v.meanPeakKw, v.violations, better ? 1 : 0].join(',')}\n`);
    if (!better) return;
    const tmp = join(dir, 'best.tmp');
    rmSync(tmp, { recursive: true, force: true });
    await agent.save(tmp, { policyOnly: true });
    writeFileSync(join(tmp, 'validation.json'), `${JSON.stringify(v, null, 2)}\n`);
    rmSync(join(dir, 'best'), { recursive: true, force: true });
    renameSync(tmp, join(dir, 'best'));
    best = v;
  };

  const n = numEnvs(run);
  // Episodes go in rounds of n homes (home i of round k plays episode k·n + i).
  const rounds = Math.ceil(run.episodes / n);
  const totalEpisodes = rounds * n;
  const venv = new VectorHomeEnv(o.scenario, n);
  const flat = flatCodec(o.scenario);
  const A = flat.n;
  const d = venv.obsSize;
  const masks = new Uint8Array(n * A);
  const prevObs = new Float32Array(n * d);
  const actionsMD = new Int32Array(n * venv.nComponents);
  const tmpMD = new Int32Array(venv.nComponents);
  const losses: number[][] = Array.from({ length: n }, () => []);
  const returns: number[] = [];
  const shaping = run.config.peakShaping;
  const phi = new Float64Array(n);

  const bar = o.progress
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} episodes | return {ret} | ε {eps} | loss {loss} | {sps} steps/s | ETA {eta_formatted}',
          hideCursor: true,
          noTTYOutput: true,
          notTTYSchedule: 10_000,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalEpisodes, state.episodesDone, { ret: '-', eps: agent.epsilon.toFixed(3), loss: '-', sps: '-' });

  const startRound = Math.floor(state.episodesDone / n);
  const stopRound = o.stopAfter !== undefined ? Math.min(rounds, startRound + Math.ceil(o.stopAfter / n)) : rounds;
  const t0 = performance.now();
  let lastCkpt = t0;
  let lastYield = t0;
  let steps = 0;
  const checkpoint = async (episodesDone: number) => {
    const tmp = `${ckpt}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await agent.save(tmp);
    const loop: LoopState = { episodesDone, elapsedSec: state.elapsedSec + (performance.now() - t0) / 1000 };
    writeFileSync(join(tmp, 'loop.json'), `${JSON.stringify(loop)}\n`);
    rmSync(`${ckpt}.old`, { recursive: true, force: true });
    if (existsSync(ckpt)) renameSync(ckpt, `${ckpt}.old`);
    renameSync(tmp, ckpt);
    rmSync(`${ckpt}.old`, { recursive: true, force: true });
  };

  for (let round = startRound; round < stopRound; round++) {
    venv.reset(run.seed, round);
    for (let i = 0; i < n; i++) flat.flatMask(venv.homes[i], masks.subarray(i * A, (i + 1) * A));
    for (let slot = 0; slot < 96; slot++) {
      const actions = agent.actBatch(venv.observations, masks, n, true);
      prevObs.set(venv.observations);
      for (let i = 0; i < n; i++) actionsMD.set(flat.unflatten(actions[i], tmpMD), i * venv.nComponents);
      if (shaping) for (let i = 0; i < n; i++) phi[i] = peakPotential(o.scenario, venv.homes[i]);
      venv.step(actionsMD);
      steps += n;
      for (let i = 0; i < n; i++) {
        const done = venv.terminated[i] === 1;
        const mask = masks.subarray(i * A, (i + 1) * A);
        if (!done) flat.flatMask(venv.homes[i], mask);
        const loss = agent.learn({
          obs: prevObs.subarray(i * d, (i + 1) * d),
          action: actions[i],
          reward: shaping ? venv.rewards[i] + shapingTerm(run.config.gamma, phi[i], done ? 0 : peakPotential(o.scenario, venv.homes[i]), done) : venv.rewards[i],
          nextObs: venv.observations.subarray(i * d, (i + 1) * d),
          nextMask: done ? new Uint8Array(A) : mask,
          done,
          stream: i,
        });
        if (loss !== null) losses[i].push(loss);
      }
    }
    // The round's n days ended together at slot 96.
    agent.endEpisode();
    let roundLoss = 0;
    let lossCount = 0;
    for (let i = 0; i < n; i++) {
      const episode = round * n + i;
      const s = venv.summaries[i]!;
      const meanLoss = losses[i].length ? losses[i].reduce((a, b) => a + b, 0) / losses[i].length : NaN;
      if (losses[i].length) {
        roundLoss += meanLoss;
        lossCount++;
      }
      losses[i] = [];
      returns.push(s.return);
      const elapsed = state.elapsedSec + (performance.now() - t0) / 1000;
      const row = [episode, s.seed, s.return, s.score, s.cost, s.peakKw, s.par, s.rescoin, s.violations, agent.epsilon, meanLoss, agent.steps, agent.updates, elapsed.toFixed(2)];
      appendFileSync(metricsPath, `${row.join(',')}\n`);
    }
    const done = (round + 1) * n;
    if (validateEvery > 0 && Math.floor(done / validateEvery) > Math.floor((done - n) / validateEvery) && round + 1 < rounds) await validateNow(done);
    const recent = returns.slice(-20);
    bar?.update(done, {
      ret: (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4),
      eps: agent.epsilon.toFixed(3),
      loss: lossCount ? (roundLoss / lossCount).toExponential(2) : '-',
      sps: Math.round(steps / ((performance.now() - t0) / 1000)).toLocaleString('en-US'),
    });
    // The loop is synchronous: yield now and then, or the progress bar's timer never fires.
    if (performance.now() - lastYield > 200) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    if (performance.now() - lastCkpt > (o.checkpointMinutes ?? 2) * 60_000 && round + 1 < stopRound) {
      await checkpoint(done);
      lastCkpt = performance.now();
    }
  }
  const episodesDone = stopRound * n;
  const finished = stopRound === rounds;
  if (finished && validateEvery > 0 && lastValidated !== episodesDone) await validateNow(episodesDone);
  await checkpoint(episodesDone);
  bar?.stop();
  if (finished) {
    rmSync(join(dir, 'model'), { recursive: true, force: true });
    if (best) cpSync(join(dir, 'best'), join(dir, 'model'), { recursive: true });
    else await agent.save(join(dir, 'model'), { policyOnly: true });
    await writeLearningCurve(dir);
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = { dir, episodes: episodesDone, seconds, steps: agent.steps, updates: agent.updates, selected: finished ? best : null };
  agent.dispose();
  return result;
}

/** Return per episode and its moving average, as SVG and PNG. */
export async function writeLearningCurve(dir: string): Promise<void> {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => l.split(',').map(Number));
  const window = Math.max(1, Math.round(rows.length / 20));
  const values = rows.flatMap((r, k) => {
    const from = Math.max(0, k - window + 1);
    const avg = rows.slice(from, k + 1).reduce((a, b) => a + b[3], 0) / (k + 1 - from);
    return [
      { episode: r[0], score: r[3], series: 'score J of the day' },
      { episode: r[0], score: avg, series: `mean of ${window}` },
    ];
  });
  const { vegaLiteToSvg, writePlot } = await import('./plot.js');
  const svg = await vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `learning curve: ${dir}`,
    width: 700,
    height: 320,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'episode', type: 'quantitative' },
      y: { field: 'score', type: 'quantitative', title: 'score J (€, lower is better)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      opacity: { condition: { test: "datum.series === 'score J of the day'", value: 0.35 }, value: 1 },
    },
  });
  await writePlot(svg, join(dir, 'learning-curve.svg'));
  await writePlot(svg, join(dir, 'learning-curve.png'));
}
