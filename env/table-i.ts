import type { TableIRow } from './scenario.js';

/** Table I of the paper, eq. (2): P_ma = Σ n·k_c·(k_u·P_N), in W. */
export function contractSizingW(rows: TableIRow[]): number {
  return rows.reduce((sum, r) => sum + r.n * r.kc * r.ku * r.nominalW, 0);
}
