import { describe, expect, it } from 'vitest';
import { daySeed, drawDay, loadScenario, makeEnv, playDay, pwlSquare, scoreDay, SLOTS, type Day, type Scenario, type ScenarioInput } from '../../env/index.js';
import { hullLines, InfeasibleDayError, milpPolicy, solveDay, solveLpText, buildDayModel } from '../../baseline/index.js';
import { tinyScenario } from '../helpers.js';

describe('MILP optimum of a day', () => {
  it('V2H: the optimum discharges into the home, never into the grid, and replays exactly', async () => {
    const s = loadScenario('paper-apartment-v2h');
    const env = makeEnv(s);
    const milp = milpPolicy(s);
    let discharged = 0;
    for (let d = 0; d < 10; d++) {
      const played = await playDay(env, milp, daySeed(32, d));
      expect(played.summary.violations).toBe(0);
      expect(Math.abs(played.return + milp.last!.score)).toBeLessThan(1e-6);
      for (let t = 0; t < SLOTS; t++)
        if (played.log.evKw[t] < 0) {
          discharged++;
          expect(played.log.exportKw[t]).toBe(0);
        }
    }
    expect(discharged).toBeGreaterThan(0);
    // Ten V2H days to proof: 30–45 s on one loaded core.
  }, 120_000);

  it('the exported LP gives the same optimum when HiGHS reads it back', async () => {
    const s = loadScenario('paper-apartment-v2h');
    for (let d = 0; d < 3; d++) {
      const day = drawDay(s, daySeed(33, d));
      const r = await solveDay(s, day);
      const text = buildDayModel(s, day).model.toLp(`day ${d}`);
      expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(255);
      const back = await solveLpText(text);
      expect(back.status).toBe('Optimal');
      expect(Math.abs(back.objective - r.score)).toBeLessThan(1e-6);
    }
  });

  it('never reports a time-limited solve as optimal', async () => {
    const s = loadScenario('paper-apartment');
    const day = drawDay(s, daySeed(34, 0));
    try {
      const r = await solveDay(s, day, { timeLimitSec: 1e-4 });
      expect(r.status).toBe('time-limit');
      expect(r.mipGap).toBeGreaterThan(0);
    } catch (e) {
      expect((e as Error).message).toMatch(/time limit/);
    }
  });
});

describe('MILP on tiny days, against brute force', () => {
  /** Three appliances in a 10-slot evening with PV ending, all terms of J on, no EV. */
  function tiny(objective: Partial<ScenarioInput['objective']>): Scenario {
    const pv = new Array(24).fill(0);
    pv[17] = 0.5; // 17:00-18:00: PV at half a kWp, then dark
    return tinyScenario({
      pv: { peakKw: 2, profile: { hourlyKwPerKwp: pv }, source: 'test' },
      appliances: [
        { id: 'oven', name: 'oven', kind: 'non-interruptible', cycleKw: [2, 1, 0.5], cycleSource: 'test', window: [66, 71], habits: { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 } },
        { id: 'lamp', name: 'lamp', kind: 'interruptible', cycleKw: [0.4, 0.4, 0.4], cycleSource: 'test', window: [68, 73], habits: { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 } },
        { id: 'washer', name: 'washer', kind: 'interruptible', cycleKw: [1.5, 0.3, 0.8], cycleSource: 'test', window: [67, 71], habits: { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 } },
      ],
      tariff: { bands: [{ name: 'a', eurPerKwh: 0.1, slots: [[0, 69]] }, { name: 'b', eurPerKwh: 0.3, slots: [[70, 95]] }], feedInEurPerKwh: 0.05, feedInSource: 'test', source: 'test' },
      objective: { peakEurPerKw: 0.5, fo2Weight: 0.02, fo2BreakpointsKw: [-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4], source: 'test', ...objective },
    });
  }

  function* subsets(from: number, to: number, k: number, start = from, acc: number[] = []): Generator<number[]> {
    if (acc.length === k) {
      yield [...acc];
      return;
    }
    for (let t = start; t <= to; t++) yield* subsets(from, to, k, t + 1, [...acc, t]);
  }

  /** Every schedule of the day, scored with the environment's function. */
  function bruteForce(s: Scenario, day: Day): number {
    const options = day.requests.map((r, i) => {
      const a = s.appliances[i];
      const n = a.cycleKw.length;
      if (!r) return [[]];
      if (a.kind === 'non-interruptible') return Array.from({ length: r.deadline - n + 2 - r.release }, (_, k) => Array.from({ length: n }, (_, j) => r.release + k + j));
      return [...subsets(r.release, r.deadline, n)];
    });
    let best = Infinity;
    const pick = (i: number, chosen: number[][]) => {
      if (i === options.length) {
        const load = Float64Array.from(day.baseKw);
        chosen.forEach((slots, a) => slots.forEach((t, k) => (load[t] += s.appliances[a].cycleKw[k])));
        const importKw = load.map((l, t) => Math.max(0, l - day.pvKw[t]));
        const exportKw = load.map((l, t) => Math.max(0, day.pvKw[t] - l));
        best = Math.min(best, scoreDay(s, day, { importKw, exportKw, loadKw: load }).score);
        return;
      }
      for (const o of options[i]) pick(i + 1, [...chosen, o]);
    };
    pick(0, []);
    return best;
  }

  for (const [label, objective] of [
    ['all terms', {}],
    ['peak only', { fo2Weight: 0 }],
    ['F.O.2 heavy', { fo2Weight: 0.2, peakEurPerKw: 0 }],
  ] as const) {
    it(`equals the best of every schedule (${label})`, async () => {
      const s = tiny(objective);
      const day = drawDay(s, 1);
      expect(day.requests.every((r) => r !== null)).toBe(true);
      const r = await solveDay(s, day);
      expect(r.status).toBe('optimal');
      const brute = bruteForce(s, day);
      expect(Math.abs(r.score - brute)).toBeLessThan(1e-9);
      // And the env agrees when it replays the schedule.
      const played = await playDay(makeEnv(s), milpPolicy(s), day);
      expect(played.return).toBeCloseTo(-brute, 9);
    });
  }
});

