import { describe, expect, it } from 'vitest';
import { daySeed, drawDay, loadScenario, makeEnv, playDay, SLOTS } from '../../env/index.js';
import { asapPolicy, cheapestPolicy } from '../../baseline/index.js';

const paper = loadScenario('paper-apartment');

/** Tariff cost of the appliances alone (the part the cheapest rule optimises), €. */
function applianceTariffCost(log: Awaited<ReturnType<typeof playDay>>['log']): number {
  let c = 0;
  for (let i = 0; i < paper.appliances.length; i++) for (let t = 0; t < SLOTS; t++) c += log.applianceKw[i * SLOTS + t] * paper.priceKwh[t] * 0.25;
  return c;
}

describe('rule policies', () => {
  it('never cause a violation, over 300 days of each scenario', async () => {
    for (const id of ['paper-apartment', 'paper-apartment-v2h']) {
      const s = loadScenario(id);
      const env = makeEnv(s);
      for (const policy of [asapPolicy(), cheapestPolicy(s)]) {
        let violations = 0;
        for (let d = 0; d < 300; d++) violations += (await playDay(env, policy, daySeed(1, d))).summary.violations;
        expect(violations, `${id} ${policy.name}`).toBe(0);
      }
    }
  });

  it('asap is the environment’s no-management day: its peak is the RESCoin reference peak', async () => {
    const env = makeEnv(paper);
    for (let d = 0; d < 100; d++) {
      const { summary, log } = await playDay(env, asapPolicy(), daySeed(4, d));
      expect(summary.peakKw).toBe(log.day.referencePeakKw);
    }
  });

  it('asap starts every request at its release slot', async () => {
    const env = makeEnv(paper);
    const { log } = await playDay(env, asapPolicy(), daySeed(1, 0));
    const n = paper.appliances.length + 1;
    log.day.requests.forEach((r) => {
      if (!r) return;
      expect(log.actions[r.release * n + r.appliance]).toBe(1);
    });
  });

  it('cheapest never pays more tariff for the appliances than asap, and less on some days', async () => {
    const env = makeEnv(paper);
    let cheaperDays = 0;
    for (let d = 0; d < 200; d++) {
      const a = applianceTariffCost((await playDay(env, asapPolicy(), daySeed(6, d))).log);
      const c = applianceTariffCost((await playDay(env, cheapestPolicy(paper), daySeed(6, d))).log);
      expect(c).toBeLessThanOrEqual(a + 1e-12);
      if (c < a - 1e-9) cheaperDays++;
    }
    expect(cheaperDays).toBeGreaterThan(10);
  });

  it('cheapest charges the EV in the cheap band: never in F1 while a cheaper slot is left before the requirement', async () => {
    const env = makeEnv(paper);
    for (let d = 0; d < 100; d++) {
      const { log } = await playDay(env, cheapestPolicy(paper), daySeed(7, d));
      const ev = log.day.ev!;
      for (let t = 0; t < SLOTS; t++) {
        if (log.evKw[t] <= 0 || paper.priceKwh[t] === 0.06465) continue;
        // Charging in the dear band is only allowed when the floor forces it.
        expect(log.socKwh[t]).toBeLessThan(ev.floorKwh[t + 1] + 1e-9 + 3.68 * 0.9 * 0.25);
      }
    }
  });

  it('days are reproducible: drawDay is a function of the seed', () => {
    expect(drawDay(paper, daySeed(1, 6))).toEqual(drawDay(paper, daySeed(1, 6)));
  });
});
