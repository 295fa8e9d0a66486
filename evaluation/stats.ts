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
  /** Σ(J − LB) / Σ(J_asap − LB), in %, with LB the non-anticipative bound of each day; null without the bound. */
  gapToBoundPct: number | null;
  /** Median compute per decision, ms (the MILP: its solve time per day / 96); null when not measured. */
  decisionMs: number | null;
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
  // num / den first: a policy that is its own reference (asap, the bound) gets exactly 100 % or 0 %.
  return den > 0 ? 100 * (num / den) : 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

/** What policyStats reads of a day's summary. */
export type DayFigures = Pick<DaySummary, 'score' | 'cost' | 'peakKw' | 'par' | 'rescoin' | 'violations'>;

/** The median of a list of numbers (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What policyStats adds when it has them: the bound of each day, and each policy's decision times (ms). */
export interface StatsExtras {
  bound?: readonly number[];
  decisionMs?: ReadonlyMap<string, readonly number[]>;
}

/**
 * Per policy: mean and spread of J, means of the other figures, violations, the gap against the
 * rows of 'milp' and 'asap', the gap to the bound when `extras.bound` holds one per day, and the
 * median decision time. Each policy's rows must come in the same day order.
 */
export function policyStats(names: string[], rows: { policy: string; summary: DayFigures }[], extras: StatsExtras = {}): PolicyStats[] {
  const byPolicy = (name: string) => rows.filter((r) => r.policy === name).map((r) => r.summary);
  const jStar = byPolicy('milp').map((x) => x.score);
  const jAsap = byPolicy('asap').map((x) => x.score);
  const times = (name: string) => extras.decisionMs?.get(name);
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
      gapToBoundPct: extras.bound ? gapPct(scores, extras.bound, jAsap) : null,
      decisionMs: times(name)?.length ? median(times(name)!) : null,
      violations: xs.reduce((a, x) => a + x.violations, 0),
    };
  });
}
