/**
 * The two-sample Kolmogorov–Smirnov distance D = sup_x |F_a(x) − F_b(x)| of two empirical CDFs.
 * Slots are whole numbers, so ties are the rule: both CDFs step past every copy of a value before
 * they are compared, else a tie would count as a gap.
 */
export function ksDistance(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return NaN;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}
