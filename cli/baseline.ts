import { writeFile } from 'node:fs/promises';
import { daySeed, drawDay, makeEnv, playDay, type Scenario } from '../env/index.js';
import { asapPolicy, buildDayModel, cheapestPolicy, paretoFront, scheduleActions, solveDay } from '../baseline/index.js';
import { baselineJson, baselineReport } from '../evaluation/baseline.js';
import { defineCommand, println, type Io } from './command.js';
import { checkExtension, redisOption, runSeedOption, scenarioFrom, scenarioOption, timeLimitOption, workersOption } from './common.js';
import { UsageError } from './errors.js';

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

/** Days d … d + N − 1 solved as jobs (on the pool, or on Redis), one row each, in day order. */
async function manyDays(s: Scenario, a: { day: number; days: number; seed: number; timeLimit: number; json: boolean; workers?: number; redis?: string }, io: Io): Promise<void> {
  const { dayJobs, primeScenario } = await import('../evaluation/day-jobs.js');
  const { runJobs } = await import('../evaluation/pool.js');
  const scenario = primeScenario(s);
  const days = Array.from({ length: a.days }, (_, k) => a.day + k);
  const jobs = days.map((d) => dayJobs.milp({ scenario, daySeed: daySeed(a.seed, d), timeLimitSec: a.timeLimit }));
  const results = await runJobs<ReturnType<typeof baselineJson>>(jobs, { workers: a.workers, redis: a.redis });
  if (a.json) return println(io.stdout, JSON.stringify(results.map((r, k) => ({ day: days[k], daySeed: daySeed(a.seed, days[k]), ...r })), null, 2));
  println(io.stdout, `${s.id}: days ${days[0]}–${days[days.length - 1]} of seed ${a.seed}, the MILP optimum of each`);
  println(io.stdout, `  ${'day'.padStart(5)} ${'day seed'.padStart(10)}  ${'status'.padEnd(10)} ${'J* €'.padStart(10)} ${'cost €'.padStart(10)} ${'peak kW'.padStart(8)} ${'MIP gap'.padStart(9)} ${'solve ms'.padStart(9)}`);
  results.forEach((r, k) => {
    const cells = [String(days[k]).padStart(5), String(daySeed(a.seed, days[k])).padStart(10), ` ${r.status.padEnd(10)}`, r.score.toFixed(6).padStart(10), r.cost.toFixed(6).padStart(10), r.peakKw.toFixed(3).padStart(8), `${(r.mipGap * 100).toPrecision(3)} %`.padStart(9), r.solveMs.toFixed(0).padStart(9)];
    println(io.stdout, `  ${cells.join(' ')}`);
  });
  const total = results.reduce((m, r) => m + r.score, 0);
  println(io.stdout, `  mean J* ${(total / results.length).toFixed(6)} € over ${results.length} days, ${results.filter((r) => r.status !== 'optimal').length} not proven optimal`);
}

export const baselineCommand = defineCommand({
  name: 'baseline',
  summary: 'Solve one day (or --days N) to proven optimality with the MILP (HiGHS) and print J*, its parts and the schedule (or one row per day)',
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
    days: { type: 'number', default: 1, integer: true, min: 1, description: 'Solve days d … d + N − 1 (as jobs: --workers, --redis) and print one row per day (--json: an array of the one-day JSON with day and daySeed)' },
    workers: workersOption,
    redis: redisOption,
  },
  check(a) {
    checkExtension('--plot', a.plot, ['.svg', '.png']);
    for (const flag of ['lp', 'plot', 'pareto'] as const) if (a.days > 1 && a[flag] !== undefined) throw new UsageError(`--${flag}`, 'draws one day: it does not go with --days above 1');
  },
  async run(a, io) {
    const s = scenarioFrom(a.scenario);
    const seed = daySeed(a.seed, a.day);
    const title = `${s.id}: day ${a.day} of seed ${a.seed} (day seed ${seed})`;
    if (a.pareto !== undefined) return pareto(s, { day: a.day, seed: a.seed, points: a.pareto, timeLimit: a['time-limit'], out: a['pareto-out'], json: a.json, title }, io);
    if (a.days > 1) return manyDays(s, { day: a.day, days: a.days, seed: a.seed, timeLimit: a['time-limit'], json: a.json, workers: a.workers, redis: a.redis }, io);
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
