import { slotTime, SLOTS, type Scenario } from '../env/index.js';
import type { MilpResult } from '../baseline/index.js';

/** The exact optimum of one day as text and as JSON (`rescoin baseline`, cli/baseline.ts). */

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
