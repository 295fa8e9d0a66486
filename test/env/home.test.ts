import { describe, expect, it } from 'vitest';
import {
  checkEnv,
  daySeed,
  drawDay,
  evShortfallPrice,
  FlattenAction,
  isAllowed,
  listScenarios,
  loadScenario,
  makeEnv,
  noManagementAction,
  observationLayout,
  playDay,
  RecordEpisodeStatistics,
  Rng,
  sampleAllowed,
  scoreDay,
  SLOTS,
  VectorHomeEnv,
  HomeEnv,
  type DayLog,
  type Policy,
  type Scenario,
  type StepResult,
} from '../../env/index.js';
import { tinyScenario } from '../helpers.js';

const paper = loadScenario('paper-apartment');
const v2h = loadScenario('paper-apartment-v2h');

function randomPolicy(seed: number): Policy {
  const rng = new Rng(seed);
  return { name: 'random', act: (_o, info) => sampleAllowed(info.home, rng, new Int32Array(info.home.nvec.length)) };
}

/** Checks every invariant of one played day and returns how many slots it looked at. */
function checkDay(s: Scenario, log: DayLog): void {
  const day = log.day;
  for (let t = 0; t < SLOTS; t++) {
    // Energy balance: import − export = fixed + appliances + EV − PV.
    let apps = 0;
    for (let i = 0; i < s.appliances.length; i++) apps += log.applianceKw[i * SLOTS + t];
    const balance = log.importKw[t] - log.exportKw[t] - (day.baseKw[t] + apps + log.evKw[t] - day.pvKw[t]);
    if (Math.abs(balance) > 1e-9) throw new Error(`seed ${day.seed} slot ${t}: energy balance off by ${balance}`);
    if (log.importKw[t] > s.grid.contractKw + 1e-9) throw new Error(`seed ${day.seed} slot ${t}: import ${log.importKw[t]} above the contract`);
    if (log.exportKw[t] > s.grid.exportLimitKw + 1e-9) throw new Error(`seed ${day.seed} slot ${t}: export ${log.exportKw[t]} above the limit`);
    if (log.importKw[t] > 0 && log.exportKw[t] > 0) throw new Error(`seed ${day.seed} slot ${t}: import and export at once`);
  }
  // Each appliance runs exactly its cycle inside its window (eqs. 6, 7, 9); non-interruptible in one piece.
  s.appliances.forEach((a, i) => {
    const r = day.requests[i];
    const runs: number[] = [];
    for (let t = 0; t < SLOTS; t++) if (log.actions[t * (s.appliances.length + (s.ev ? 1 : 0)) + i] === 1) runs.push(t);
    if (!r) {
      if (runs.length) throw new Error(`seed ${day.seed}: ${a.id} ran without a request`);
      return;
    }
    if (runs.length !== a.cycleKw.length) throw new Error(`seed ${day.seed}: ${a.id} ran ${runs.length} slots, cycle is ${a.cycleKw.length}`);
    if (runs[0] < r.release || runs[runs.length - 1] > r.deadline) throw new Error(`seed ${day.seed}: ${a.id} ran outside [${r.release}, ${r.deadline}]`);
    if (a.kind === 'non-interruptible' && runs[runs.length - 1] - runs[0] !== runs.length - 1) throw new Error(`seed ${day.seed}: ${a.id} was interrupted`);
    runs.forEach((t, k) => {
      if (log.applianceKw[i * SLOTS + t] !== a.cycleKw[k]) throw new Error(`seed ${day.seed}: ${a.id} drew the wrong power in its cycle slot ${k}`);
    });
  });
  // The EV: SoC within bounds, at target when it leaves; a day that ends below the SoC it began
  // with pays the shortfall at the scenario's price (the soft midnight requirement).
  if (s.ev && day.ev) {
    const ev = day.ev;
    for (let t = 0; t <= SLOTS; t++) {
      const soc = log.socKwh[t];
      if (soc < s.ev.socMinKwh - 1e-9 || soc > s.ev.capacityKwh + 1e-9) throw new Error(`seed ${day.seed} slot ${t}: SoC ${soc} out of bounds`);
    }
    if (ev.trip && log.socKwh[ev.departure] < ev.targetKwh - 1e-9) throw new Error(`seed ${day.seed}: left with ${log.socKwh[ev.departure]} kWh < target ${ev.targetKwh}`);
    const short = Math.max(0, ev.soc0Kwh - log.socKwh[SLOTS]);
    const paid = scoreDay(s, day, log).shortfallCost;
    if (Math.abs(paid - evShortfallPrice(s) * short) > 1e-12) throw new Error(`seed ${day.seed}: ended ${short} kWh short, J pays ${paid} €`);
    for (let t = 0; t < SLOTS; t++) if (!ev.home[t] && log.evKw[t] !== 0) throw new Error(`seed ${day.seed} slot ${t}: EV power while away`);
  }
}

