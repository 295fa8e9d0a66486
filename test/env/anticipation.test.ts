import { describe, expect, it } from 'vitest';
import { drawDay, HomeEnv, listScenarios, loadScenario, Rng, sampleAllowed, SLOTS, type Day, type Scenario } from '../../env/index.js';
import { redrawAfter } from '../helpers.js';

/**
 * Non-anticipativity (docs/environment.md, "Information set"): two days that agree up to slot t and
 * differ after it give the same observations and masks up to t, whatever the policy plays.
 */

/** The observations and masks of slots 0..t when a seeded random policy plays the day. */
function play(s: Scenario, day: Day, t: number, seed: number): { obs: number[][]; masks: number[][] } {
  const env = new HomeEnv(s);
  const rng = new Rng(seed);
  let r = env.reset({ options: { day } });
  const obs = [Array.from(r.observation)];
  const masks = [Array.from(r.info.actionMask)];
  const act = new Int32Array(env.nComponents);
  for (let k = 0; k < t; k++) {
    const step = env.step(sampleAllowed(r.info.home, rng, act));
    r = step;
    obs.push(Array.from(step.observation));
    masks.push(Array.from(step.info.actionMask));
  }
  return { obs, masks };
}

describe('non-anticipativity', () => {
  for (const id of listScenarios()) {
    it(`${id}: days that agree up to t give the same observations and masks up to t`, () => {
      const s = loadScenario(id);
      const rng = new Rng(12);
      let differed = 0;
      for (let n = 0; n < 60; n++) {
        const a = drawDay(s, 5000 + n);
        const t = rng.int(0, SLOTS - 1);
        const b = redrawAfter(s, a, t, rng);
        const pa = play(s, a, t, n);
        const pb = play(s, b, t, n);
        for (let k = 0; k <= t; k++) {
          expect(pb.obs[k], `day ${a.seed}, t=${t}, observation of slot ${k}`).toEqual(pa.obs[k]);
          expect(pb.masks[k], `day ${a.seed}, t=${t}, mask of slot ${k}`).toEqual(pa.masks[k]);
        }
        if (a.ev?.trip && b.ev && (a.ev.tripKwh !== b.ev.tripKwh || a.ev.arrival !== b.ev.arrival)) differed++;
        if (s.baseDays.length > 1 && t < SLOTS - 1) expect(b.baseKw.slice(t + 1)).not.toEqual(a.baseKw.slice(t + 1));
      }
      // The property is about days that do differ: most drawn pairs must differ in the trip.
      if (s.ev) expect(differed).toBeGreaterThan(20);
    });
  }
});
