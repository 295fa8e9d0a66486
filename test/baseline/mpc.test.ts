import { describe, expect, it } from 'vitest';
import { drawDay, heldOutDay, HomeEnv, loadScenario, makeEnv, playDay, Rng, SLOTS, type Day, type Scenario } from '../../env/index.js';
import { mpcPolicy, solveDay, type MpcOptions } from '../../baseline/index.js';
import { redrawAfter } from '../helpers.js';

/** Long time limits: a time-limited solve depends on the machine's speed, and these tests compare actions bit for bit. */
const EXACT: MpcOptions = { timeLimitSec: 120 };

/** The MPC's actions of slots 0..t on a day. */
async function actions(s: Scenario, day: Day, t: number, opts: MpcOptions): Promise<number[][]> {
  const env = new HomeEnv(s);
  const mpc = mpcPolicy(s, opts);
  let r = env.reset({ options: { day } });
  await mpc.reset?.(r.info);
  const out: number[][] = [];
  for (let k = 0; k <= t; k++) {
    const a = Array.from(mpc.act(r.observation, r.info));
    out.push(a);
    if (k < t) r = env.step(a);
  }
  return out;
}

describe('mpc', () => {
  it('is non-anticipative: days that agree up to t get the same actions up to t (both forecasts)', async () => {
    const s = loadScenario('paper-apartment');
    const rng = new Rng(21);
    let differed = 0;
    for (let n = 0; n < 5; n++) {
      const a = drawDay(s, 7000 + n);
      const t = rng.int(24, 72);
      const b = redrawAfter(s, a, t, rng);
      const opts = n < 4 ? EXACT : { ...EXACT, forecast: 'scenarios' as const, samples: 2 };
      expect(await actions(s, b, t, opts), `day ${a.seed}, t=${t}`).toEqual(await actions(s, a, t, opts));
      if (a.ev?.trip && (a.ev.tripKwh !== b.ev!.tripKwh || a.ev.arrival !== b.ev!.arrival)) differed++;
    }
    expect(differed).toBeGreaterThan(1);
  }, 300_000);

  it('is non-anticipative on a home of real base-load days (the base redrawn after t too)', async () => {
    const s = loadScenario('citylearn-b3');
    const rng = new Rng(22);
    for (let n = 0; n < 3; n++) {
      const a = drawDay(s, 7100 + n);
      const t = rng.int(24, 72);
      const b = redrawAfter(s, a, t, rng);
      expect(b.baseKw.slice(t + 1)).not.toEqual(a.baseKw.slice(t + 1));
      expect(await actions(s, b, t, EXACT), `day ${a.seed}, t=${t}`).toEqual(await actions(s, a, t, EXACT));
    }
  }, 300_000);

  it('plays within the rules and returns −J; J* ≤ its J; it re-solves when a request is released', async () => {
    for (const id of ['paper-apartment', 'paper-apartment-v2h', 'citylearn-b1']) {
      const s = loadScenario(id);
      const env = makeEnv(s);
      const mpc = mpcPolicy(s, EXACT);
      for (let d = 0; d < 2; d++) {
        const day = drawDay(s, heldOutDay(d));
        const played = await playDay(env, mpc, day);
        expect(played.summary.violations).toBe(0);
        expect(Math.abs(played.return + played.summary.score)).toBeLessThan(1e-9);
        const best = await solveDay(s, day, { timeLimitSec: 120 });
        expect(best.score).toBeLessThanOrEqual(played.summary.score + 1e-6);
        // A solve at 00:00, at each release, when the car is back, and at least every 8 slots.
        const events = [0, ...day.requests.flatMap((q) => (q ? [q.release] : [])), ...(day.ev?.trip ? [day.ev.arrival] : [])];
        for (const e of events) expect(mpc.solveSlots, `day ${d}: a solve at slot ${e}`).toContain(e);
        for (let k = 1; k < mpc.solveSlots.length; k++) expect(mpc.solveSlots[k] - mpc.solveSlots[k - 1]).toBeLessThanOrEqual(8);
        expect(SLOTS - 1 - mpc.solveSlots[mpc.solveSlots.length - 1]).toBeLessThan(8);
      }
    }
  }, 300_000);
});