describe('HomeEnv invariants', () => {
  it('1,000 random masked days: energy balance, import ≤ 6 kW, export ≤ 3 kW, cycles in windows, EV targets, no violation', async () => {
    for (const s of [paper, v2h]) {
      const env = makeEnv(s);
      const policy = randomPolicy(11);
      let violations = 0;
      let discharged = 0;
      let maxImport = 0;
      for (let d = 0; d < (s === paper ? 1000 : 300); d++) {
        const { summary, log } = await playDay(env, policy, daySeed(5, d));
        violations += summary.violations;
        checkDay(s, log);
        for (let t = 0; t < SLOTS; t++) {
          if (log.evKw[t] < 0) discharged++;
          maxImport = Math.max(maxImport, log.importKw[t]);
        }
      }
      expect(violations).toBe(0);
      // The limits bind: random play gets close to the contract, and V2H is really used.
      expect(maxImport).toBeGreaterThan(5);
      expect(maxImport).toBeLessThanOrEqual(6 + 1e-9);
      if (s.ev?.v2h) expect(discharged).toBeGreaterThan(100);
      else expect(discharged).toBe(0);
    }
  });

  it('rule play keeps every invariant too', async () => {
    const env = makeEnv(paper);
    const action = new Int32Array(env.nComponents);
    const asap: Policy = { name: 'asap', act: (_o, info) => noManagementAction(info.home, action) };
    for (let d = 0; d < 100; d++) checkDay(paper, (await playDay(env, asap, daySeed(2, d))).log);
  });

  it('the episode return equals −J (score.ts) and the per-step rewards telescope', async () => {
    for (const s of [paper, v2h]) {
      const env = makeEnv(s);
      for (let d = 0; d < 50; d++) {
        const played = await playDay(env, randomPolicy(d), daySeed(3, d));
        const parts = scoreDay(s, played.log.day, played.log);
        expect(played.return).toBeCloseTo(-parts.score, 9);
        expect(played.summary.score).toBe(parts.score);
        expect(parts.score).toBeCloseTo(parts.cost + parts.peakCost + parts.fo2Cost - parts.rescoinValue + parts.shortfallCost, 12);
      }
    }
  });

  it('same seed and same actions give a bit-identical trajectory', async () => {
    const run = async () => {
      const env = makeEnv(v2h);
      const rewards: number[] = [];
      const obs: number[] = [];
      const rng = new Rng(99);
      const first = env.reset({ seed: 4242 });
      let info = first.info;
      obs.push(...first.observation);
      for (;;) {
        const r: StepResult = env.step(sampleAllowed(info.home, rng, new Int32Array(env.nComponents)));
        rewards.push(r.reward);
        obs.push(...r.observation);
        info = r.info;
        if (r.terminated) break;
      }
      const log = env.trajectory();
      return { rewards, obs, soc: Array.from(log.socKwh), imp: Array.from(log.importKw) };
    };
    const a = await run();
    const b = await run();
    expect(b.rewards.every((x, i) => Object.is(x, a.rewards[i]))).toBe(true);
    expect(b.obs.every((x, i) => Object.is(x, a.obs[i]))).toBe(true);
    expect(b.soc.every((x, i) => Object.is(x, a.soc[i]))).toBe(true);
    expect(b.imp).toEqual(a.imp);
  });

  it('draws the same day for the same seed, and different days for different seeds', () => {
    const a = drawDay(paper, 77);
    const b = drawDay(paper, 77);
    expect(b).toEqual(a);
    const c = drawDay(paper, 78);
    expect(c.pvDay !== a.pvDay || JSON.stringify(c.requests) !== JSON.stringify(a.requests)).toBe(true);
    expect(daySeed(1, 3)).toBe(daySeed(1, 3));
    expect(daySeed(1, 3)).not.toBe(daySeed(3, 1));
  });

  it('observations stay inside the observation space', async () => {
    const env = makeEnv(v2h);
    const rng = new Rng(1);
    for (let d = 0; d < 50; d++) {
      let { observation, info } = env.reset({ seed: daySeed(8, d) });
      for (;;) {
        expect(env.observationSpace.firstOutside(observation)).toBeNull();
        const r = env.step(sampleAllowed(info.home, rng, new Int32Array(env.nComponents)));
        observation = r.observation;
        info = r.info;
        if (r.terminated) break;
      }
    }
  });

  it('ev.start is the SoC of 00:00 ÷ capacity all day, and asap ends these days with that SoC (a shortfall would pay in J)', async () => {
    const at = observationLayout(paper).findIndex((f) => f.name === 'ev.start');
    const env = makeEnv(paper);
    for (let d = 0; d < 20; d++) {
      let { observation, info } = env.reset({ seed: daySeed(9, d) });
      const day = env.trajectory().day;
      const start = Math.fround(day.ev!.soc0Kwh / paper.ev!.capacityKwh);
      for (;;) {
        expect(observation[at]).toBe(start);
        const r = env.step(noManagementAction(info.home, new Int32Array(env.nComponents)));
        observation = r.observation;
        info = r.info;
        if (r.terminated) break;
      }
      const log = env.trajectory();
      expect(log.socKwh[SLOTS]).toBeGreaterThanOrEqual(day.ev!.soc0Kwh - 1e-6);
    }
  });

  it('step before reset and after the end are clear errors; a wrong action length is refused', () => {
    const env = makeEnv(paper);
    expect(() => env.step([0, 0, 0, 0, 0, 0, 0])).toThrow(/before reset/);
    let { info } = env.reset({ seed: 1 });
    expect(() => env.step([0, 0])).toThrow(/7 components/);
    for (let t = 0; t < SLOTS; t++) info = env.step(noManagementAction(info.home, new Int32Array(7))).info;
    expect(() => env.step([0, 0, 0, 0, 0, 0, 0])).toThrow(/ended/);
  });

  it('corrects and counts an action outside the mask (the documented fallback)', () => {
    const s = tinyScenario();
    const env = makeEnv(s);
    let { info } = env.reset({ seed: 1 });
    // Before the release (slot 10) the heater may only wait: asking it to run is corrected.
    const r = env.step([1]);
    expect(r.info.violations).toBe(1);
    expect(env.trajectory().actions[0]).toBe(0);
    info = r.info;
    expect(info.actionMask).toEqual(new Uint8Array([1, 0]));
  });
});

