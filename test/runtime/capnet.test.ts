import { describe, expect, it } from 'vitest';
import { drawDay, evReserveKw, fitUnderLimit, HomeCore, isAllowed, loadScenario, type Scenario } from '../../env/index.js';

/**
 * capNet beside a charge the EV's floor forces. On paper-apartment's day 18, played lazily (every
 * appliance waits while it may, the EV takes its lowest allowed level), slot 83 has the washing
 * machine's 1.54 kW start optional while the floor forces the EV's 1.84 kW charge (idle masked).
 */
function lazyTo(s: Scenario, seed: number, slot: number): HomeCore {
  const h = new HomeCore(s);
  h.begin(drawDay(s, seed));
  const act = new Int32Array(h.nComponents);
  while (h.slot < slot) {
    for (let i = 0; i < h.nApp; i++) act[i] = h.mask[2 * i] ? 0 : 1;
    const off = h.maskOffsets[h.nApp];
    let k = 0;
    while (!h.mask[off + k]) k++;
    act[h.nApp] = k;
    h.step(act);
  }
  return h;
}

/** The forced runs, appliance `extra` and the EV's first charge level (1.84 kW). */
function forcedPlus(h: HomeCore, extra: number): Int32Array {
  const act = new Int32Array(h.nComponents);
  for (let i = 0; i < h.nApp; i++) act[i] = h.mask[2 * i] ? 0 : 1;
  act[extra] = 1;
  act[h.nApp] = 1;
  return act;
}

describe('capNet keeps room for a forced EV charge', () => {
  const s = loadScenario('paper-apartment');
  const WASHER = 1;

  it('the state: the washer may start or wait, the EV must charge at 1.84 kW', () => {
    const h = lazyTo(s, 18, 83);
    expect([h.mask[2 * WASHER], h.mask[2 * WASHER + 1]]).toEqual([1, 1]);
    expect(h.powerKw[WASHER]).toBe(1.54);
    expect(evReserveKw(h)).toBe(1.84);
  });

  it('a cap 1 kW above the forced net masks the 1.54 kW start, and a run asked for anyway waits (one fallback), without a throw', () => {
    const h = lazyTo(s, 18, 83);
    const forcedNet = h.baseKw + h.forcedKw + 1.84 - h.pvKw;
    h.capNet(forcedNet + 1);
    expect(h.limitKw).toBeCloseTo(forcedNet + 1, 12);
    expect(h.mask[2 * WASHER + 1]).toBe(0);
    const act = forcedPlus(h, WASHER);
    expect(isAllowed(h, act)).toBe(false);
    const a = h.apply(act);
    expect(a.components[WASHER]).toBe(0);
    expect(a.evKw).toBe(1.84);
    expect(a.violations).toBe(1);
    expect(a.importKw).toBeLessThanOrEqual(forcedNet + 1 + 1e-9);
  });

  it('a cap with room for both lets the washer start beside the charge, without a fallback', () => {
    const h = lazyTo(s, 18, 83);
    const forcedNet = h.baseKw + h.forcedKw + 1.84 - h.pvKw;
    h.capNet(forcedNet + 1.6);
    expect(h.mask[2 * WASHER + 1]).toBe(1);
    const act = forcedPlus(h, WASHER);
    expect(isAllowed(h, act)).toBe(true);
    const a = h.apply(act);
    expect([a.components[WASHER], a.evKw, a.violations]).toEqual([1, 1.84, 0]);
    expect(a.importKw).toBeCloseTo(forcedNet + 1.54, 12);
  });

  it('fitUnderLimit keeps the same room: under a limit it lets an optional run wait that does not fit beside the forced charge', () => {
    const h = lazyTo(s, 18, 83);
    const forcedNet = h.baseKw + h.forcedKw + 1.84 - h.pvKw;
    // The view's limit alone (no capNet masking): the washer fits beside the forced load, not beside the charge too.
    h.limitKw = forcedNet + 1;
    const out = forcedPlus(h, WASHER);
    let appKw = 0;
    for (let i = 0; i < h.nApp; i++) if (out[i]) appKw += h.powerKw[i];
    expect(fitUnderLimit(h, out, appKw)).toBe(1.54);
    expect(out[WASHER]).toBe(0);
    // Under the contract it changes nothing: no cap, no reserve.
    h.limitKw = h.contractKw;
    const free = forcedPlus(h, WASHER);
    expect(fitUnderLimit(h, free, appKw)).toBe(0);
  });
});
