import { describe, expect, it } from 'vitest';
import { ksDistance } from '../../habits/ks.js';

describe('ksDistance', () => {
  it('is 0 for the same sample and 1 for disjoint ones', () => {
    expect(ksDistance([3, 1, 2], [1, 2, 3])).toBe(0);
    expect(ksDistance([1, 2], [5, 6, 7])).toBe(1);
  });

  it('matches hand-computed distances', () => {
    // a = {1,2,3,4}, b = {3,4,5,6}: at x = 2, F_a = 2/4 and F_b = 0, the largest gap: 0.5.
    expect(ksDistance([1, 2, 3, 4], [3, 4, 5, 6])).toBeCloseTo(0.5, 12);
    // a = {1,1,2}, b = {1,2,2}: at x = 1, F_a = 2/3, F_b = 1/3: 1/3 (ties stepped together).
    expect(ksDistance([1, 1, 2], [1, 2, 2])).toBeCloseTo(1 / 3, 12);
    // a = {0}, b = {0,0,0,1}: at x = 0, F_a = 1, F_b = 3/4: 0.25.
    expect(ksDistance([0], [0, 0, 0, 1])).toBeCloseTo(0.25, 12);
    // a = {1,2,3}, b = {1.5,2.5,3.5,4.5,5.5}: gaps 1/3, 1/3−1/5, 2/3−1/5, 2/3−2/5, 1−2/5 = 0.6.
    expect(ksDistance([1, 2, 3], [1.5, 2.5, 3.5, 4.5, 5.5])).toBeCloseTo(0.6, 12);
  });

  it('is symmetric and NaN without data', () => {
    expect(ksDistance([3, 4, 5, 6], [1, 2, 3, 4])).toBeCloseTo(0.5, 12);
    expect(ksDistance([], [1])).toBeNaN();
  });
});