describe('infeasible days', () => {
  const s = loadScenario('paper-apartment');

  it('names the activity whose window is too short for its cycle', async () => {
    const day = structuredClone(drawDay(s, daySeed(35, 0)));
    const i = s.appliances.findIndex((a) => a.id === 'dishwasher');
    day.requests[i] = { appliance: i, release: 84, deadline: 88 };
    await expect(solveDay(s, day)).rejects.toThrow(/dishwasher needs 8 slots but its window \[84, 88\] has 5/);
    await expect(solveDay(s, day)).rejects.toBeInstanceOf(InfeasibleDayError);
  });

  it('names the EV when its target cannot be reached', async () => {
    const day = structuredClone(drawDay(s, daySeed(35, 1)));
    day.ev!.soc0Kwh = day.ev!.floorKwh[0] - 1;
    await expect(solveDay(s, day)).rejects.toThrow(/EV starts at .* but needs/);
  });

  it('names the activities and the contract when the contract is too small', async () => {
    const small: Scenario = { ...s, grid: { ...s.grid, contractKw: 1 } };
    const day = structuredClone(drawDay(s, daySeed(35, 2)));
    const w = s.appliances.findIndex((a) => a.id === 'washing-machine');
    day.requests[w] = { appliance: w, release: 80, deadline: 83 };
    await expect(solveDay(small, day)).rejects.toThrow(/infeasible day .*(washing-machine|contract)/);
  });
});

describe('hull of F.O.2 points', () => {
  it('is exact at the points and merges collinear neighbours', () => {
    const bp = [-2, -1, 0, 1, 2];
    const xs = [-1.5, -1, 0, 0.5, 1, 2];
    const lines = hullLines(xs.map((x) => [x, pwlSquare(x, bp)]));
    for (const x of xs) expect(Math.max(...lines.map((l) => l.slope * x + l.intercept))).toBeCloseTo(pwlSquare(x, bp), 12);
    // −1.5 and −1 lie on one piece, 0, 0.5 and 1 on another: 4 distinct slopes, not 5.
    expect(lines).toHaveLength(4);
    expect(hullLines([[1, 3]])).toEqual([{ slope: 0, intercept: 3, from: 0 }]);
  });
});

describe('the EV peak floor (a cut for speed)', () => {
  it('changes no optimum: J* with and without it agree to 1e-6 on trip days of both EV scenarios', async () => {
    let compared = 0;
    for (const id of ['paper-apartment', 'paper-apartment-v2h']) {
      const sc = loadScenario(id);
      for (let d = 0; compared < (id === 'paper-apartment' ? 4 : 7) && d < 40; d++) {
        const day = drawDay(sc, daySeed(36, d));
        if (!day.ev?.trip) continue;
        const cut = await solveDay(sc, day);
        const plain = await solveDay(sc, day, { evPeakFloor: false });
        expect(cut.status).toBe('optimal');
        expect(plain.status).toBe('optimal');
        expect(Math.abs(cut.score - plain.score)).toBeLessThan(1e-6);
        compared++;
      }
    }
    expect(compared).toBe(7);
    // Fourteen exact solves, half of them without the cut: 60–75 s on one loaded core.
  }, 180_000);
});
