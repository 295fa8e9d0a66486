import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawDay, heldOutDay, trainingDay, loadScenario, makeEnv, playDay, FlattenAction, observationLayout, type Day } from '../env/index.js';
import { asapPolicy, solveDay } from '../baseline/index.js';
import { agentPolicy } from '../agents/agent.js';
import { dqnConfig } from '../agents/config.js';
import { DqnAgent } from '../agents/dqn.js';
import { gapPct as gapOf } from '../evaluation/stats.js';
import { initBackend } from '../models/backend.js';
import { train } from '../training/train.js';
import { writeResults } from './common.js';

/**
 * Training speed and learning speed on the paper's apartment, one thread:
 * - env steps/s and gradient updates/s during DQN training (`rescoin train` defaults), per backend
 *   this machine has (wasm always; tensorflow when @tensorflow/tfjs-node is installed);
 * - the time DQN needs to reach a 10 % gap on 10 held-out days, checked every 64 training days,
 *   within a budget of BENCH_TRAIN_MINUTES (default 8).
 */

const s = loadScenario('paper-apartment');
const budgetMin = Number(process.env.BENCH_TRAIN_MINUTES ?? 8);

async function speed(backend: 'wasm' | 'node') {
  const name = await initBackend(backend).catch(() => null);
  if (!name) return null;
  const dir = join(mkdtempSync(join(tmpdir(), 'rescoin-bench-')), 'run');
  const r = await train({ scenario: s, algorithm: 'dqn', episodes: 96, seed: 11, out: dir, resume: false, progress: false });
  return { backend: name, episodes: r.episodes, seconds: Math.round(r.seconds * 10) / 10, envStepsPerSec: Math.round(r.steps / r.seconds), updatesPerSec: Math.round(r.updates / r.seconds) };
}

async function timeToGap(target: number) {
  await initBackend('auto');
  const days: Day[] = Array.from({ length: 10 }, (_, d) => drawDay(s, heldOutDay(d)));
  const env = makeEnv(s);
  const jStar: number[] = [];
  const jAsap: number[] = [];
  for (const day of days) {
    jStar.push((await solveDay(s, day)).score);
    jAsap.push((await playDay(env, asapPolicy(), day)).summary.score);
  }
  const config = dqnConfig.parse({});
  const flat = new FlattenAction(makeEnv(s));
  const totalEpisodes = 4000;
  const agent = new DqnAgent({ obsSize: observationLayout(s).length, nActions: flat.actionSpace.n, config, seed: 1, totalSteps: totalEpisodes * 96 });
  const policy = agentPolicy('dqn', agent, s);
  const t0 = performance.now();
  const curve: { episodes: number; seconds: number; gapPct: number }[] = [];
  let episode = 0;
  const mask = new Uint8Array(flat.actionSpace.n);
  while ((performance.now() - t0) / 60_000 < budgetMin && episode < totalEpisodes) {
    for (let k = 0; k < 64; k++, episode++) {
      let { observation, info } = flat.reset({ seed: trainingDay(1, episode) });
      for (;;) {
        mask.set(info.actionMask);
        const a = agent.act(observation, mask, true);
        const r = flat.step(a);
        agent.learn({ obs: observation, action: a, reward: r.reward, nextObs: r.observation, nextMask: r.info.actionMask, done: r.terminated });
        observation = r.observation;
        info = r.info;
        if (r.terminated) break;
      }
      agent.endEpisode();
    }
    const scores: number[] = [];
    for (const day of days) scores.push((await playDay(env, policy, day)).summary.score);
    const gapPct = gapOf(scores, jStar, jAsap);
    curve.push({ episodes: episode, seconds: Math.round((performance.now() - t0) / 100) / 10, gapPct: Math.round(gapPct * 10) / 10 });
    process.stderr.write(`\r  ${episode} episodes, ${curve[curve.length - 1].seconds} s: gap ${gapPct.toFixed(1)} %   `);
    if (gapPct <= target) break;
  }
  process.stderr.write('\n');
  agent.dispose();
  const reached = curve.find((c) => c.gapPct <= target) ?? null;
  return { targetGapPct: target, budgetMinutes: budgetMin, reachedAfterSeconds: reached?.seconds ?? null, reachedAfterEpisodes: reached?.episodes ?? null, bestGapPct: Math.min(...curve.map((c) => c.gapPct)), curve };
}

const backends = [];
for (const b of ['wasm', 'node'] as const) {
  const r = await speed(b);
  if (r) backends.push(r);
  else console.log(`backend ${b}: not available on this machine`);
}
const gap = await timeToGap(10);
const path = writeResults('train', { scenario: s.id, backends, timeToGap: gap });
for (const b of backends) console.log(`DQN on ${b.backend}: ${b.envStepsPerSec.toLocaleString('en-US')} env steps/s, ${b.updatesPerSec.toLocaleString('en-US')} updates/s (${b.episodes} episodes in ${b.seconds} s)`);
console.log(gap.reachedAfterSeconds !== null ? `DQN reached a ${gap.targetGapPct} % gap after ${gap.reachedAfterSeconds} s (${gap.reachedAfterEpisodes} episodes)` : `DQN did not reach a ${gap.targetGapPct} % gap within ${budgetMin} min; best ${gap.bestGapPct} %`);
console.log(`wrote ${path}`);
