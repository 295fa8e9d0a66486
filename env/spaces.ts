import type { Rng } from './rng.js';

/** Gymnasium's spaces, in TypeScript. `sample(rng)` draws from a seeded Rng; `contains(x)` checks. */
export interface Space<T> {
  readonly kind: string;
  sample(rng: Rng, mask?: Uint8Array): T;
  contains(x: unknown): boolean;
}

const isIntArray = (x: unknown): x is ArrayLike<number> =>
  (Array.isArray(x) || x instanceof Int32Array || x instanceof Uint8Array || x instanceof Int16Array || x instanceof Float64Array) &&
  Array.from(x as ArrayLike<number>).every((v) => Number.isInteger(v));

/** {start, …, start + n − 1}. */
export class Discrete implements Space<number> {
  readonly kind = 'Discrete';
  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Discrete: n must be a positive integer, got ${n}`);
  }
  /** With a mask (length n, 1 = allowed), draws uniformly among the allowed values. */
  sample(rng: Rng, mask?: Uint8Array): number {
    if (!mask) return this.start + rng.int(0, this.n - 1);
    if (mask.length !== this.n) throw new Error(`Discrete.sample: mask has length ${mask.length}, expected ${this.n}`);
    let count = 0;
    for (let i = 0; i < this.n; i++) count += mask[i] ? 1 : 0;
    if (count === 0) throw new Error('Discrete.sample: the mask allows nothing');
    let pick = rng.int(0, count - 1);
    for (let i = 0; i < this.n; i++) if (mask[i] && pick-- === 0) return this.start + i;
    throw new Error('unreachable');
  }
  contains(x: unknown): boolean {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }
}

/** A vector of independent Discrete components; component c takes values 0 … nvec[c] − 1. */
export class MultiDiscrete implements Space<Int32Array> {
  readonly kind = 'MultiDiscrete';
  readonly nvec: Int32Array;
  constructor(nvec: ArrayLike<number>) {
    this.nvec = Int32Array.from(nvec);
    this.nvec.forEach((n, c) => {
      if (n < 1) throw new Error(`MultiDiscrete: nvec[${c}] must be ≥ 1, got ${n}`);
    });
  }
  /** With a mask (the per-component masks concatenated), each component draws among its allowed values. */
  sample(rng: Rng, mask?: Uint8Array): Int32Array {
    const out = new Int32Array(this.nvec.length);
    let off = 0;
    for (let c = 0; c < this.nvec.length; c++) {
      const n = this.nvec[c];
      out[c] = mask ? new Discrete(n).sample(rng, mask.subarray(off, off + n)) : rng.int(0, n - 1);
      off += n;
    }
    if (mask && off !== mask.length) throw new Error(`MultiDiscrete.sample: mask has length ${mask.length}, expected ${off}`);
    return out;
  }
  contains(x: unknown): boolean {
    if (!isIntArray(x) || x.length !== this.nvec.length) return false;
    for (let c = 0; c < x.length; c++) if (x[c] < 0 || x[c] >= this.nvec[c]) return false;
    return true;
  }
}

/** A box [low, high] of float32 values with a fixed shape. */
export class Box implements Space<Float32Array> {
  readonly kind = 'Box';
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly shape: number[];
  constructor(low: ArrayLike<number>, high: ArrayLike<number>) {
    if (low.length !== high.length) throw new Error(`Box: low has ${low.length} values, high ${high.length}`);
    this.low = Float32Array.from(low);
    this.high = Float32Array.from(high);
    this.shape = [low.length];
    for (let i = 0; i < low.length; i++) if (!(this.low[i] <= this.high[i])) throw new Error(`Box: low[${i}] > high[${i}]`);
  }
  sample(rng: Rng): Float32Array {
    const out = new Float32Array(this.low.length);
    for (let i = 0; i < out.length; i++) out[i] = this.low[i] + (this.high[i] - this.low[i]) * rng.float();
    return out;
  }
  contains(x: unknown): boolean {
    if (!(x instanceof Float32Array) || x.length !== this.low.length) return false;
    for (let i = 0; i < x.length; i++) if (!(x[i] >= this.low[i] && x[i] <= this.high[i])) return false;
    return true;
  }
  /** Index and value of the first element outside the box, or null. */
  firstOutside(x: Float32Array): { index: number; value: number } | null {
    for (let i = 0; i < x.length; i++) if (!(x[i] >= this.low[i] && x[i] <= this.high[i])) return { index: i, value: x[i] };
    return null;
  }
}

/** A record of named spaces. */
export class Dict implements Space<Record<string, unknown>> {
  readonly kind = 'Dict';
  constructor(readonly spaces: Record<string, Space<unknown>>) {}
  sample(rng: Rng): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.spaces).sort()) out[key] = this.spaces[key].sample(rng);
    return out;
  }
  contains(x: unknown): boolean {
    if (typeof x !== 'object' || x === null) return false;
    const rec = x as Record<string, unknown>;
    const keys = Object.keys(this.spaces);
    if (Object.keys(rec).length !== keys.length) return false;
    return keys.every((k) => k in rec && this.spaces[k].contains(rec[k]));
  }
}
