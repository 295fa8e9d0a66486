import type { DaySummary } from '../env/index.js';

/**
 * The figures `rescoin evaluate` reports per policy, in a module of their own: `rescoin export`
 * computes the same ones from a report's days.csv, and the CLI loads export at start-up, so this
 * must not pull in the evaluation's MILP and agents.
 */

export interface PolicyStats {
  name: string;
  meanScore: number;
  sdScore: number;
  meanCost: number;
  meanPeakKw: number;
  meanPar: number;
  meanRescoin: number;
  /** Σ(J − J*) / Σ(J_asap − J*), in %. */
  gapPct: number;
  violations: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

/** What policyStats reads of a day's summary (days.csv has these columns too). */
export type DayFigures = Pick<DaySummary, 'score' | 'cost' | 'peakKw' | 'par' | 'rescoin' | 'violations'>;

/**
 * Per policy: mean and spread of J, means of the other figures, violations, and the gap
 * Σ(J − J*) / Σ(J_asap − J*) (DESIGN.md), against the rows of 'milp' and 'asap'. Each policy's rows
 * must come in the same day order.
 */
export function policyStats(names: string[], rows: { policy: string; summary: DayFigures }[]): PolicyStats[] {
  const byPolicy = (name: string) => rows.filter((r) => r.policy === name).map((r) => r.summary);
  const jStar = byPolicy('milp').map((x) => x.score);
  const jAsap = byPolicy('asap').map((x) => x.score);
  const denom = jAsap.reduce((a, j, k) => a + (j - jStar[k]), 0);
  return names.map((name) => {
    const xs = byPolicy(name);
    const num = xs.reduce((a, x, k) => a + (x.score - jStar[k]), 0);
    return {
      name,
      meanScore: mean(xs.map((x) => x.score)),
      sdScore: sd(xs.map((x) => x.score)),
      meanCost: mean(xs.map((x) => x.cost)),
      meanPeakKw: mean(xs.map((x) => x.peakKw)),
      meanPar: mean(xs.map((x) => x.par)),
      meanRescoin: mean(xs.map((x) => x.rescoin)),
      gapPct: denom > 0 ? (100 * num) / denom : 0,
      violations: xs.reduce((a, x) => a + x.violations, 0),
    };
  });
}
