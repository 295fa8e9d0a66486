#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { listScenarios, loadScenario, ScenarioError } from '../env/index.js';
import { BUILTIN_POLICIES, builtinPolicy, formatTable, simulate, type BuiltinPolicyName } from '../evaluation/simulate.js';
import { runBaseline } from '../evaluation/baseline.js';
import { exportCommand } from '../export/export.js';
import { gatewayCommand } from '../export/gateway.js';
import { ledgerCommand } from './ledger.js';

/** The `rescoin` command line: thin wiring over the library (each command's work lives in its module). */

function parsePolicies(value: string): BuiltinPolicyName[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names)
    if (!(BUILTIN_POLICIES as readonly string[]).includes(n)) throw new Error(`--policy: unknown policy "${n}"; valid: ${BUILTIN_POLICIES.join(', ')}`);
  if (names.length === 0) throw new Error(`--policy: give at least one of ${BUILTIN_POLICIES.join(', ')}`);
  return names as BuiltinPolicyName[];
}

function plotPath(path: string, policy: string, many: boolean): string {
  if (!many) return path;
  const dot = path.lastIndexOf('.');
  return dot > 0 ? `${path.slice(0, dot)}.${policy}${path.slice(dot)}` : `${path}.${policy}`;
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('rescoin')
    .usage('$0 <command> [options]\n\nTrain, evaluate and export smart-home energy agents (see README.md).')
    .command(
      'scenarios',
      'List the built-in scenarios (data/scenarios/*.json)',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a list' }),
      (args) => {
        const rows = listScenarios().map((id) => {
          const s = loadScenario(id);
          return { id, name: s.name, appliances: s.appliances.length, ev: s.ev !== null, v2h: s.ev?.v2h ?? false, contractKw: s.grid.contractKw, pvKwp: s.pv.peakKw };
        });
        if (args.json) console.log(JSON.stringify(rows, null, 2));
        else for (const r of rows) console.log(`${r.id.padEnd(24)} ${r.name} (${r.appliances} appliances, ${r.contractKw} kW contract, ${r.pvKwp} kWp PV${r.ev ? `, EV${r.v2h ? ' with V2H' : ''}` : ''})`);
      },
    )
    .command(
      'simulate',
      'Play days of a scenario with rule policies and print a per-day table',
      (y) =>
        y
          .option('scenario', { type: 'string', default: 'paper-apartment', describe: 'Scenario id (see `rescoin scenarios`) or path to a scenario JSON' })
          .option('policy', { type: 'string', default: 'asap', describe: `Policy, or several separated by commas: ${BUILTIN_POLICIES.join(', ')}` })
          .option('days', { type: 'number', default: 7, describe: 'Number of days to play: days 0 … N−1 of the seed' })
          .option('seed', { type: 'number', default: 1, describe: 'Run seed K: day d is drawn from daySeed(K, d), the same whatever --days is' })
          .option('json', { type: 'boolean', default: false, describe: 'Print [{ policy, days: [{ day, cost, importKwh, exportKwh, peakKw, par, rescoin, score, violations }] }] (one policy: just the days)' })
          .option('plot', { type: 'string', describe: 'Draw one day (loads by appliance, EV, PV, import and the tariff) to this .svg or .png; with several policies, the policy name goes before the extension' })
          .option('plot-day', { type: 'number', default: 0, describe: 'Which day --plot draws' })
          .option('time-limit', { type: 'number', default: 60, describe: 'Seconds the milp policy may spend on each day' })
          .check((a) => {
            if (!Number.isInteger(a.days) || a.days < 1) throw new Error(`--days must be a positive integer, got ${a.days}`);
            if (!Number.isInteger(a.seed) || a.seed < 0) throw new Error(`--seed must be a non-negative integer, got ${a.seed}`);
            if (!Number.isInteger(a['plot-day']) || a['plot-day'] < 0 || a['plot-day'] >= a.days) throw new Error(`--plot-day must be an integer in [0, ${a.days - 1}], got ${a['plot-day']}`);
            if (a.plot !== undefined && !/\.(svg|png)$/i.test(a.plot)) throw new Error(`--plot must end in .svg or .png, got ${a.plot}`);
            parsePolicies(a.policy);
            return true;
          }),
      async (args) => {
        const scenario = loadScenario(args.scenario);
        const names = parsePolicies(args.policy);
        const results = [];
        for (const name of names) {
          const res = await simulate(scenario, builtinPolicy(name, scenario, args['time-limit']), args.days, args.seed, args.plot ? [args['plot-day']] : []);
          results.push(res);
          if (args.plot) {
            // vega is loaded only when a plot is asked for: it doubles the CLI's start-up time.
            const { dayPlotSvg, writePlot } = await import('../training/plot.js');
            const path = plotPath(args.plot, name, names.length > 1);
            const svg = await dayPlotSvg(res.logs.get(args['plot-day'])!, scenario, `${scenario.name}: ${name}, seed ${args.seed}, day ${args['plot-day']}`);
            await writePlot(svg, path);
            if (!args.json) console.error(`wrote ${path}`);
          }
        }
        if (args.json) {
          const out = results.map((r) => ({ policy: r.policy, days: r.rows }));
          console.log(JSON.stringify(out.length === 1 ? out[0].days : out, null, 2));
          return;
        }
        for (const r of results) {
          console.log(`\n${scenario.id}: policy ${r.policy}, seed ${args.seed}, days 0-${args.days - 1}\n`);
          console.log(formatTable(r));
        }
      },
    )
    .command(
      'baseline',
      'Solve one day to proven optimality with the MILP (HiGHS) and print J*, its parts and the schedule',
      (y) =>
        y
          .option('scenario', { type: 'string', default: 'paper-apartment', describe: 'Scenario id (see `rescoin scenarios`) or path to a scenario JSON' })
          .option('day', { type: 'number', default: 0, describe: 'Day d of the seed: the same day as day d of `rescoin simulate --seed K`' })
          .option('seed', { type: 'number', default: 1, describe: 'Run seed K' })
          .option('time-limit', { type: 'number', default: 60, describe: 'Seconds HiGHS may spend; a day not proven optimal by then is reported as time-limit with its MIP gap' })
          .option('json', { type: 'boolean', default: false, describe: 'Print { status, score, cost, peakKw, par, rescoin, mipGap, solveMs, schedule }' })
          .option('lp', { type: 'string', describe: 'Also write the model in CPLEX LP format to this file (its optimum is J*)' })
          .option('plot', { type: 'string', describe: 'Draw the optimal day to this .svg or .png' })
          .option('pareto', { type: 'number', describe: 'Instead: solve the ε-constraint front of energy cost against peak with this many points, write <pareto-out>.csv and .svg' })
          .option('pareto-out', { type: 'string', default: 'pareto', describe: 'File name prefix for --pareto' })
          .check((a) => {
            if (!Number.isInteger(a.day) || a.day < 0) throw new Error(`--day must be a non-negative integer, got ${a.day}`);
            if (!Number.isInteger(a.seed) || a.seed < 0) throw new Error(`--seed must be a non-negative integer, got ${a.seed}`);
            if (!(a['time-limit'] > 0)) throw new Error(`--time-limit must be a positive number of seconds, got ${a['time-limit']}`);
            if (a.plot !== undefined && !/\.(svg|png)$/i.test(a.plot)) throw new Error(`--plot must end in .svg or .png, got ${a.plot}`);
            if (a.pareto !== undefined && (!Number.isInteger(a.pareto) || a.pareto < 2)) throw new Error(`--pareto must be an integer ≥ 2, got ${a.pareto}`);
            return true;
          }),
      async (args) =>
        runBaseline({
          scenario: loadScenario(args.scenario),
          day: args.day,
          seed: args.seed,
          timeLimit: args['time-limit'],
          json: args.json,
          lp: args.lp,
          plot: args.plot,
          pareto: args.pareto,
          paretoOut: args['pareto-out'],
        }),
    )
    .command(
      'train',
      'Train an agent (tabular Q-learning or DQN) on training days of a scenario; writes a run folder',
      (y) =>
        y
          .option('scenario', { type: 'string', default: 'paper-apartment', describe: 'Scenario id (see `rescoin scenarios`) or path to a scenario JSON' })
          .option('agent', { choices: ['qlearning', 'dqn'] as const, default: 'dqn' as const, describe: 'Algorithm' })
          .option('episodes', { type: 'number', default: 400, describe: 'Training days (DQN rounds them up to a multiple of its numEnvs homes)' })
          .option('seed', { type: 'number', default: 1, describe: 'Run seed K: episode e plays day daySeed(K, e); evaluation uses other seeds' })
          .option('out', { type: 'string', demandOption: true, describe: 'Run folder: config.json, metrics.csv, checkpoint/, validation.csv and best/ (DQN: the greedy policy validated every 64 episodes), model/ (the best validated policy, else the last), learning-curve.svg/.png' })
          .option('resume', { type: 'boolean', default: false, describe: 'Continue the run in --out from its last checkpoint (a larger --episodes extends it)' })
          .option('overwrite', { type: 'boolean', default: false, describe: 'Replace a run already in --out' })
          .check((a) => {
            if (a.resume && a.overwrite) throw new Error('--resume and --overwrite exclude each other');
            return true;
          })
          .option('config', { type: 'string', describe: 'JSON file of hyper-parameters overriding the defaults (agents/config.ts), e.g. {"learningRate": 0.001, "validateEvery": 0}' })
          .option('checkpoint-minutes', { type: 'number', default: 2, describe: 'Minutes between checkpoints (one is also written at the end)' })
          .option('progress', { type: 'boolean', default: true, describe: 'Progress bar on stderr (--no-progress to hide it)' })
          .check((a) => {
            if (!Number.isInteger(a.episodes) || a.episodes < 1) throw new Error(`--episodes must be a positive integer, got ${a.episodes}`);
            if (!Number.isInteger(a.seed) || a.seed < 0) throw new Error(`--seed must be a non-negative integer, got ${a.seed}`);
            if (!(a['checkpoint-minutes'] > 0)) throw new Error(`--checkpoint-minutes must be positive, got ${a['checkpoint-minutes']}`);
            return true;
          }),
      async (args) => {
        const { train } = await import('../training/train.js');
        const overrides = args.config ? (JSON.parse(readFileSync(args.config, 'utf8')) as Record<string, unknown>) : {};
        const r = await train({
          scenario: loadScenario(args.scenario),
          algorithm: args.agent,
          episodes: args.episodes,
          seed: args.seed,
          out: args.out,
          resume: args.resume,
          overwrite: args.overwrite,
          overrides,
          checkpointMinutes: args['checkpoint-minutes'],
          progress: args.progress,
        });
        console.log(`trained ${args.agent} for ${r.episodes} episodes (${r.steps.toLocaleString('en-US')} steps, ${r.updates.toLocaleString('en-US')} updates) in ${r.seconds.toFixed(1)} s: ${r.dir}`);
        if (r.selected)
          console.log(`model/ holds the policy after episode ${r.selected.episode}, the best on ${r.selected.dayCount} validation days (mean J ${r.selected.meanScore.toFixed(4)} €; see validation.csv)`);
      },
    )
    .command(
      'evaluate',
      'Play asap, cheapest, each run and the MILP optimum on the same held-out days and report the gaps',
      (y) =>
        y
          .option('scenario', { type: 'string', default: 'paper-apartment', describe: 'Scenario id or path (the runs must have been trained on it)' })
          .option('runs', { type: 'array', string: true, default: [] as string[], describe: 'Run folders to evaluate (their model/)' })
          .option('days', { type: 'number', default: 30, describe: 'Held-out days 0 … N−1 of --seed' })
          .option('seed', { type: 'number', default: 100000, describe: 'Seed of the held-out days (must not be a training seed)' })
          .option('out', { type: 'string', default: 'reports/latest', describe: 'Report folder: report.md, days.csv, days.parquet, payouts.json, gaps.svg/.png, schedules-day0.svg' })
          .option('time-limit', { type: 'number', default: 60, describe: 'Seconds the MILP may spend on each day' })
          .option('json', { type: 'boolean', default: false, describe: 'Print { policies: [{ name, meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, violations }] }' })
          .option('ledger', { type: 'string', describe: "Ledger folder (rescoin ledger init): after the evaluation, mint one policy's payouts of each day to a prosumer" })
          .option('prosumer', { type: 'string', describe: "With --ledger: the account paid (default: the ledger's only prosumer)" })
          .option('ledger-policy', { type: 'string', describe: 'With --ledger: the policy whose days are paid (default: the first run; needed when there is no run)' })
          .check((a) => {
            if (!Number.isInteger(a.days) || a.days < 1) throw new Error(`--days must be a positive integer, got ${a.days}`);
            if (!Number.isInteger(a.seed) || a.seed < 0) throw new Error(`--seed must be a non-negative integer, got ${a.seed}`);
            return true;
          }),
      async (args) => {
        const { evaluate, formatStats } = await import('../evaluation/evaluate.js');
        const { default: cliProgress } = await import('cli-progress');
        // On stderr (stdout stays the table or the JSON); without a TTY it prints a line now and then.
        const bar = args.json ? null : new cliProgress.SingleBar({ format: ' {bar} {value}/{total} days | ETA {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic);
        bar?.start(args.days, 0);
        const r = await evaluate({
          scenario: loadScenario(args.scenario),
          runs: args.runs,
          days: args.days,
          seed: args.seed,
          out: args.out,
          timeLimitSec: args['time-limit'],
          onDay: (k) => bar?.update(k),
          ledger: args.ledger === undefined ? undefined : { dir: args.ledger, prosumer: args.prosumer, policy: args['ledger-policy'] },
        });
        bar?.stop();
        if (r.minted) console.error(`minted ${r.minted.total / 1e6} RSC to ${r.minted.to} (${r.minted.minted.length} days of ${r.minted.policy}) in ${args.ledger}, block ${r.minted.block?.height ?? '-'}`);
        if (args.json) {
          const policies = r.policies.map(({ name, meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, violations }) => ({ name, meanScore, meanCost, meanPeakKw, meanPar, meanRescoin, gapPct, violations }));
          console.log(JSON.stringify({ policies }, null, 2));
        } else {
          console.log(`\n${args.days} held-out days of seed ${args.seed}, gap 0 % = optimum, 100 % = no management\n`);
          console.log(formatStats(r.policies));
          console.log(`\nreport: ${r.reportDir}/report.md`);
        }
      },
    )
    .command(exportCommand)
    .command(gatewayCommand)
    .command(ledgerCommand)
    .demandCommand(1, 'Give a command: scenarios, simulate, baseline, train, evaluate, export, gateway or ledger (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err, y) => {
      // Bugs keep their stack; usage errors get the message and, for unknown names, the valid ones.
      if (err && !(err instanceof ScenarioError) && !/^--|unknown|must|expected/i.test(err.message)) {
        console.error(err.stack);
        process.exit(1);
      }
      console.error(`rescoin: ${err ? err.message : msg}`);
      if (/Unknown (argument|command)|Not enough|Give a command/i.test(msg ?? '')) {
        console.error('');
        y.showHelp((help: string) => console.error(help));
      } else console.error('Run with --help for the options.');
      process.exit(2);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((err) => {
  console.error(`rescoin: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
