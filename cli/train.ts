import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, println } from './command.js';
import { readOverrides, scenarioFrom, scenarioOption } from './common.js';
import { UsageError } from './errors.js';

/** The run folder when --out is not given. */
export const defaultRunDir = (agent: string, seed: number): string => join('runs', `${agent}-seed${seed}`);

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train an agent (tabular Q-learning or DQN) on training days of a scenario; writes a run folder',
  options: {
    scenario: scenarioOption,
    agent: { type: 'choice', choices: ['qlearning', 'dqn'], default: 'dqn', description: 'Learning algorithm: tabular Q-learning (qlearning) or a deep Q-network (dqn)' },
    // 1,024 days: the best measured default (the README's figures); 400 gave a 71.7 % gap.
    episodes: { type: 'number', default: 1024, integer: true, min: 1, description: 'Training days (DQN rounds them up to a multiple of its numEnvs homes)' },
    seed: { type: 'number', default: 1, integer: true, min: 0, description: 'Run seed K: episode e plays day daySeed(K, e); evaluation uses other seeds' },
    out: {
      type: 'string',
      description:
        'Run folder (default runs/<agent>-seed<seed>): config.json, metrics.csv, checkpoint/, validation.csv and best/ (DQN: the greedy policy validated every 64 episodes), model/ (the best validated policy, else the last), learning-curve.svg/.png',
    },
    resume: { type: 'boolean', default: false, description: 'Continue the run in --out from its last checkpoint (a larger --episodes extends it)' },
    overwrite: { type: 'boolean', default: false, description: 'Replace a run already in --out' },
    teacher: {
      type: 'choice',
      choices: ['none', 'mpc'],
      description: "Learn from a teacher's labels (DAgger; agents/config.ts's teacher fields): mpc, the model-predictive controller, which sees what the agent sees; none, plain RL. Default: the config's (agents/config.ts)",
    },
    config: { type: 'string', description: 'JSON file of hyper-parameters overriding the defaults (agents/config.ts), e.g. {"learningRate": 0.001, "validateEvery": 0}' },
    'checkpoint-minutes': { type: 'number', default: 2, positive: true, description: 'Minutes between checkpoints (one is also written at the end)' },
    progress: { type: 'boolean', default: true, description: 'Progress bar on stderr (--no-progress to hide it)' },
  },
  check(a) {
    if (a.resume && a.overwrite) throw new UsageError(['--resume', '--overwrite'], 'expected at most one of them');
  },
  async run(a, io) {
    const out = a.out ?? defaultRunDir(a.agent, a.seed);
    const held = existsSync(join(out, 'config.json'));
    if (!a.resume && !a.overwrite && held) throw new UsageError('--out', `${out} already holds a run: add --resume to continue it, --overwrite to replace it, or choose another --out`);
    if (a.resume && !held) throw new UsageError('--resume', `${out} holds no run to resume (no config.json)`);
    const scenario = scenarioFrom(a.scenario);
    const overrides = a.config === undefined ? {} : readOverrides(a.config);
    if (a.teacher !== undefined) {
      overrides.teacher = a.teacher;
    }
    const { train } = await import('../training/train.js');
    const r = await train({ scenario, algorithm: a.agent, episodes: a.episodes, seed: a.seed, out, resume: a.resume, overwrite: a.overwrite, overrides, checkpointMinutes: a['checkpoint-minutes'], progress: a.progress });
    println(io.stdout, `trained ${a.agent} for ${r.episodes} episodes (${r.steps.toLocaleString('en-US')} steps, ${r.updates.toLocaleString('en-US')} updates) in ${r.seconds.toFixed(1)} s: ${r.dir}`);
    if (r.selected)
      println(io.stdout, `model/ holds the policy after episode ${r.selected.episode}, the best on ${r.selected.dayCount} validation days (mean J ${r.selected.meanScore.toFixed(4)} €; see validation.csv)`);
  },
});
