import { describe, expect, it } from 'vitest';
import { checkParallelEnv, CommunityEnv, CommunityVectorEnv, flexShareCaps, planCaps, type CapPolicy, type Community } from '../../community/index.js';
import { SLOTS } from '../../env/index.js';
import { apartments } from './fixtures.js';

const tightCommunity = (feederKw = 5): Community => apartments(feederKw);

const caps = (policy: CapPolicy, slot: number, forced: number[], flex: number[], feederKw: number) => {
  const out = new Float64Array(forced.length);
  policy(slot, Float64Array.from(forced), Float64Array.from(flex), feederKw, out);
  return Array.from(out, (x) => +x.toFixed(12));
};

/** A plan of one slot's nets for every slot. */
const flat = (nets: number[]) => nets.map((x) => new Float64Array(SLOTS).fill(x));

describe('feeder cap policies', () => {
  it('flexibility shares: H = 5 − 3 = 2 split 2 : 0 : 2, equal shares without flex', () => {
    expect(caps(flexShareCaps, 0, [1, 2, 0], [2, 0, 2], 5)).toEqual([2, 2, 1]);
    expect(caps(flexShareCaps, 0, [1, 2, 0], [0, 0, 0], 6)).toEqual([2, 3, 1]);
  });

  it('the plan: each home its planned net, the leftover by flexibility', () => {
    // Σ plan = 4, 1 kW left, split 2 : 0 : 2.
    expect(caps(planCaps(flat([1.5, 2, 0.5])), 7, [1, 2, 0], [2, 0, 2], 5)).toEqual([2, 2, 1]);
    // A plan at the feeder: the caps are the plan, which the shares (2, 2, 1) would not admit for home 3.
    expect(caps(planCaps(flat([1, 2, 2])), 7, [1, 2, 0], [2, 0, 2], 5)).toEqual([1, 2, 2]);
  });

  it('the plan with a planned discharge: raised to the forced net, the excess over it scaled to fit', () => {
    // max(F, p) = (1, 2, 0.5) sums to 3.5 > 3.4; Σ F = 3, so 0.4 of the 0.5 over F fits: scale 0.8.
    expect(caps(planCaps(flat([-1, 2, 0.5])), 0, [1, 2, 0], [2, 0, 2], 3.4)).toEqual([1, 2, 0.4]);
  });

  it('planCaps refuses a plan of the wrong length or for another number of homes', () => {
    expect(() => planCaps([new Float64Array(95)])).toThrow(/home 0's plan has 95 slots, expected 96/);
    expect(() => caps(planCaps(flat([1, 2])), 0, [1, 2, 0], [0, 0, 0], 5)).toThrow(/a plan for 2 homes, the community has 3/);
  });

  it('the core refuses caps below a forced net or over the feeder, naming the slot and the home', () => {
    const below: CapPolicy = (slot, F, flex, feederKw, out) => {
      flexShareCaps(slot, F, flex, feederKw, out);
      out[1] = F[1] - 0.5;
    };
    const c = tightCommunity();
    expect(() => new CommunityEnv(c, { caps: below }).reset({ seed: 1 })).toThrow(/slot 0: home 1 \("apt-2"\) got a cap of .* kW, below its forced net/);
    const over: CapPolicy = (_slot, F, _flex, feederKw, out) => out.set(F.map((f) => f + feederKw));
    expect(() => new CommunityEnv(c, { caps: over }).reset({ seed: 1 })).toThrow(/slot 0: the caps sum to .* kW, over the 5 kW feeder/);
    expect(() => new CommunityVectorEnv(c, 2, { caps: over }).reset(1)).toThrow(/over the 5 kW feeder/);
  });

  it('another operator passes the env check: the first home takes all the headroom', () => {
    const greedy: CapPolicy = (_slot, F, _flex, feederKw, out) => {
      out.set(F);
      out[0] = feederKw - F.reduce((a, b) => a + b, 0) + F[0];
    };
    const env = new CommunityEnv(tightCommunity(), { caps: greedy });
    expect(checkParallelEnv(env, { days: 1, seed: 3 })).toEqual({ days: 1, steps: 96 });
    // The other homes get only their forced net whenever there is headroom to share.
    env.reset({ seed: 3 });
    const core = env.core;
    expect(core.excessKw).toBe(0);
    for (let i = 1; i < core.n; i++) expect(core.capKw[i]).toBe(core.forcedNetKw[i]);
    expect(core.capKw[0]).toBeCloseTo(5 - core.forcedNetKw[1] - core.forcedNetKw[2], 12);
  });
});
