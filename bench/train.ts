import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { drawDay, HELD_OUT_SEED, heldOutDay, loadScenario, makeEnv, type Day, type Policy } from '../env/index.js';
import type { Algorithm } from '../agents/agent.js';
import { gapPct } from '../evaluation/stats.js';
import { initBackend } from '../models/backend.js';
import type { DqnConfig } from '../agents/config.js';
import { loadTrainedPolicy, readRunConfig, train } from '../training/train.js';
import { resolveConfig } from '../training/loop.js';
import { trainCommand } from '../cli/train.js';
import { writeResults } from './common.js';
import { curveCallback, firstReached, type CurvePoint } from './train-curve.js';
import { playAll, references, type References } from './train-refs.js';

/**
 * `npm run bench:train`: runs trained with `rescoin train`'s defaults (its --agent and --episodes
 * defaults, read from cli/train.ts, and the agent's default config), one per training seed. For
 * each: the learning curve (the greedy policy's gap to J* on the held-out days against training
 * wall time, evaluations taken off the clock), the time it first reached the tuned rule's gap, the
 * better MPC's gap and 20 %, the final gap and violations of the run's model/ (what `rescoin
 * evaluate` plays), env steps/s and updates/s; then the mean and sd of the final gap over the seeds.
 *
 * BENCH_TRAIN_SEEDS ("1,2,3"), BENCH_TRAIN_AGENT (dqn|qlearning), BENCH_TRAIN_EPISODES,
 * BENCH_TRAIN_EVERY (64; a multiple of the agent's homes per round), BENCH_TRAIN_DAYS (30),
 * BENCH_TRAIN_MPC_SCENARIOS=1 (also play the slow scenarios MPC), BENCH_TRAIN_TIME_LIMIT (s per
 * J* solve, 60), BENCH_TRAIN_SCENARIO (paper-apartment), BENCH_TRAIN_OUT (where the run folders
 * go, replaced if present; default a temp dir).
 *
 * The old separate backend speed run (96 episodes per backend) is gone: only WASM is installed
 * here, each seed reports the same figures on the backend in use, and with a teacher in the
 * defaults those 96 episodes would take minutes.
 */

const env = process.env;