describe('a hand-solved day (tiny scenario)', () => {
  it('scores the no-management day as computed by hand', async () => {
    const s = tinyScenario();
    const env = makeEnv(s);
    const action = new Int32Array(1);
    const played = await playDay(env, { name: 'asap', act: (_o, info) => noManagementAction(info.home, action) }, 1);
    // Runs in slots 10 and 11 at 2 kW: 1 kWh at 0.10 € = 0.10 €; peak 2 kW × 0.5 €/kW = 1.00 €.
    // q = 1 kWh / 24 h; φ(2 − q) = 3·(2 − q) − 2 (segment [1, 2]), φ(−q) = q (segment [−1, 0]):
    // w·Σφ = 0.01 · (2·(3·(2 − q) − 2) + 94·q).
    const q = 1 / 24;
    const fo2 = 0.01 * (2 * (3 * (2 - q) - 2) + 94 * q);
    expect(played.log.day.meanLoadKw).toBeCloseTo(q, 12);
    expect(played.summary.cost).toBeCloseTo(0.1, 12);
    expect(played.summary.peakCost).toBeCloseTo(1.0, 12);
    expect(played.summary.fo2Cost).toBeCloseTo(fo2, 12);
    expect(played.summary.rescoin).toBe(0); // no PV, peak equal to the reference
    expect(played.summary.score).toBeCloseTo(0.1 + 1.0 + fo2, 12);
    expect(played.return).toBeCloseTo(-(0.1 + 1.0 + fo2), 12);
    expect(played.summary.par).toBeCloseTo(2 / (1 / 24), 9);
    expect(played.log.day.referencePeakKw).toBe(2);
  });

  it('forces a non-interruptible start at its latest start and keeps it running', () => {
    const env = makeEnv(tinyScenario());
    let { info } = env.reset({ seed: 1 });
    for (let t = 0; t < 12; t++) {
      const mask = info.actionMask;
      if (t < 10) expect(Array.from(mask)).toEqual([1, 0]);
      else expect(Array.from(mask)).toEqual([1, 1]); // slots 10, 11: may wait
      info = env.step([0]).info;
    }
    // Slot 12 is the latest start for a 2-slot cycle in [10, 13]: it must start, then keep running.
    expect(Array.from(info.actionMask)).toEqual([0, 1]);
    info = env.step([1]).info;
    expect(Array.from(info.actionMask)).toEqual([0, 1]);
    info = env.step([0]).info; // asking to stop is corrected
    expect(info.violations).toBe(1);
    expect(Array.from(info.actionMask)).toEqual([1, 0]);
  });
});

