import { basename, dirname, relative, resolve } from 'node:path';
import { defineCommand, println, type CommandGroup, type Io } from './command.js';
import { jsonOption, runSeedOption, scenarioFrom } from './common.js';
import { UsageError } from './errors.js';

/**
 * `rescoin habits fit|check`: a scenario of the user's own home from usage logs, and how well a
 * scenario's habits match them. Bad input rows (an InputError) and data the base cannot take (a
 * FitError) are the user's to fix: printed as they are, exit 2, like a usage error.
 */

const inputs = {
  events: { type: 'list', default: [], description: 'Appliance events CSV (appliance,start,end,kwh), one or more (docs/habits.md)' },
  sessions: { type: 'list', default: [], description: 'EV charging sessions CSV (plug-in, plug-out, kWh), one or more' },
  meter: { type: 'list', default: [], description: 'Meter series CSV: timestamp with import and export kWh, or load and PV' },
  opsd: { type: 'list', default: [], description: 'OPSD household CSV (appliance channels and PV, cumulative kWh, CET/CEST)' },
  norway: { type: 'list', default: [], description: 'Norwegian EV sessions CSV (Sørensen et al. 2021: ;-separated, decimal commas, dd.mm.yyyy hh:mm)' },
  citylearn: { type: 'list', default: [], description: 'CityLearn building CSV (hourly, no timestamps)' },
  tz: { type: 'string', description: 'Time zone of timestamps without an offset, e.g. Europe/Rome (default: each format\'s own, see docs/habits.md)' },
} as const;

type InputArgs = { [K in Exclude<keyof typeof inputs, 'tz'>]: string[] } & { tz?: string };

async function observe(a: InputArgs) {
  const spec = { events: a.events, sessions: a.sessions, meter: a.meter, opsd: a.opsd, norway: a.norway, citylearn: a.citylearn };
  if (Object.values(spec).every((x) => x.length === 0)) throw new UsageError(Object.keys(spec).map((k) => `--${k}`), 'give at least one input file');
  const { readInputs } = await import('../habits/import.js');
  return readInputs(spec, { tz: a.tz });
}

/** InputError and FitError: the message names the file, line, column and value; exit 2. */
async function userErrors(prog: string, io: Io, body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (e) {
    const { InputError } = await import('../habits/errors.js');
    const { FitError } = await import('../habits/fit.js');
    if (!(e instanceof InputError) && !(e instanceof FitError)) throw e;
    println(io.stderr, `${prog}: ${e.message}`);
    return 2;
  }
}