function intEnv(name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const x = Number(raw);
  if (!Number.isInteger(x) || x < min) throw new Error(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return x;
}

/** `rescoin train`'s default for a flag, read from its definition so that the bench follows it. */
function cliDefault(flag: 'agent' | 'episodes'): string | number {
  const o = trainCommand.options[flag];
  if (!o || !('default' in o) || (typeof o.default !== 'string' && typeof o.default !== 'number')) throw new Error(`cli/train.ts: --${flag} has no default`);
  return o.default;
}

function agentFrom(): Algorithm {
  const a = env.BENCH_TRAIN_AGENT ?? String(cliDefault('agent'));
  if (a !== 'dqn' && a !== 'qlearning') throw new Error(`BENCH_TRAIN_AGENT: expected dqn or qlearning, got ${JSON.stringify(a)}`);
  return a;
}

function seedsFrom(): number[] {
  const raw = env.BENCH_TRAIN_SEEDS ?? '1,2,3';
  const seeds = raw.split(',').map((x) => Number(x.trim()));
  if (seeds.length === 0 || seeds.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`BENCH_TRAIN_SEEDS: expected comma-separated integers ≥ 0, got ${JSON.stringify(raw)}`);
  return seeds;
}

const s = loadScenario(env.BENCH_TRAIN_SCENARIO ?? 'paper-apartment');
const algorithm = agentFrom();
const episodes = intEnv('BENCH_TRAIN_EPISODES', Number(cliDefault('episodes')), 1);
const every = intEnv('BENCH_TRAIN_EVERY', 64, 1);
const DAYS = intEnv('BENCH_TRAIN_DAYS', 30, 1);
const timeLimitSec = intEnv('BENCH_TRAIN_TIME_LIMIT', 60, 1);
const playScenarios = env.BENCH_TRAIN_MPC_SCENARIOS === '1';
const seeds = seedsFrom();
// Checked before the references are solved (the curve callback checks it again on the run's config).
const homes = algorithm === 'dqn' ? (resolveConfig('dqn') as DqnConfig).numEnvs : 1;
if (every % homes !== 0) throw new Error(`BENCH_TRAIN_EVERY: expected a multiple of ${algorithm}'s ${homes} homes per round (numEnvs), got ${every}`);
const outRoot = env.BENCH_TRAIN_OUT ? resolve(env.BENCH_TRAIN_OUT) : mkdtempSync(join(tmpdir(), 'rescoin-bench-train-'));
mkdirSync(outRoot, { recursive: true });
const log = (line: string) => process.stderr.write(`${line}\n`);

const backend = await initBackend('auto');
const days: Day[] = Array.from({ length: DAYS }, (_, d) => drawDay(s, heldOutDay(d)));
log(`bench:train: ${algorithm}, ${episodes} episodes, seeds ${seeds.join(', ')}, curve every ${every} episodes on ${DAYS} held-out days, backend ${backend}`);
const refs: References = await references(s, days, { timeLimitSec, scenarios: playScenarios, log });
const evaluate = async (p: Policy) => {
  const r = await playAll(makeEnv(s), p, days);
  return { gapPct: gapPct(r.j, refs.jStar, refs.jAsap), violations: r.violations };
};
const targets = { rule: refs.rule.gapPct, mpc: refs.betterMpc.gapPct, twenty: 20 };

async function runSeed(seed: number) {
  const dir = join(outRoot, `${algorithm}-seed${seed}`);
  const startedAt = performance.now();
  const curve = curveCallback({
    every,
    startedAt,
    evaluate,
    log: (p: CurvePoint) => log(`  seed ${seed}: ${p.episodes} episodes, ${p.trainSeconds.toFixed(1)} s training: gap ${p.gapPct.toFixed(1)} %, ${p.violations} violations`),
  });
  const r = await train({ scenario: s, algorithm, episodes, seed, out: dir, resume: false, overwrite: true, progress: false, callbacks: [curve] });
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const trainSeconds = wallSeconds - curve.evalSeconds;
  const { policy } = await loadTrainedPolicy(dir, s);
  const final = await evaluate(policy);
  const reached = (t: number) => firstReached(curve.points, t);
  return {
    seed,
    dir,
    episodes: r.episodes,
    trainSeconds,
    evalSeconds: curve.evalSeconds,
    wallSeconds,
    finalGapPct: final.gapPct,
    finalViolations: final.violations,
    beatsRule: final.gapPct < refs.rule.gapPct,
    modelFrom: r.selected ? { episode: r.selected.episode, validationMeanJ: r.selected.meanScore } : 'final agent',
    reached: { rule: reached(targets.rule), mpc: reached(targets.mpc), twentyPct: reached(targets.twenty) },
    steps: r.steps,
    updates: r.updates,
    envStepsPerSec: r.steps / trainSeconds,
    updatesPerSec: r.updates / trainSeconds,
    teacherDays: r.teacherDays,
    curve: curve.points,
  };
}

const runs = [];
for (const seed of seeds) runs.push(await runSeed(seed));
const runConfig = readRunConfig(runs[0].dir);

const finals = runs.map((r) => r.finalGapPct);
const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
// Sample sd (n − 1): the seeds are a sample of the training runs one could get.
const sd = finals.length > 1 ? Math.sqrt(finals.reduce((a, x) => a + (x - mean) ** 2, 0) / (finals.length - 1)) : null;
const summary = {
  finalGapMeanPct: mean,
  finalGapSdPct: sd,
  everySeedBeatsRule: runs.every((r) => r.beatsRule),
  finalViolations: runs.reduce((a, r) => a + r.finalViolations, 0),
  atOrBelowBetterMpc: mean <= refs.betterMpc.gapPct,
};

const path = writeResults(algorithm === 'dqn' ? 'train' : `train-${algorithm}`, {
  scenario: s.id,
  heldOutDays: `daySeed(${HELD_OUT_SEED}, d), d = 0…${DAYS - 1}`,
  backend,
  algorithm,
  episodes,
  episodesFrom: env.BENCH_TRAIN_EPISODES ? 'BENCH_TRAIN_EPISODES' : 'rescoin train --episodes default (cli/train.ts)',
  curveEvery: every,
  runConfig: runConfig.config,
  outRoot,
  references: {
    ...refs,
    jStarTimeLimitSec: timeLimitSec,
    mpcScenarios: refs.mpcScenarios ?? 'not played (BENCH_TRAIN_MPC_SCENARIOS=1 plays it, ~30 s a day): the better MPC is the expected mode',
  },
  targets: { rulePct: targets.rule, betterMpcPct: targets.mpc, betterMpc: refs.betterMpc.policy, fixedPct: targets.twenty },
  speedMeasurement: 'per seed (envStepsPerSec, updatesPerSec over training wall time); the separate 96-episode run per backend was dropped',
  seeds: runs,
  summary,
});

// The table.
const f1 = (x: number) => x.toFixed(1);
const at = (x: { trainSeconds: number; episodes: number } | null) => (x ? `${f1(x.trainSeconds)} s (${x.episodes})` : 'never');
const header = ['seed', 'episodes', 'train s', 'eval s', 'final gap %', 'viol.', 'beats rule', `rule ${f1(targets.rule)} % at`, `${refs.betterMpc.policy} ${f1(targets.mpc)} % at`, '20 % at', 'steps/s', 'updates/s', 'teacher days'];
const rows = runs.map((r) => [
  String(r.seed),
  String(r.episodes),
  f1(r.trainSeconds),
  f1(r.evalSeconds),
  f1(r.finalGapPct),
  String(r.finalViolations),
  r.beatsRule ? 'yes' : 'no',
  at(r.reached.rule),
  at(r.reached.mpc),
  at(r.reached.twentyPct),
  Math.round(r.envStepsPerSec).toLocaleString('en-US'),
  Math.round(r.updatesPerSec).toLocaleString('en-US'),
  String(r.teacherDays),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`${algorithm}, rescoin train defaults, ${episodes} episodes; gap to J* on ${DAYS} held-out days (backend ${backend})`);
console.log(
  `references: rule (precharge) ${f1(refs.rule.gapPct)} %, mpc ${f1(refs.mpcExpected.gapPct)} %, mpc-scenarios ${refs.mpcScenarios ? `${f1(refs.mpcScenarios.gapPct)} %` : 'not played (BENCH_TRAIN_MPC_SCENARIOS=1)'}; ${refs.unprovenDays.length} J* not proven optimal in ${timeLimitSec} s`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
console.log(
  `final gap over ${runs.length} seed(s): mean ${f1(mean)} %${sd === null ? '' : `, sd ${f1(sd)}`}; every seed beats the rule: ${summary.everySeedBeatsRule ? 'yes' : 'no'}; ${summary.finalViolations} violations; mean at or below the better MPC: ${summary.atOrBelowBetterMpc ? 'yes' : 'no'}`,
);
console.log(`run folders: ${outRoot}`);
console.log(`wrote ${path}`);
