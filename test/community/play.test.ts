import { describe, expect, it } from 'vitest';
import { fitAction, fitCap } from '../../community/index.js';
import { drawDay, HomeCore, isAllowed, loadScenario, type Policy, type StepInfo } from '../../env/index.js';

/**
 * paper-apartment's day 18 played lazily to slot 83 (test/runtime/capnet.test.ts): the washer's
 * 1.54 kW start is optional and the EV's floor forces a charge of at least 1.84 kW (levels 0, 1.84,
 * 3.68 kW). Under a cap 1 kW above the forced net, the start is masked.
 */
const s = loadScenario('paper-apartment');
const WASHER = 1;

function capped(extraKw: number): HomeCore {
  const h = new HomeCore(s);
  h.begin(drawDay(s, 18));
  const act = new Int32Array(h.nComponents);
  while (h.slot < 83) {
    for (let i = 0; i < h.nApp; i++) act[i] = h.mask[2 * i] ? 0 : 1;
    const off = h.maskOffsets[h.nApp];
    let k = 0;
    while (!h.mask[off + k]) k++;
    act[h.nApp] = k;
    h.step(act);
  }
  h.capNet(h.baseKw + h.forcedKw + 1.84 - h.pvKw + extraKw);
  return h;
}

/** The forced runs, the washer, and EV level `ev`. */
function wanted(h: HomeCore, ev: number): Int32Array {
  const a = new Int32Array(h.nComponents);
  for (let i = 0; i < h.nApp; i++) a[i] = h.mask[2 * i] ? 0 : 1;
  a[WASHER] = 1;
  a[h.nApp] = ev;
  return a;
}

describe('fitAction', () => {
  it('a masked start waits and an EV level over the cap drops to the nearest that fits: 2 changes, then jointly allowed', () => {
    const h = capped(1);
    expect(h.ev!.levelsKw[2]).toBe(3.68);
    const a = wanted(h, 2);
    expect(isAllowed(h, a)).toBe(false);
    expect(fitAction(h, a)).toBe(2);
    expect([a[WASHER], a[h.nApp]]).toEqual([0, 1]);
    expect(isAllowed(h, a)).toBe(true);
  });

  it('an allowed action is left as it is', () => {
    const h = capped(1.6);
    const a = wanted(h, 1);
    expect(isAllowed(h, a)).toBe(true);
    expect(fitAction(h, a)).toBe(0);
    expect(Array.from(a)).toEqual(Array.from(wanted(h, 1)));
  });

  it('fitCap tells a stateful policy the action it changed, and nothing when it played its own', () => {
    const told: number[][] = [];
    const inner: Policy = { name: 'plan', act: (_o, info) => wanted(info.home as HomeCore, 2), played: (a) => told.push(Array.from(a)) };
    const p = fitCap(inner);
    const h = capped(1);
    const info: StepInfo = { slot: h.slot, actionMask: h.mask, violations: 0, home: h };
    const a = Array.from(p.act(new Float32Array(0), info));
    expect(told).toEqual([a]);
    expect(a[WASHER]).toBe(0);
    const free = capped(3.5);
    p.act(new Float32Array(0), { ...info, home: free });
    expect(told.length).toBe(1);
  });
});
