import type { Policy, Scenario, StepInfo } from '../env/index.js';

/** Options of the MPC baseline (docs/milp.md, "MPC"). */
export interface MpcOptions {
  /** How the trip is forecast: 'expected' (its mean, default) or 'scenarios' (`samples` trips drawn from the habits, sharing the slot's decision). */
  forecast?: 'expected' | 'scenarios';
  /** Trips drawn per re-solve with forecast 'scenarios' (default 8). */
  samples?: number;
  /** Re-solve at least every this many slots even when nothing changed (default 8: 2 h). */
  replanEvery?: number;
  /** Seed of the trip samples (default 1). */
  seed?: number;
  /** Time limit of one re-solve, s (default 10). */
  timeLimitSec?: number;
}

/** WIP stub (interface only): plays idle/asap until the MPC lands. */
export function mpcPolicy(_s: Scenario, opts: MpcOptions = {}): Policy & { solves: number } {
  const policy = {
    name: opts.forecast === 'scenarios' ? 'mpc-scenarios' : 'mpc',
    solves: 0,
    act(_obs: Float32Array, info: StepInfo): ArrayLike<number> {
      const h = info.home;
      const a = new Int32Array(h.nvec.length);
      for (let c = 0; c < a.length; c++) a[c] = h.mask[h.maskOffsets[c]] ? 0 : 1;
      return a;
    },
  };
  return policy;
}