describe('wrappers and the vector env', () => {
  it('FlattenAction: ravel/unravel round trip, and the flat mask is exactly the joint rule', () => {
    const flat = new FlattenAction(makeEnv(v2h));
    expect(flat.actionSpace.n).toBe(2 ** 6 * 7);
    for (let a = 0; a < flat.actionSpace.n; a++) expect(flat.flatten(flat.unflatten(a))).toBe(a);
    const rng = new Rng(3);
    let { info } = flat.reset({ seed: 9 });
    let allowed = 0;
    for (let t = 0; t < SLOTS; t++) {
      for (let a = 0; a < flat.actionSpace.n; a++) expect(info.actionMask[a]).toBe(isAllowed(info.home, flat.unflatten(a)) ? 1 : 0);
      allowed += info.actionMask.reduce((x, y) => x + y, 0);
      const r = flat.step(flat.actionSpace.sample(rng, info.actionMask));
      expect(r.info.violations).toBe(0);
      info = r.info;
    }
    expect(allowed).toBeGreaterThan(SLOTS);
  });

  it('RecordEpisodeStatistics reports the return and length of each day', () => {
    const env = new RecordEpisodeStatistics(makeEnv(paper));
    let { info } = env.reset({ seed: 5 });
    let ret = 0;
    let last;
    for (let t = 0; t < SLOTS; t++) {
      last = env.step(noManagementAction(info.home, new Int32Array(7)));
      ret += last.reward;
      info = last.info;
    }
    const episode = (last!.info as { episode?: { return: number; length: number } }).episode!;
    expect(episode.length).toBe(SLOTS);
    expect(episode.return).toBe(ret);
    expect(env.recent).toHaveLength(1);
  });

  it('the vector env plays the same days as single envs, home i day k = daySeed(seed, k·N + i)', () => {
    const n = 4;
    const venv = new VectorHomeEnv(v2h, n);
    venv.reset(21);
    const singles = Array.from({ length: n }, () => makeEnv(v2h));
    const firsts = singles.map((e, i) => e.reset({ seed: daySeed(21, i) }));
    const infos = firsts.map((f) => f.info);
    const observations = firsts.map((f) => f.observation);
    const actions = new Int32Array(n * venv.nComponents);
    const rng = new Rng(4);
    let ended = 0;
    for (let step = 0; step < 2 * SLOTS; step++) {
      for (let i = 0; i < n; i++) {
        sampleAllowed(venv.homes[i], rng, actions.subarray(i * venv.nComponents, (i + 1) * venv.nComponents));
        const obs = venv.observations.subarray(i * venv.obsSize, (i + 1) * venv.obsSize);
        expect(Array.from(obs)).toEqual(Array.from(observations[i]));
        expect(Array.from(venv.masks.subarray(i * venv.maskSize, (i + 1) * venv.maskSize))).toEqual(Array.from(infos[i].actionMask));
      }
      const rewards = venv.step(actions);
      for (let i = 0; i < n; i++) {
        const r = singles[i].step(actions.subarray(i * venv.nComponents, (i + 1) * venv.nComponents));
        expect(rewards[i]).toBe(r.reward);
        expect(venv.terminated[i]).toBe(r.terminated ? 1 : 0);
        infos[i] = r.info;
        observations[i] = r.observation;
        if (r.terminated) {
          ended++;
          expect(venv.summaries[i]!.score).toBe(r.info.day!.score);
          expect(venv.summaries[i]!.return).toBeCloseTo(-r.info.day!.score, 9);
          const next = singles[i].reset({ seed: daySeed(21, n + i) });
          infos[i] = next.info;
          observations[i] = next.observation;
        }
      }
    }
    expect(ended).toBe(2 * n);
  });
});

describe('checkEnv', () => {
  it('passes on every scenario in data/scenarios, MultiDiscrete and flattened', () => {
    for (const id of listScenarios()) {
      const s = loadScenario(id);
      expect(checkEnv(makeEnv(s), { days: 3 }).steps).toBe(3 * SLOTS);
      const joint = makeEnv(s).actionSpace.nvec.reduce((a, b) => a * b, 1);
      if (joint <= FlattenAction.MAX_ACTIONS) expect(checkEnv(new FlattenAction(makeEnv(s)), { days: 1 }).steps).toBe(SLOTS);
      else expect(() => new FlattenAction(makeEnv(s))).toThrow(/use the MultiDiscrete env/);
    }
  });

  it('fails on a deliberately broken env: reward not summing to −J', () => {
    class Leaky extends HomeEnv {
      override step(action: ArrayLike<number>) {
        const r = super.step(action);
        return { ...r, reward: r.reward - 0.001 };
      }
    }
    expect(() => checkEnv(new Leaky(paper), { days: 1 })).toThrow(/is not −info.day.score/);
  });

  it('fails on a deliberately broken env: observation outside its space, non-deterministic reset', () => {
    let calls = 0;
    class Noisy extends HomeEnv {
      override reset(opts?: Parameters<HomeEnv['reset']>[0]) {
        const r = super.reset(opts);
        r.observation[0] = 5 + calls++;
        return r;
      }
    }
    const msg = (() => {
      try {
        checkEnv(new Noisy(paper), { days: 1 });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(msg).toMatch(/observation\[0\] = \d+ is outside/);
    expect(msg).toMatch(/same seed gave different observations/);
  });
});
