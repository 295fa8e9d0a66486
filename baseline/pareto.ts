import type { Day, Scenario } from '../env/index.js';
import { solveDay, type MilpResult } from './milp.js';
import type { SolveOptions } from './lp.js';

/** One point of the cost–peak front: the cheapest day whose import never exceeds `capKw`. */
export interface ParetoPoint {
  capKw: number;
  peakKw: number;
  /** Energy cost Σ (C·imp − g·exp)·Δt, €. */
  costEur: number;
  /** The env's score J of that schedule, €. */
  score: number;
  status: MilpResult['status'];
}

/**
 * The ε-constraint front of the paper's two objectives (F.O.1 energy cost against the peak): the
 * lowest possible peak, the peak of the cheapest day, and `n` caps evenly between them, each solved
 * for the least cost under its cap.
 */
export async function paretoFront(s: Scenario, day: Day, n: number, opts: SolveOptions = {}): Promise<ParetoPoint[]> {
  if (!Number.isInteger(n) || n < 2) throw new Error(`the Pareto front needs at least 2 points, got ${n}`);
  const lowest = await solveDay(s, day, { ...opts, objective: 'peak' });
  const cheapest = await solveDay(s, day, { ...opts, objective: 'cost' });
  const lo = lowest.objective;
  const hi = Math.max(lo, cheapest.parts.peakKw);
  const points: ParetoPoint[] = [];
  for (let k = 0; k < n; k++) {
    const capKw = lo + ((hi - lo) * k) / (n - 1);
    // A hair of slack keeps the cap at the lowest peak feasible despite solver tolerances.
    const r = k === n - 1 ? cheapest : await solveDay(s, day, { ...opts, objective: 'cost', peakCapKw: capKw + 1e-7 });
    points.push({ capKw, peakKw: r.parts.peakKw, costEur: r.parts.cost, score: r.parts.score, status: r.status });
  }
  return points;
}