const fit = defineCommand({
  name: 'fit',
  summary: 'Fit a scenario of your home (extending a base) from appliance events, EV sessions and meter days',
  options: {
    base: { type: 'string', default: 'paper-apartment', description: 'Base scenario (id or path) that the fitted one extends: the appliances, EV, tariff and everything the data does not give' },
    out: { type: 'string', required: true, description: 'Scenario JSON to write (atomically); meter days also write <out without .json>.days.csv beside it' },
    id: { type: 'string', description: 'The fitted scenario\'s id (default: --out\'s file name without .json)' },
    form: { type: 'choice', choices: ['empirical', 'normal'], default: 'empirical', description: 'empirical: histograms (1-slot or 1-kWh bins, weekday and weekend apart); normal: clipped normals (min/max the data\'s 1st/99th percentile)' },
    'pv-kwp': { type: 'number', positive: true, description: "PV size (kWp) that the meter's PV is divided by (default: the base's pv.peakKw)" },
    ...inputs,
    json: { ...jsonOption, description: 'Print the summary as JSON' },
  },
  check(a) {
    if (!a.out.toLowerCase().endsWith('.json')) throw new UsageError('--out', `expected a file name ending in .json, got ${a.out}`);
  },
  run: (a, io) =>
    userErrors('rescoin habits fit', io, async () => {
      const { fitHabits, readScenarioJson } = await import('../habits/fit.js');
      const { writeFitted, companionPath } = await import('../habits/write.js');
      const id = a.id ?? basename(a.out).replace(/\.json$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
      const base = readScenarioJson(a.base);
      const obs = await observe(a);
      // A path base is named relative to the output, as `extends` resolves it.
      const baseRef = a.base.endsWith('.json') || a.base.includes('/') ? relative(dirname(resolve(a.out)), resolve(a.base)) : a.base;
      const r = fitHabits(base, obs, { id, form: a.form as 'empirical' | 'normal', baseRef, companion: basename(companionPath(a.out)), pvKwp: a['pv-kwp'], tz: a.tz });
      const written = writeFitted(a.out, r.scenario, r.companionCsv);
      if (a.json) return println(io.stdout, JSON.stringify({ written, summary: r.summary, messages: r.messages, notes: obs.notes.map((n) => `${n.at.file}:${n.at.line}: ${n.message}`) }, null, 2));
      for (const n of obs.notes) println(io.stderr, `${n.at.file}:${n.at.line}: ${n.message}`);
      for (const m of r.messages) println(io.stdout, m);
      for (const s of r.summary.appliances) println(io.stdout, `${s.id}: asked on ${s.asked.weekday}/${s.days.weekday} weekdays, ${s.asked.weekend}/${s.days.weekend} weekend days`);
      const e = r.summary.ev;
      if (e) {
        const hm = (h: number) => `${String(Math.floor(h)).padStart(2, '0')}:${String(Math.round((h % 1) * 60)).padStart(2, '0')}`;
        println(io.stdout, `EV sessions: ${e.sessions} overnight (${e.leftOut} left out, ${e.users} users); plug-in mean ${hm(e.plugInMeanHours)} (sd ${e.plugInSdHours.toFixed(1)} h); plug-out most often at ${hm(e.plugOutModeHour)} (mean ${hm(e.plugOutMeanHours)}); median ${e.medianKwhKept.toFixed(1)} kWh overnight, ${e.medianKwhAll.toFixed(1)} kWh over all sessions`);
      }
      println(io.stdout, `wrote ${written.join(' and ')} (extends ${baseRef}; ${obs.files.length} input files, ${obs.notes.length} import notes)`);
    }),
});

const check = defineCommand({
  name: 'check',
  summary: "Draw days from a scenario and compare its habits with the data: request shares, KS distances, overlay plots",
  options: {
    scenario: { type: 'string', required: true, description: 'Scenario id or path (e.g. the output of rescoin habits fit)' },
    ...inputs,
    days: { type: 'number', default: 10000, integer: true, min: 1, description: 'Days drawn from the scenario' },
    seed: runSeedOption,
    out: { type: 'string', default: 'habits-check', description: 'Folder for the overlay plots (<item>-<quantity>.svg and .png)' },
    plots: { type: 'boolean', default: true, description: 'Write the plots (--no-plots to skip them)' },
    json: { ...jsonOption, description: 'Print the table as JSON' },
  },
  run: (a, io) =>
    userErrors('rescoin habits check', io, async () => {
      const { checkHabits, checkTable } = await import('../habits/check.js');
      const scenario = scenarioFrom(a.scenario);
      const obs = await observe(a);
      const r = checkHabits(scenario, obs, { days: a.days, seed: a.seed });
      const plots = a.plots ? await (await import('../habits/check-plots.js')).writeCheckPlots(r, a.out) : [];
      if (a.json) return println(io.stdout, JSON.stringify({ days: r.days, seed: r.seed, rows: r.rows, plots }, null, 2));
      println(io.stdout, checkTable(r));
      if (plots.length) println(io.stdout, `plots: ${plots.length / 2} overlays (SVG and PNG) in ${a.out}/`);
    }),
});

export const habitsCommand: CommandGroup = {
  name: 'habits',
  summary: 'Your own home: fit a scenario from usage logs (fit), compare a scenario with them (check)',
  commands: [fit, check],
};
