import { z } from 'zod';

/**
 * # Habit distributions
 *
 * Every random habit (a release slot, the EV's departure and return, the trip's energy) is one of
 *
 * | form | JSON | draws |
 * | --- | --- | --- |
 * | clipped normal | `{ "mean": 30, "sd": 4, "min": 24, "max": 36 }` | mean + sd·z, cut to [min, max] |
 * | empirical | `{ "histogram": { "start": 24, "width": 1, "weekday": [...], "weekend": [...] } }` | the histogram of the day's type |
 *
 * A histogram's bin k covers [start + k·width, start + (k + 1)·width); its weights are counts or
 * probabilities (normalised here, at least one > 0); `weekend` defaults to `weekday`. A slot
 * quantity (integer start and width) draws whole slots, a kWh quantity a value uniform in its bin.
 *
 * Both forms draw from one standard-normal number z (the normal: directly; a histogram: by its
 * inverse CDF at Φ(z)), so a day consumes the same random numbers whatever form its habits take,
 * and one habit's form never shifts another's draws.
 */

const nonNeg = z.number().min(0);

export const histogramSchema = z
  .object({
    start: z.number(),
    width: z.number().positive(),
    weekday: z.array(nonNeg).min(1),
    weekend: z.array(nonNeg).min(1).optional(),
  })
  .superRefine((h, ctx) => {
    for (const key of ['weekday', 'weekend'] as const) {
      const w = h[key];
      if (w && !(w.reduce((a, b) => a + b, 0) > 0)) ctx.addIssue({ code: 'custom', path: [key], message: 'weights must not all be 0', input: w });
    }
  });

export const normalSchema = z.object({ mean: z.number(), sd: nonNeg, min: z.number(), max: z.number() });

export const distributionSchema = z.union([normalSchema, z.object({ histogram: histogramSchema })]);

export type Histogram = z.output<typeof histogramSchema>;
export type NormalHabit = z.output<typeof normalSchema>;
export type Distribution = z.output<typeof distributionSchema>;

export const isHistogram = (d: Distribution): d is { histogram: Histogram } => 'histogram' in d;

/** Φ(z), the standard normal CDF (Abramowitz & Stegun 7.1.26 through erf; error < 1.5e-7, ample for binning). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

const weightsOf = (h: Histogram, weekend: boolean): number[] => (weekend && h.weekend ? h.weekend : h.weekday);

/** The value at cumulative probability u ∈ [0, 1) of a histogram; `whole`: slots, not kWh. */
export function histogramQuantile(h: Histogram, weekend: boolean, u: number, whole: boolean): number {
  const w = weightsOf(h, weekend);
  const total = w.reduce((a, b) => a + b, 0);
  let target = Math.min(Math.max(u, 0), 1) * total;
  let k = 0;
  // The last bin with weight takes u = 1 and any rounding left over.
  const last = w.reduce((best, x, i) => (x > 0 ? i : best), 0);
  while (k < last && (w[k] === 0 || target >= w[k])) {
    target -= w[k];
    k++;
  }
  const frac = Math.min(Math.max(target / w[k], 0), 1);
  if (!whole) return h.start + (k + frac) * h.width;
  return h.start + k * h.width + Math.min(h.width - 1, Math.floor(frac * h.width));
}

/** A habit's value for a standard-normal draw z (see the table above). */
export function drawHabit(d: Distribution, weekend: boolean, z: number, whole: boolean): number {
  if (isHistogram(d)) return histogramQuantile(d.histogram, weekend, normalCdf(z), whole);
  const x = d.mean + d.sd * z;
  return Math.min(d.max, Math.max(d.min, whole ? Math.round(x) : x));
}

/** The mean of a habit on a day of the given type (a normal's unclipped mean, as the rules have always used). */
export function habitMean(d: Distribution, weekend: boolean): number {
  if (!isHistogram(d)) return d.mean;
  const h = d.histogram;
  const w = weightsOf(h, weekend);
  const total = w.reduce((a, b) => a + b, 0);
  return w.reduce((sum, x, k) => sum + x * (h.start + (k + 0.5) * h.width), 0) / total;
}

/** The smallest and largest value a habit can draw on any day. */
export function habitSupport(d: Distribution, whole: boolean): [number, number] {
  if (!isHistogram(d)) return [d.min, d.max];
  const h = d.histogram;
  let lo = Infinity;
  let hi = -Infinity;
  for (const w of [h.weekday, h.weekend ?? h.weekday])
    w.forEach((x, k) => {
      if (x <= 0) return;
      lo = Math.min(lo, h.start + k * h.width);
      hi = Math.max(hi, h.start + (k + 1) * h.width - (whole ? 1 : 0));
    });
  return [lo, hi];
}
