import { MECHANISMS } from './market.js';
import type { CommunityReport, PolicyReport } from './evaluate.js';

/**
 * The KPI tables of a community evaluation (evaluate.ts), as text for the terminal or as markdown
 * for report.md: one row per policy for the community, one row per home for a policy. Energies
 * and bills are per day; percentages of self-sufficiency and self-consumption; '-' where a ratio
 * has no denominator (a home without PV has no self-consumption). Feeder excess: kWh a day by
 * which loads the controller could not move (forced runs, EV floors) passed the feeder.
 */

const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');

function table(head: string[], rows: string[][], md: boolean): string {
  if (md) return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (r: string[]) => r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** The community's KPIs, one row per policy. */
export function communityTable(r: CommunityReport, md: boolean): string {
  const head = ['policy', 'J €/day', 'gap %', `peak kW (${r.windowHours} h)`, 'max peak kW', 'load factor', 'ramp up kW', 'ramp down kW', 'self-suff. %', 'self-cons. %', 'P2P kWh', `bill € (${r.market})`, 'saving €', 'Gini', 'violations', 'feeder excess kWh'];
  const rows = r.policies.map((p) => {
    const k = p.kpis.community;
    const excess = p.days.reduce((a, d) => a + d.feederExcessKwh, 0) / p.days.length;
    return [p.name, num(p.meanScore, 3), num(p.gapPct, 1), num(k.peakKw, 2), num(k.maxPeakKw, 2), num(k.loadFactor, 3), num(k.rampUpKw, 1), num(k.rampDownKw, 1), pct(k.selfSufficiency), pct(k.selfConsumption), num(k.p2pBoughtKwh, 2), num(k.billEur[p.kpis.market], 3), num(k.savingEur, 3), num(k.giniSavings, 3), String(p.violations), num(excess, 3)];
  });
  return table(head, rows, md);
}

/** A policy's KPIs per home, with each home's bill under every market. */
export function homeTable(r: CommunityReport, p: PolicyReport, md: boolean): string {
  const head = ['home', 'J_i €/day', `peak kW (${r.windowHours} h)`, 'load factor', 'self-suff. %', 'self-cons. %', 'P2P bought kWh', 'P2P sold kWh', ...MECHANISMS.map((m) => `bill € ${m}`), 'saving €'];
  const rows = r.homes.map((id, i) => {
    const k = p.kpis.homes[i];
    return [id, num(p.homeScores[i], 3), num(k.peakKw, 2), num(k.loadFactor, 3), pct(k.selfSufficiency), pct(k.selfConsumption), num(k.p2pBoughtKwh, 2), num(k.p2pSoldKwh, 2), ...MECHANISMS.map((m) => num(k.billEur[m], 3)), num(k.savingEur, 3)];
  });
  return table(head, rows, md);
}

/** The community optimum of each day: status, MIP gap, solve time, value of cooperation. */
export function optimumTable(r: CommunityReport, md: boolean): string {
  const head = ['day', 'method', 'status', 'J* or bound €', 'MIP gap', 'solve s', 'value of cooperation €', 'own optima hold the feeder'];
  const rows = r.optimum.map((o) => [String(o.day), o.method, o.status, num(o.referenceEur, 4), Number.isFinite(o.mipGap) ? o.mipGap.toExponential(1) : '-', num(o.solveSec, 1), num(o.valueOfCooperation, 4), o.ownFeasible ? 'yes' : 'no']);
  return table(head, rows, md);
}

/** The whole report: text (`homes` names the policy whose per-home table is printed) or markdown (every policy's). */
export function formatReport(r: CommunityReport, format: 'md' | 'text', homes?: string): string {
  const md = format === 'md';
  const h = (x: string) => (md ? `## ${x}` : `${x}:`);
  const intro = `${r.days} held-out days of seed ${r.seed}, community ${r.community} (${r.homes.length} homes, market ${r.market}); gap 0 % = ${r.optimum[0]?.method === 'lagrangian' ? 'the Lagrangian bound on J*' : 'the community optimum J*'}, 100 % = every home at ASAP; energies and bills per day, windows of ${r.windowHours} h (${r.windowHours * 4} slots).`;
  const parts = [md ? `# Community evaluation\n\n${intro}` : intro, h('Community'), communityTable(r, md), h(`Reference (${r.optimum[0]?.method === 'lagrangian' ? 'the Lagrangian bound' : 'the community MILP'}, ${r.timeLimitSec} s a solve at most); mean value of cooperation ${num(r.valueOfCooperation, 4)} €/day`), optimumTable(r, md)];
  const shown = md ? r.policies : r.policies.filter((p) => p.name === (homes ?? r.policies.find((q) => q.kind === 'learned')?.name ?? 'optimum'));
  for (const p of shown) parts.push(h(`Homes under ${p.name}`), homeTable(r, p, md));
  return `${parts.join('\n\n')}\n`;
}
