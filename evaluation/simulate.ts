import { daySeed, makeEnv, playDay, type DayLog, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, cheapestPolicy, milpPolicy, mpcPolicy, prechargePolicy, type MpcOptions } from '../baseline/index.js';

/** The built-in policies `simulate` knows, by name. */
export const BUILTIN_POLICIES = ['asap', 'cheapest', 'precharge', 'mpc', 'mpc-scenarios', 'milp'] as const;
export type BuiltinPolicyName = (typeof BUILTIN_POLICIES)[number];

export function builtinPolicy(name: BuiltinPolicyName, scenario: Scenario, timeLimitSec = 60, mpc: MpcOptions = {}): Policy {
  switch (name) {
    case 'asap':
      return asapPolicy();
    case 'cheapest':
      return cheapestPolicy(scenario);
    case 'precharge':
      return prechargePolicy(scenario);
    case 'mpc':
      return mpcPolicy(scenario, { ...mpc, forecast: 'expected' });
    case 'mpc-scenarios':
      return mpcPolicy(scenario, { ...mpc, forecast: 'scenarios' });
    case 'milp':
      return milpPolicy(scenario, { timeLimitSec });
  }
}

/** One row of `rescoin simulate --json`. */
export interface DayRow {
  day: number;
  cost: number;
  importKwh: number;
  exportKwh: number;
  peakKw: number;
  par: number;
  rescoin: number;
  score: number;
  violations: number;
}

export interface SimulateResult {
  policy: string;
  rows: DayRow[];
  mean: Omit<DayRow, 'day'>;
  /** Logs of the days asked for in `keepDays`. */
  logs: Map<number, DayLog>;
}

/** Play days 0 … days − 1 of run seed `seed` (day d is drawn from daySeed(seed, d)). */
export async function simulate(scenario: Scenario, policy: Policy, days: number, seed: number, keepDays: number[] = []): Promise<SimulateResult> {
  const env = makeEnv(scenario);
  const rows: DayRow[] = [];
  const logs = new Map<number, DayLog>();
  for (let d = 0; d < days; d++) {
    const { summary, log } = await playDay(env, policy, daySeed(seed, d));
    rows.push({
      day: d,
      cost: summary.cost,
      importKwh: summary.importKwh,
      exportKwh: summary.exportKwh,
      peakKw: summary.peakKw,
      par: summary.par,
      rescoin: summary.rescoin,
      score: summary.score,
      violations: summary.violations,
    });
    if (keepDays.includes(d)) logs.set(d, structuredClone(log));
  }
  return { policy: policy.name, rows, mean: meanRow(rows), logs };
}

export function meanRow(rows: DayRow[]): Omit<DayRow, 'day'> {
  const keys = ['cost', 'importKwh', 'exportKwh', 'peakKw', 'par', 'rescoin', 'score', 'violations'] as const;
  const mean = Object.fromEntries(keys.map((k) => [k, rows.reduce((s, r) => s + r[k], 0) / Math.max(1, rows.length)]));
  return mean as Omit<DayRow, 'day'>;
}

const COLUMNS: [keyof DayRow, string, number][] = [
  ['day', 'day', 0],
  ['cost', 'cost €', 4],
  ['importKwh', 'import kWh', 2],
  ['exportKwh', 'export kWh', 2],
  ['peakKw', 'peak kW', 3],
  ['par', 'PAR', 2],
  ['rescoin', 'RSC', 2],
  ['score', 'score J €', 4],
  ['violations', 'violations', 0],
];

/** A plain-text table of the days and their mean. */
export function formatTable(result: SimulateResult): string {
  const cells = (r: Partial<DayRow>, label?: string) => COLUMNS.map(([k, , digits]) => (k === 'day' && label ? label : (r[k] as number).toFixed(k === 'violations' && label ? 2 : digits)));
  const body = [COLUMNS.map(([, h]) => h), ...result.rows.map((r) => cells(r)), cells(result.mean, 'mean')];
  const widths = COLUMNS.map((_, c) => Math.max(...body.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padStart(widths[c])).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(body[0]), rule, ...body.slice(1, -1).map(line), rule, line(body[body.length - 1])].join('\n');
}
