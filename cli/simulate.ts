import { BUILTIN_POLICIES, builtinPolicy, formatTable, simulate, type BuiltinPolicyName } from '../evaluation/simulate.js';
import { defineCommand, println } from './command.js';
import { checkExtension, jsonOption, runSeedOption, scenarioFrom, scenarioOption, timeLimitOption } from './common.js';
import { UsageError } from './errors.js';

function parsePolicies(value: string): BuiltinPolicyName[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names)
    if (!(BUILTIN_POLICIES as readonly string[]).includes(n)) throw new UsageError('--policy', `unknown policy "${n}"; valid: ${BUILTIN_POLICIES.join(', ')}`);
  if (names.length === 0) throw new UsageError('--policy', `give at least one of ${BUILTIN_POLICIES.join(', ')}`);
  return names as BuiltinPolicyName[];
}

/** With several policies, each plot gets the policy's name before the extension. */
function plotPath(path: string, policy: string, many: boolean): string {
  if (!many) return path;
  const dot = path.lastIndexOf('.');
  return dot > 0 ? `${path.slice(0, dot)}.${policy}${path.slice(dot)}` : `${path}.${policy}`;
}

export const simulateCommand = defineCommand({
  name: 'simulate',
  summary: 'Play days of a scenario with rule, MPC or MILP policies and print a per-day table',
  options: {
    scenario: scenarioOption,
    policy: { type: 'string', default: 'asap', description: `Policy, or several separated by commas: ${BUILTIN_POLICIES.join(', ')}` },
    days: { type: 'number', default: 7, integer: true, min: 1, description: 'Number of days to play: days 0 … N−1 of the seed' },
    seed: runSeedOption,
    json: { ...jsonOption, description: 'Print [{ policy, days: [{ day, cost, importKwh, exportKwh, peakKw, par, rescoin, score, violations }] }] (one policy: just the days)' },
    plot: { type: 'string', description: 'Draw one day (loads by appliance, EV, PV, import and the tariff) to this .svg or .png; with several policies, the policy name goes before the extension' },
    'plot-day': { type: 'number', default: 0, integer: true, min: 0, description: 'Which day --plot draws (0 … --days − 1)' },
    'time-limit': { ...timeLimitOption, description: 'Seconds the milp policy may spend on each day' },
    samples: { type: 'number', default: 4, integer: true, min: 1, description: 'mpc-scenarios: futures drawn from the habits per re-solve, sharing the slot\'s decision' },
    'replan-every': { type: 'number', default: 8, integer: true, min: 1, description: 'mpc, mpc-scenarios: re-solve at least every N slots (15 min each) even when nothing changed' },
  },
  check(a) {
    if (a['plot-day'] >= a.days) throw new UsageError('--plot-day', `expected an integer in [0, ${a.days - 1}] (a day that --days plays), got ${a['plot-day']}`);
    checkExtension('--plot', a.plot, ['.svg', '.png']);
    parsePolicies(a.policy);
  },
  async run(a, io) {
    const scenario = scenarioFrom(a.scenario);
    const names = parsePolicies(a.policy);
    const results = [];
    for (const name of names) {
      const res = await simulate(scenario, builtinPolicy(name, scenario, a['time-limit'], { samples: a.samples, replanEvery: a['replan-every'] }), a.days, a.seed, a.plot ? [a['plot-day']] : []);
      results.push(res);
      if (a.plot) {
        // vega is loaded only when a plot is asked for: it doubles the CLI's start-up time.
        const { dayPlotSvg, writePlot } = await import('../training/plot.js');
        const path = plotPath(a.plot, name, names.length > 1);
        await writePlot(await dayPlotSvg(res.logs.get(a['plot-day'])!, scenario, `${scenario.name}: ${name}, seed ${a.seed}, day ${a['plot-day']}`), path);
        if (!a.json) println(io.stderr, `wrote ${path}`);
      }
    }
    if (a.json) {
      const out = results.map((r) => ({ policy: r.policy, days: r.rows }));
      println(io.stdout, JSON.stringify(out.length === 1 ? out[0].days : out, null, 2));
      return;
    }
    for (const r of results) {
      println(io.stdout, `\n${scenario.id}: policy ${r.policy}, seed ${a.seed}, days 0-${a.days - 1}\n`);
      println(io.stdout, formatTable(r));
    }
  },
});
