import { describe, expect, it } from 'vitest';
import { completeDay, daySeed, DT, drawDay, evFloors, loadScenario, makeEnv, playDay, Rng, SLOTS, type Day, type Scenario } from '../../env/index.js';
import { asapPolicy, PRECHARGE_DEFAULTS, prechargePolicy, type PrechargeParams } from '../../baseline/index.js';
import { redrawAfter } from '../helpers.js';

const paper = loadScenario('paper-apartment');

/** Day `day` with the EV's SoC of 00:00 and departure set, floors recomputed as drawEv does. */
function withPlan(s: Scenario, day: Day, soc0Kwh: number, departure: number): Day {
  const e = day.ev!;
  if (!e.trip) throw new Error(`day ${day.seed} has no trip`);
  const home = new Uint8Array(SLOTS).fill(1);
  home.fill(0, departure, e.arrival);
  const ev = { ...e, soc0Kwh, departure, home, floorKwh: evFloors(s.ev!, { ...e, soc0Kwh, departure }) };
  const { meanLoadKw: _q, referencePeakKw: _ref, ...draws } = day;
  return completeDay(s, { ...draws, ev });
}

/** The first trip day of seed 3 back between 41 and 80 with a trip of at most 6 kWh (the evening can make up for it). */
function tripDay(s: Scenario): Day {
  for (let d = 0; ; d++) {
    const day = drawDay(s, daySeed(3, d));
    if (day.ev?.trip && day.ev.arrival <= 80 && day.ev.arrival > 40 && day.ev.tripKwh <= 6) return day;
  }
}

describe('precharge rule', () => {
  it('no violation and the energy balance in every slot, 200 days of each scenario with an EV', async () => {
    for (const id of ['paper-apartment', 'paper-apartment-v2h', 'large-home']) {
      const s = loadScenario(id);
      const env = makeEnv(s);
      const policy = prechargePolicy(s);
      let violations = 0;
      for (let d = 0; d < 200; d++) {
        const { summary, log } = await playDay(env, policy, daySeed(2, d));
        violations += summary.violations;
        for (let t = 0; t < SLOTS; t++) {
          let apps = 0;
          for (let i = 0; i < s.appliances.length; i++) apps += log.applianceKw[i * SLOTS + t];
          const balance = log.importKw[t] - log.exportKw[t] - (log.day.baseKw[t] + apps + log.evKw[t] - log.day.pvKw[t]);
          expect(Math.abs(balance), `${id} day ${d} slot ${t}`).toBeLessThan(1e-9);
          expect(log.importKw[t]).toBeLessThanOrEqual(s.grid.contractKw + 1e-9);
        }
      }
      expect(violations, id).toBe(0);
    }
  });

  it('is non-anticipative: its actions up to t do not change when the day after t is redrawn', async () => {
    for (const id of ['paper-apartment', 'large-home']) {
      const s = loadScenario(id);
      const env = makeEnv(s);
      const policy = prechargePolicy(s);
      const rng = new Rng(21);
      const n = s.appliances.length + 1;
      let differed = 0;
      for (let k = 0; k < 60; k++) {
        const a = drawDay(s, 7000 + k);
        const t = rng.int(0, SLOTS - 1);
        const b = redrawAfter(s, a, t, rng);
        const pa = (await playDay(env, policy, a)).log.actions.slice(0, (t + 1) * n);
        const pb = (await playDay(env, policy, b)).log.actions.slice(0, (t + 1) * n);
        expect(Array.from(pb), `${id} day ${a.seed}, t=${t}`).toEqual(Array.from(pa));
        if (a.ev?.trip && (a.ev.tripKwh !== b.ev!.tripKwh || a.ev.arrival !== b.ev!.arrival)) differed++;
      }
      expect(differed, id).toBeGreaterThan(20);
    }
  });

  it('charges one step a slot, just in time for the departure, up to the target plus preFraction of the evening', async () => {
    // SoC 30 kWh at 00:00, target 32, habits' trip 8 kWh: the evening needs 30 − 32 + 8 = 6 kWh,
    // so the goal is 32 + 0.75·6 = 36.5 kWh: 6.5 kWh at 1.84·0.9·0.25 = 0.414 kWh a slot is 16
    // slots, the last 16 before the departure at 30 (stackKw 0; no PV before slot 14).
    const day = withPlan(paper, tripDay(paper), 30, 30);
    const env = makeEnv(paper);
    const { log, summary } = await playDay(env, prechargePolicy(paper), day);
    expect(summary.violations).toBe(0);
    const step = 1.84 * 0.9 * DT;
    expect(PRECHARGE_DEFAULTS.preFraction).toBe(0.75);
    expect(PRECHARGE_DEFAULTS.stackKw).toBe(0);
    expect(Array.from(log.evKw.slice(0, 14))).toEqual(new Array(14).fill(0));
    expect(Array.from(log.evKw.slice(14, 30))).toEqual(new Array(16).fill(1.84));
    expect(log.socKwh[30]).toBeCloseTo(30 + 16 * step, 9);
    // preFraction 0: the target only, 2 kWh, 5 slots; the evening then tops up to 30 kWh by midnight.
    const only: Partial<PrechargeParams> = { preFraction: 0 };
    const target = (await playDay(env, prechargePolicy(paper, only), day)).log;
    expect(Array.from(target.evKw.slice(0, 30)).filter((kw) => kw > 0)).toEqual(new Array(5).fill(1.84));
    expect(target.socKwh[30]).toBeCloseTo(30 + 5 * step, 9);
    expect(target.socKwh[SLOTS]).toBeGreaterThanOrEqual(30 - 1e-9);
    // asap charges at the top level; the rule never goes above one step on this day.
    expect(Math.max(...log.evKw)).toBe(1.84);
    expect(Math.max(...(await playDay(env, asapPolicy(), day)).log.evKw)).toBe(3.68);
  });

  it('refuses bad params, naming the field and the value', () => {
    expect(() => prechargePolicy(paper, { preFraction: -1 })).toThrow('preFraction must be a finite number ≥ 0, got -1');
    expect(() => prechargePolicy(paper, { maxLevel: 0.5 })).toThrow('maxLevel must be an integer ≥ 1, got 0.5');
    expect(() => prechargePolicy(paper, { solarKw: Number.NaN })).toThrow('solarKw must be ≥ 0 (Infinity: never), got NaN');
  });
});
