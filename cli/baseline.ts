import { writeFile } from 'node:fs/promises';
import { daySeed, drawDay, makeEnv, playDay, type Scenario } from '../env/index.js';
import { asapPolicy, buildDayModel, cheapestPolicy, paretoFront, scheduleActions, solveDay } from '../baseline/index.js';
import { baselineJson, baselineReport } from '../evaluation/baseline.js';
import { defineCommand, println, type Io } from './command.js';
import { checkExtension, runSeedOption, scenarioFrom, scenarioOption, timeLimitOption } from './common.js';

/** The cost–peak front of one day (ε-constraint), as CSV, SVG and a summary. */
async function pareto(s: Scenario, a: { day: number; seed: number; points: number; timeLimit: number; out: string; json: boolean; title: string }, io: Io): Promise<void> {
  const day = drawDay(s, daySeed(a.seed, a.day));
  const front = await paretoFront(s, day, a.points, { timeLimitSec: a.timeLimit });
  const env = makeEnv(s);
  const marks = [];
  for (const policy of [asapPolicy(), cheapestPolicy(s)]) {
    const { summary } = await playDay(env, policy, day);
    marks.push({ name: policy.name, peakKw: summary.peakKw, costEur: summary.cost });
  }
  const csv = ['cap_kw,peak_kw,cost_eur,score_eur,status', ...front.map((p) => `${p.capKw},${p.peakKw},${p.costEur},${p.score},${p.status}`)].join('\n');
  await writeFile(`${a.out}.csv`, `${csv}\n`);
  const { paretoPlotSvg, writePlot } = await import('../training/plot.js');
  await writePlot(await paretoPlotSvg(front, marks, `${a.title}: energy cost against peak`), `${a.out}.svg`);
  if (a.json) return println(io.stdout, JSON.stringify({ front, policies: marks }, null, 2));
  println(io.stdout, `${a.title}: cost–peak front (${front.length} points)`);
  for (const p of front) println(io.stdout, `  peak ≤ ${p.capKw.toFixed(3)} kW: peak ${p.peakKw.toFixed(3)} kW, cost ${p.costEur.toFixed(6)} €, J ${p.score.toFixed(6)} € (${p.status})`);
  for (const m of marks) println(io.stdout, `  ${m.name}: peak ${m.peakKw.toFixed(3)} kW, cost ${m.costEur.toFixed(6)} €`);
  println(io.stderr, `wrote ${a.out}.csv and ${a.out}.svg`);
}

export const baselineCommand = defineCommand({
  name: 'baseline',
  summary: 'Solve one day to proven optimality with the MILP (HiGHS) and print J*, its parts and the schedule',
  options: {
    scenario: scenarioOption,
    day: { type: 'number', default: 0, integer: true, min: 0, description: 'Day d of the seed: the same day as day d of `rescoin simulate --seed K`' },
    seed: { ...runSeedOption, description: 'Run seed K: the day is drawn from daySeed(K, d)' },
    'time-limit': { ...timeLimitOption, description: 'Seconds HiGHS may spend; a day not proven optimal by then is reported as time-limit with its MIP gap' },
    json: { type: 'boolean', default: false, description: 'Print { status, score, cost, peakKw, par, rescoin, mipGap, solveMs, schedule }' },
    lp: { type: 'string', description: 'Also write the model in CPLEX LP format to this file (its optimum is J*)' },
    plot: { type: 'string', description: 'Draw the optimal day to this .svg or .png' },
    pareto: { type: 'number', integer: true, min: 2, description: 'Instead: solve the ε-constraint front of energy cost against peak with this many points, write <pareto-out>.csv and .svg' },
    'pareto-out': { type: 'string', default: 'pareto', description: 'File name prefix for --pareto' },
  },
  check(a) {
    checkExtension('--plot', a.plot, ['.svg', '.png']);
  },
  async run(a, io) {
    const s = scenarioFrom(a.scenario);
    const seed = daySeed(a.seed, a.day);
    const title = `${s.id}: day ${a.day} of seed ${a.seed} (day seed ${seed})`;
    if (a.pareto !== undefined) return pareto(s, { day: a.day, seed: a.seed, points: a.pareto, timeLimit: a['time-limit'], out: a['pareto-out'], json: a.json, title }, io);
    const day = drawDay(s, seed);
    const r = await solveDay(s, day, { timeLimitSec: a['time-limit'] });
    if (a.lp) {
      await writeFile(a.lp, buildDayModel(s, day).model.toLp(title));
      if (!a.json) println(io.stderr, `wrote ${a.lp}`);
    }
    if (a.plot) {
      const actions = scheduleActions(s, r.schedule);
      const { log } = await playDay(makeEnv(s), { name: 'milp', act: (_o, info) => actions[info.slot] }, day);
      const { dayPlotSvg, writePlot } = await import('../training/plot.js');
      await writePlot(await dayPlotSvg(log, s, `${title}: MILP optimum`), a.plot);
      if (!a.json) println(io.stderr, `wrote ${a.plot}`);
    }
    println(io.stdout, a.json ? JSON.stringify(baselineJson(r), null, 2) : baselineReport(s, r, title));
  },
});
