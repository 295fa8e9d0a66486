import { describe, expect, it } from 'vitest';
import { drawDay, evFloors, evHeadroom, HomeEnv, loadScenario, Rng, sampleAllowed, SLOTS, type Day, type Scenario } from '../../env/index.js';

/**
 * Non-anticipativity (docs/environment.md, "Information set"): two days that agree up to slot t and
 * differ after it give the same observations and masks up to t, whatever the policy plays.
 */

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Day `a` with its future after slot t redrawn: every request released after t (another release
 * after t, or none), and, unless the car is back by t, the trip's energy and its return slot. What
 * the env derives (headroom, floors) is recomputed by the day module's own functions.
 */
function redrawAfter(s: Scenario, a: Day, t: number, rng: Rng): Day {
  const requests = a.requests.map((q, i) => {
    const len = s.appliances[i].window[1] - s.appliances[i].window[0] + 1;
    const future = q === null || q.release > t;
    if (!future || t + 1 > SLOTS - len) return q;
    if (rng.float() < 0.3) return null;
    const release = rng.int(t + 1, SLOTS - len);
    return { appliance: i, release, deadline: release + len - 1 };
  });
  const e = a.ev;
  if (!e || !s.ev) return { ...a, requests };
  let ev = e;
  if (e.trip && e.arrival > t) {
    const h = s.ev.habits;
    const arrival = clamp(rng.int(Math.max(t + 1, e.departure + 1), h.arrivalSlot.max + 4), 1, SLOTS - 1);
    const home = new Uint8Array(SLOTS).fill(1);
    home.fill(0, e.departure, arrival);
    const tripKwh = Math.min(e.tripKwh + 6 * rng.float(), h.tripKwh.max);
    ev = { ...e, arrival, home, tripKwh };
  }
  const headroomKw = evHeadroom(s, s.ev, a.baseKw);
  const floorKwh = evFloors(s.ev, { ...ev, headroomKw });
  return { ...a, requests, ev: { ...ev, headroomKw, floorKwh } };
}

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
  for (const id of ['paper-apartment', 'paper-apartment-v2h', 'large-home']) {
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
      }
      // The property is about days that do differ: most drawn pairs must differ in the trip.
      if (s.ev) expect(differed).toBeGreaterThan(20);
    });
  }
});
