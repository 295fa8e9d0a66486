import { existsSync, readdirSync } from 'node:fs';
import { QUANTIZATIONS, exportPolicy } from '../export/export.js';
import { defineCommand, println } from './command.js';
import { UsageError } from './errors.js';

export const exportCommand = defineCommand({
  name: 'export',
  summary: "Export a run's policy to a self-contained gateway folder (no tfjs needed to act: policy.mjs)",
  options: {
    run: { type: 'string', required: true, description: 'Run folder (rescoin train --out): its config.json and model/' },
    out: { type: 'string', required: true, description: 'Folder to write: policy.json, policy.mjs, and model.json + weights.bin (DQN) or qtable.json (Q-learning)' },
    quantize: { type: 'choice', choices: QUANTIZATIONS, default: 'none', description: 'DQN weights as float32 (none), IEEE half (float16) or per-tensor affine uint8' },
    scenario: { type: 'string', description: "Scenario id or path, when the run's is not found under its id (its hash must match the run's)" },
    report: { type: 'string', description: 'A `rescoin evaluate` report folder whose days.csv holds the run: its figures go into policy.json (default: the newest report under ./reports that lists the run)' },
    overwrite: { type: 'boolean', default: false, description: 'Replace --out when it is not empty' },
  },
  async run(a, io) {
    // What export refuses of the flags is checked here, so that the error names the flag.
    if (!existsSync(a.run)) throw new UsageError('--run', `${a.run} does not exist: expected a run folder (rescoin train --out)`);
    if (!a.overwrite && existsSync(a.out) && readdirSync(a.out).length > 0) throw new UsageError('--out', `${a.out} is not empty: expected a new folder, or add --overwrite to replace it`);
    if (a.quantize !== 'none') {
      const { readRunConfig } = await import('../training/train.js');
      if (readRunConfig(a.run).algorithm === 'qlearning') throw new UsageError('--quantize', `got ${a.quantize}, expected none for a Q-learning run (its table is exported as it is)`);
    }
    const r = await exportPolicy({ run: a.run, out: a.out, quantize: a.quantize, scenario: a.scenario, report: a.report, overwrite: a.overwrite });
    const m = r.manifest;
    println(io.stdout, `exported ${m.algorithm} run ${m.run.name} (${m.scenario.id}, weights ${m.weights.quantization}) to ${r.dir}: ${r.files.map((f) => `${f.path} ${f.bytes.toLocaleString('en-US')} B`).join(', ')}; ${(r.bytes / 1024).toFixed(1)} KiB in all`);
    const ag = m.weights.agreement;
    if (ag)
      println(
        io.stdout,
        `${m.weights.quantization === 'none' ? 'float32' : m.weights.quantization} weights choose the trainer's action (tfjs, float32) on ${ag.pct.toFixed(2)} % of ${ag.decisions} decisions of ${ag.days}` +
          (ag.medianQLoss === null ? '' : `; the others lose a median ${ag.medianQLoss} of its Q-value units (reward × rewardScale)`),
      );
    if (!m.evaluation) println(io.stdout, 'no evaluation report lists this run: policy.json has evaluation null (give --report reports/X)');
    else println(io.stdout, `evaluation from ${m.evaluation.report}: ${m.evaluation.days} days, gap ${typeof m.evaluation.gapPct === 'number' ? `${m.evaluation.gapPct.toFixed(1)} %` : '-'}`);
  },
});
