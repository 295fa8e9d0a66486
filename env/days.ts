import { daySeed } from './rng.js';

/**
 * The day conventions, in one place. Every day a run or an evaluation plays is `daySeed(K, d)` for
 * a run seed K and a day index d (rng.ts). Three disjoint sets keep training, model selection and
 * the final score apart:
 * | set | day | why it is disjoint |
 * | --- | --- | --- |
 * | training | daySeed(runSeed, e), episode e = 0, 1, … | run seeds are small integers |
 * | validation | daySeed(runSeed, VALIDATION_DAY_OFFSET + k) | no run plays 2·10⁹ episodes |
 * | held-out | daySeed(HELD_OUT_SEED, d) | no run is trained with seed 100000 (evaluate refuses one) |
 */

/** The seed of the held-out days on which every report and benchmark scores policies. */
export const HELD_OUT_SEED = 100000;

/** Validation day k of a run is day VALIDATION_DAY_OFFSET + k of its seed. */
export const VALIDATION_DAY_OFFSET = 2_000_000_000;

/** The seed of training episode `episode` of run seed `runSeed`. */
export function trainingDay(runSeed: number, episode: number): number {
  return daySeed(runSeed, episode);
}

/** The seed of validation day `k` of run seed `runSeed`. */
export function validationDay(runSeed: number, k: number): number {
  return daySeed(runSeed, VALIDATION_DAY_OFFSET + k);
}

/** The seed of held-out day `d` (of HELD_OUT_SEED unless another evaluation seed is given). */
export function heldOutDay(d: number, seed = HELD_OUT_SEED): number {
  return daySeed(seed, d);
}
