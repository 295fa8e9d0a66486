import { loadScenario, makeEnv, noManagementAction, VectorHomeEnv, HomeCore, drawDay, daySeed } from '../env/index.js';
import { median, writeResults } from './common.js';

/**
 * Environment speed, single thread:
 * - one env: steps/s of HomeEnv.step (observation, mask copy, reward, day log included), days
 *   drawn by reset() included, the action from the no-management rule;
 * - vector env: home-steps/s of VectorHomeEnv with 64 homes (same-step autoreset included);
 * - where the time goes: drawing a day (habits, EV floors, the no-management reference day), and the
 *   bare core step without observation or log.
 * Each figure is the median of 5 runs of about a second.
 */

const scenarioId = process.argv[2] ?? 'paper-apartment';
const s = loadScenario(scenarioId);
const RUNS = 5;

function timeIt(fn: () => number): number {
  // Warm up the JIT, then report the median rate (units per second).
  fn();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const units = fn();
    rates.push(units / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

function singleEnv(days: number): number {
  const env = makeEnv(s);
  const action = new Int32Array(env.nComponents);
  let steps = 0;
  for (let d = 0; d < days; d++) {
    let { info } = env.reset({ seed: daySeed(7, d) });
    for (;;) {
      const r = env.step(noManagementAction(info.home, action));
      steps++;
      info = r.info;
      if (r.terminated) break;
    }
  }
  return steps;
}

function vectorEnv(n: number, calls: number): number {
  const venv = new VectorHomeEnv(s, n);
  venv.reset(7);
  const actions = new Int32Array(n * venv.nComponents);
  for (let c = 0; c < calls; c++) {
    for (let i = 0; i < n; i++) noManagementAction(venv.homes[i], actions.subarray(i * venv.nComponents, (i + 1) * venv.nComponents));
    venv.step(actions);
  }
  return n * calls;
}

function dayDraws(days: number): number {
  for (let d = 0; d < days; d++) drawDay(s, daySeed(9, d));
  return days;
}

function coreSteps(days: number): number {
  const core = new HomeCore(s);
  const action = new Int32Array(core.nComponents);
  const day = drawDay(s, 1);
  for (let d = 0; d < days; d++) {
    core.begin(day);
    while (!core.done) core.step(noManagementAction(core, action));
  }
  return days * 96;
}

const single = timeIt(() => singleEnv(3000));
const vector = timeIt(() => vectorEnv(64, 4000));
const draws = timeIt(() => dayDraws(3000));
const core = timeIt(() => coreSteps(5000));

const results = {
  scenario: scenarioId,
  singleEnvStepsPerSec: Math.round(single),
  vectorEnv64HomeStepsPerSec: Math.round(vector),
  dayDrawsPerSec: Math.round(draws),
  coreStepsPerSec: Math.round(core),
  notes: 'median of 5 runs, one thread; actions from the no-management rule (its cost included)',
};
const path = writeResults('env', results);
console.log(`env benchmark (${scenarioId}), one thread, median of ${RUNS} runs`);
console.log(`  single env:            ${results.singleEnvStepsPerSec.toLocaleString('en-US')} steps/s`);
console.log(`  vector env, 64 homes:  ${results.vectorEnv64HomeStepsPerSec.toLocaleString('en-US')} home-steps/s`);
console.log(`  day draws (reset):     ${results.dayDrawsPerSec.toLocaleString('en-US')} days/s`);
console.log(`  bare core step:        ${results.coreStepsPerSec.toLocaleString('en-US')} steps/s`);
console.log(`wrote ${path}`);
