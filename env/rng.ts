import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

type Generator = ReturnType<typeof xoroshiro128plus>;

/**
 * The only source of randomness in rescoin: a seeded xoroshiro128+ (pure-rand). Same seed, same
 * sequence, on every platform, because pure-rand works on 32-bit integers only.
 */
export class Rng {
  private readonly gen: Generator;
  constructor(seed: number, state?: readonly number[]) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.gen = state ? xoroshiro128plusFromState(state) : xoroshiro128plus(seed | 0);
  }
  /** The generator's state, to checkpoint it; `Rng.fromState` continues the same sequence. */
  state(): number[] {
    return [...this.gen.getState()];
  }
  static fromState(state: readonly number[]): Rng {
    return new Rng(0, state);
  }
  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }
  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi);
  }
  /** Standard normal (Box-Muller; one draw per call keeps the sequence simple to reason about). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  bernoulli(p: number): boolean {
    return this.float() < p;
  }
}

/** 32-bit integer mix (the splitmix32 finaliser) used to derive independent seeds. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The seed that `reset` receives for day `day` of run seed `seed`:
 *   daySeed(K, d) = mix32(mix32(K) XOR d)
 * Day d of seed K is the same day whatever the number of days played, and different (K, d) pairs
 * give unrelated days. Training and evaluation use disjoint K ranges.
 */
export function daySeed(seed: number, day: number): number {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(day) || day < 0) throw new Error(`day must be a non-negative integer, got ${day}`);
  return mix32((mix32(seed) ^ day) >>> 0);
}
