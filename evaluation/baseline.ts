import { writeFile } from 'node:fs/promises';
import { daySeed, drawDay, makeEnv, playDay, slotTime, SLOTS, type Scenario } from '../env/index.js';
import { asapPolicy, buildDayModel, cheapestPolicy, paretoFront, scheduleActions, solveDay, type MilpResult } from '../baseline/index.js';

/** `rescoin baseline`: the exact optimum of one day, as a report, JSON, LP file, plot or front. */

export interface BaselineArgs {
  scenario: Scenario;
  day: number;
  seed: number;
  timeLimit: number;
  json: boolean;
  lp?: string;
  plot?: string;
  pareto?: number;
  paretoOut: string;
}

/** Consecutive slots as "HH:MM–HH:MM" ranges (end exclusive). */
export function slotRanges(slots: number[]): string {
  const out: string[] = [];
  for (let k = 0; k < slots.length; ) {
    let j = k;
    while (j + 1 < slots.length && slots[j + 1] === slots[j] + 1) j++;
    out.push(`${slotTime(slots[k])}–${slotTime(slots[j] + 1)}`);
    k = j + 1;
  }
  return out.join(', ');
}

function evRanges(kw: Float64Array): string {
  const out: string[] = [];
  for (let t = 0; t < SLOTS; ) {
    let j = t;
    while (j + 1 < SLOTS && kw[j + 1] === kw[t]) j++;
    if (kw[t] !== 0) out.push(`${slotTime(t)}–${slotTime(j + 1)} ${kw[t] > 0 ? '+' : ''}${kw[t].toFixed(2)} kW`);
    t = j + 1;
  }
  return out.join(', ') || 'idle all day';
}

export function baselineJson(r: MilpResult) {
  const p = r.parts;
  return {
    status: r.status,
    score: r.score,
    cost: p.cost,
    peakKw: p.peakKw,
    par: p.par,
    rescoin: p.rescoin,
    mipGap: r.mipGap,
    solveMs: r.solveMs,
    schedule: {
      runs: r.schedule.runs,
      evKw: Array.from(r.schedule.evKw),
      importKw: Array.from(r.schedule.importKw),
      exportKw: Array.from(r.schedule.exportKw),
    },
  };
}

export function baselineReport(s: Scenario, r: MilpResult, title: string): string {
  const p = r.parts;
  const lines = [
    title,
    `  status      ${r.status}${r.status === 'optimal' ? ' (proven)' : ` (${r.detail})`}, MIP gap ${(r.mipGap * 100).toPrecision(3)} %, solved in ${r.solveMs.toFixed(0)} ms (${r.cols} columns, ${r.rows} rows)`,
    `  score J*    ${r.score.toFixed(6)} €`,
    `    energy    ${p.cost.toFixed(6)} €  (import ${p.importKwh.toFixed(2)} kWh, export ${p.exportKwh.toFixed(2)} kWh)`,
    `    peak      ${p.peakCost.toFixed(6)} €  (peak ${p.peakKw.toFixed(3)} kW, PAR ${p.par.toFixed(2)})`,
    `    F.O.2     ${p.fo2Cost.toFixed(6)} €`,
    `    RESCoin  −${p.rescoinValue.toFixed(6)} €  (${p.rescoin.toFixed(3)} RSC)`,
    '  schedule',
  ];
  r.schedule.runs.forEach((slots, i) => {
    if (slots.length) lines.push(`    ${s.appliances[i].id.padEnd(18)} ${slotRanges(slots)}`);
  });
  if (s.ev) lines.push(`    ${'EV'.padEnd(18)} ${evRanges(r.schedule.evKw)}`);
  return lines.join('\n');
}

export async function runBaseline(a: BaselineArgs): Promise<void> {
  const seed = daySeed(a.seed, a.day);
  const day = drawDay(a.scenario, seed);
  const title = `${a.scenario.id}: day ${a.day} of seed ${a.seed} (day seed ${seed})`;
  if (a.pareto !== undefined) {
    const front = await paretoFront(a.scenario, day, a.pareto, { timeLimitSec: a.timeLimit });
    const env = makeEnv(a.scenario);
    const marks = [];
    for (const policy of [asapPolicy(), cheapestPolicy(a.scenario)]) {
      const { summary } = await playDay(env, policy, day);
      marks.push({ name: policy.name, peakKw: summary.peakKw, costEur: summary.cost });
    }
    const csv = ['cap_kw,peak_kw,cost_eur,score_eur,status', ...front.map((p) => `${p.capKw},${p.peakKw},${p.costEur},${p.score},${p.status}`)].join('\n');
    await writeFile(`${a.paretoOut}.csv`, `${csv}\n`);
    const { paretoPlotSvg, writePlot } = await import('../training/plot.js');
    await writePlot(await paretoPlotSvg(front, marks, `${title}: energy cost against peak`), `${a.paretoOut}.svg`);
    if (a.json) console.log(JSON.stringify({ front, policies: marks }, null, 2));
    else {
      console.log(`${title}: cost–peak front (${front.length} points)`);
      for (const p of front) console.log(`  peak ≤ ${p.capKw.toFixed(3)} kW: peak ${p.peakKw.toFixed(3)} kW, cost ${p.costEur.toFixed(6)} €, J ${p.score.toFixed(6)} € (${p.status})`);
      for (const m of marks) console.log(`  ${m.name}: peak ${m.peakKw.toFixed(3)} kW, cost ${m.costEur.toFixed(6)} €`);
      console.error(`wrote ${a.paretoOut}.csv and ${a.paretoOut}.svg`);
    }
    return;
  }
  const r = await solveDay(a.scenario, day, { timeLimitSec: a.timeLimit });
  if (a.lp) {
    await writeFile(a.lp, buildDayModel(a.scenario, day).model.toLp(title));
    if (!a.json) console.error(`wrote ${a.lp}`);
  }
  if (a.plot) {
    const actions = scheduleActions(a.scenario, r.schedule);
    const { log } = await playDay(makeEnv(a.scenario), { name: 'milp', act: (_o, info) => actions[info.slot] }, day);
    const { dayPlotSvg, writePlot } = await import('../training/plot.js');
    await writePlot(await dayPlotSvg(log, a.scenario, `${title}: MILP optimum`), a.plot);
    if (!a.json) console.error(`wrote ${a.plot}`);
  }
  console.log(a.json ? JSON.stringify(baselineJson(r), null, 2) : baselineReport(a.scenario, r, title));
}
