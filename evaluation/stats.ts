import type { DaySummary } from '../env/index.js';

/**
 * The figures `rescoin evaluate` reports per policy, and the gap, in a module of their own: export
 * and the benchmarks use them, and the CLI loads export at start-up, so this must not pull in the
 * evaluation's MILP and agents.
 */

export interface PolicyStats {
  name: string;
  meanScore: number;
  sdScore: number;
  meanCost: number;
  meanPeakKw: number;
  meanPar: number;
  meanRescoin: number;
  /** Σ(J − J*) / Σ(J_asap − J*), in % (gapPct). */
  gapPct: number;
  violations: number;
}

/**
 * The gap of a policy over a set of days, in %: Σ_d(J_d − R_d) / Σ_d(J_asap,d − R_d) (DESIGN.md), with
 * R the MILP optimum J* (or the non-anticipative bound, for the gap to the bound). 0 % is R, 100 % no
 * management. When no management already reaches R on the days taken together (Σ(J_asap − R) ≤ 0)
 * there is nothing to close: the gap is 0 %.
 */
export function gapPct(scores: readonly number[], reference: readonly number[], asap: readonly number[]): number {
  if (reference.length !== scores.length || asap.length !== scores.length)
    throw new Error(`gapPct: expected one score per day in each list, got ${scores.length} policy scores, ${reference.length} reference scores and ${asap.length} asap scores`);
  let num = 0;
  let den = 0;
  for (let d = 0; d < scores.length; d++) {
    num += scores[d] - reference[d];
    den += asap[d] - reference[d];
  }
  return den > 0 ? (100 * num) / den : 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

/** What policyStats reads of a day's summary. */
export type DayFigures = Pick<DaySummary, 'score' | 'cost' | 'peakKw' | 'par' | 'rescoin' | 'violations'>;

/**
 * Per policy: mean and spread of J, means of the other figures, violations, and the gap against the
 * rows of 'milp' and 'asap'. Each policy's rows must come in the same day order.
 */
export function policyStats(names: string[], rows: { policy: string; summary: DayFigures }[]): PolicyStats[] {
  const byPolicy = (name: string) => rows.filter((r) => r.policy === name).map((r) => r.summary);
  const jStar = byPolicy('milp').map((x) => x.score);
  const jAsap = byPolicy('asap').map((x) => x.score);
  return names.map((name) => {
    const xs = byPolicy(name);
    const scores = xs.map((x) => x.score);
    return {
      name,
      meanScore: mean(scores),
      sdScore: sd(scores),
      meanCost: mean(xs.map((x) => x.cost)),
      meanPeakKw: mean(xs.map((x) => x.peakKw)),
      meanPar: mean(xs.map((x) => x.par)),
      meanRescoin: mean(xs.map((x) => x.rescoin)),
      gapPct: gapPct(scores, jStar, jAsap),
      violations: xs.reduce((a, x) => a + x.violations, 0),
    };
  });
}
