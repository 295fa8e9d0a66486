import { describe, expect, it } from 'vitest';
import { Box, Dict, Discrete, MultiDiscrete, Rng } from '../../env/index.js';

describe('spaces', () => {
  it('Discrete samples only allowed values under a mask, uniformly', () => {
    const d = new Discrete(4);
    const rng = new Rng(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[d.sample(rng, new Uint8Array([0, 1, 0, 1]))]++;
    expect(counts[0]).toBe(0);
    expect(counts[2]).toBe(0);
    expect(counts[1]).toBeGreaterThan(1800);
    expect(counts[3]).toBeGreaterThan(1800);
    expect(d.contains(3)).toBe(true);
    expect(d.contains(4)).toBe(false);
    expect(d.contains(1.5)).toBe(false);
    expect(() => d.sample(rng, new Uint8Array(4))).toThrow(/allows nothing/);
  });

  it('MultiDiscrete samples each component inside its own mask', () => {
    const m = new MultiDiscrete([2, 3]);
    const rng = new Rng(2);
    for (let i = 0; i < 200; i++) {
      const a = m.sample(rng, new Uint8Array([0, 1, 1, 0, 1]));
      expect(a[0]).toBe(1);
      expect([0, 2]).toContain(a[1]);
      expect(m.contains(a)).toBe(true);
    }
    expect(m.contains([2, 0])).toBe(false);
    expect(m.contains([1])).toBe(false);
  });

  it('Box checks bounds and shape, and names the first value outside', () => {
    const b = new Box([0, -1], [1, 1]);
    expect(b.contains(new Float32Array([0.5, -1]))).toBe(true);
    expect(b.contains(new Float32Array([1.5, 0]))).toBe(false);
    expect(b.contains([0.5, 0])).toBe(false);
    expect(b.firstOutside(new Float32Array([0.5, 2]))).toEqual({ index: 1, value: 2 });
    const s = b.sample(new Rng(3));
    expect(b.contains(s)).toBe(true);
  });

  it('Dict holds named spaces', () => {
    const d = new Dict({ a: new Discrete(2), b: new Box([0], [1]) });
    const x = d.sample(new Rng(4));
    expect(d.contains(x)).toBe(true);
    expect(d.contains({ a: 5, b: new Float32Array([0]) })).toBe(false);
  });

  it('the same seed gives the same samples', () => {
    const m = new MultiDiscrete([2, 2, 5]);
    const a = Array.from({ length: 20 }, (_, i) => Array.from(m.sample(new Rng(i))));
    const b = Array.from({ length: 20 }, (_, i) => Array.from(m.sample(new Rng(i))));
    expect(b).toEqual(a);
  });
});
