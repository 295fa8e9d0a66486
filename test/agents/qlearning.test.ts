import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daySeed, FlattenAction, makeEnv, observationLayout, SLOTS, type Feature, type Scenario } from '../../env/index.js';
import { solveDay } from '../../baseline/index.js';
import { QLearningAgent } from '../../agents/qlearning.js';
import { qlearningConfig } from '../../agents/config.js';
import { tinyScenario } from '../helpers.js';

/**
 * A day with one clearly best schedule, by hand. Flat 0.10 €/kWh except 0.05 €/kWh in slots 12–13;
 * no PV, no fixed load, no EV. Requests every day, released at 10 with deadline 13:
 *   heater: non-interruptible, 2 slots of 2 kW;   pump: interruptible, 2 slots of 1 kW.
 * Any overlap makes a 3 kW peak (λ = 0.5 €/kW costs 0.5 € more than it can save), so the heater
 * and the pump take turns. Cost of the three ways to take turns (kWh · €/kWh):
 *   heater 12–13, pump 10–11: 1·0.05 + 0.5·0.10 = 0.1000   ← best
 *   heater 11–12, pump 10, 13: 0.5·0.10 + 0.5·0.05 + 0.25·0.10 + 0.25·0.05 = 0.1125
 *   heater 10–11, pump 12–13: 1·0.10 + 0.5·0.05 = 0.1250
 * J* = cost 0.1 + λ·peak 0.5·2 + F.O.2 − RESCoin:
 *   q = 1.5 kWh / 24 h = 0.0625 kW; φ interpolates x² between integer breakpoints:
 *   2 slots at L = 2: φ(1.9375) = 3·1.9375 − 2 = 3.8125; 2 slots at L = 1: φ(0.9375) = 0.9375;
 *   92 slots at L = 0: φ(−0.0625) = 0.0625; w·Σφ = 0.01·(7.625 + 1.875 + 5.75) = 0.1525;
 *   RESCoin: the peak stays 1 kW below the no-management peak (3 kW): 10 RSC/kW · 0.01 € = 0.1 €.
 *   J* = 0.1 + 1.0 + 0.1525 − 0.1 = 1.1525 €.
 */
const HAND_J = 1.1525;

function turnTakingHome(): Scenario {
  const habits = { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 };
  return tinyScenario({
    tariff: {
      bands: [
        { name: 'day', eurPerKwh: 0.1, slots: [[0, 11], [14, 95]] },
        { name: 'cheap', eurPerKwh: 0.05, slots: [[12, 13]] },
      ],
      feedInEurPerKwh: 0.04,
      feedInSource: 'test',
      source: 'test',
    },
    appliances: [
      { id: 'heater', name: 'Heater', kind: 'non-interruptible', cycleKw: [2, 2], cycleSource: 'test', window: [10, 13], habits },
      { id: 'pump', name: 'Pump', kind: 'interruptible', cycleKw: [1, 1], cycleSource: 'test', window: [10, 13], habits },
    ],
  });
}

/** An observation of the tiny home at slot t: nothing pending, price_now 1, the rest 0. */
function tinyObsAt(layout: Feature[], t: number): Float32Array {
  const o = new Float32Array(layout.length);
  o[0] = Math.sin((2 * Math.PI * t) / SLOTS);
  o[1] = Math.cos((2 * Math.PI * t) / SLOTS);
  o[3] = 1;
  return o;
}

function newAgent(s: Scenario, seed: number, totalEpisodes: number, overrides: Record<string, unknown> = {}): QLearningAgent {
  const nActions = new FlattenAction(makeEnv(s)).actionSpace.n;
  return new QLearningAgent({ layout: observationLayout(s), nActions, config: qlearningConfig.parse(overrides), seed, totalEpisodes });
}

/** Play days daySeed(1, e) through FlattenAction, learning from every step. */
function train(agent: QLearningAgent, s: Scenario, episodes: number): void {
  const env = new FlattenAction(makeEnv(s));
  for (let e = 0; e < episodes; e++) {
    let { observation, info } = env.reset({ seed: daySeed(1, e) });
    for (;;) {
      const action = agent.act(observation, info.actionMask, true);
      const r = env.step(action);
      agent.learn({ obs: observation, action, reward: r.reward, nextObs: r.observation, nextMask: r.info.actionMask, done: r.terminated });
      observation = r.observation;
      info = r.info;
      if (r.terminated) break;
    }
    agent.endEpisode();
  }
}

/** The greedy policy's day: its score J and the observations it saw. */
function playGreedy(agent: QLearningAgent, s: Scenario, seed: number): { score: number; observations: Float32Array[]; actions: number[] } {
  const env = new FlattenAction(makeEnv(s));
  let { observation, info } = env.reset({ seed });
  const observations: Float32Array[] = [];
  const actions: number[] = [];
  for (;;) {
    const action = agent.act(observation, info.actionMask, false);
    observations.push(observation);
    actions.push(action);
    const r = env.step(action);
    observation = r.observation;
    info = r.info;
    if (r.terminated) return { score: r.info.day!.score, observations, actions };
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('QLearningAgent', () => {
  it('learns the optimal schedule of a hand-checkable day: J = J* of the MILP = 1.1525 €', async () => {
    const s = turnTakingHome();
    // 800 episodes: the greedy schedule is optimal for 30 of 30 seeds tried (400: 26 of 30).
    const agent = newAgent(s, 7, 800);
    train(agent, s, 800);
    const seed = daySeed(2, 0);
    const env = makeEnv(s);
    env.reset({ seed });
    const best = await solveDay(s, env.trajectory().day);
    expect(best.score).toBeCloseTo(HAND_J, 9);
    const greedy = playGreedy(agent, s, seed);
    expect(Math.abs(greedy.score - best.score)).toBeLessThan(1e-9);
    // The schedule itself: pump (component 1) in slots 10–11, heater (component 0) in 12–13.
    const flat = new FlattenAction(makeEnv(s));
    const runs = greedy.actions.map((a) => Array.from(flat.unflatten(a)).join(''));
    expect(runs.slice(10, 14)).toEqual(['01', '01', '10', '10']);
    expect(agent.episodes).toBe(800);
    expect(agent.steps).toBe(800 * SLOTS);
    expect(agent.updates).toBe(800 * SLOTS);
  });

  it('masked max, update, loss, ε and α match a hand computation on two states', () => {
    const s = tinyScenario();
    const layout = observationLayout(s);
    const agent = newAgent(s, 1, 10, { alphaStart: 0.5, alphaEnd: 0.1, epsilonStart: 1, epsilonEnd: 0, epsilonFraction: 0.5, rewardScale: 100, gamma: 1, backward: false, unseenValue: 'zero' });
    // Two observations of the tiny home that differ only in the slot: 5 and 6.
    const obsAt = (t: number) => tinyObsAt(layout, t);
    const s5 = obsAt(5);
    const s6 = obsAt(6);
    expect(agent.stateKey(s5)).not.toBe(agent.stateKey(s6));
    expect(agent.stateKey(s5).split('|')[0]).toBe('5');
    agent.table.set(agent.stateKey(s5), Float64Array.from([1, 2]));
    agent.table.set(agent.stateKey(s6), Float64Array.from([3, 9]));

    // Action 1 of s6 is masked: the target's max is Q(s6, 0) = 3, not 9.
    // r = 0.02 € is 2 after rewardScale: δ = 2 + 1·3 − 2 = 3; Q(s5, 1) ← 2 + 0.5·3 = 3.5; loss δ² = 9.
    const loss = agent.learn({ obs: s5, action: 1, reward: 0.02, nextObs: s6, nextMask: Uint8Array.from([1, 0]), done: false });
    expect(agent.values(s5)[1]).toBeCloseTo(3.5, 12);
    expect(loss).toBeCloseTo(9, 12);
    // Both allowed: the max is 9; δ = 2 + 9 − 3.5 = 7.5; Q ← 3.5 + 0.5·7.5 = 7.25.
    agent.learn({ obs: s5, action: 1, reward: 0.02, nextObs: s6, nextMask: Uint8Array.from([1, 1]), done: false });
    expect(agent.values(s5)[1]).toBeCloseTo(7.25, 12);
    // The day ends: no bootstrap. δ = −1 − 1 = −2; Q(s5, 0) ← 1 + 0.5·(−2) = 0.
    agent.learn({ obs: s5, action: 0, reward: -0.01, nextObs: s6, nextMask: new Uint8Array(2), done: true });
    expect(agent.values(s5)[0]).toBeCloseTo(0, 12);
    expect(agent.steps).toBe(3);
    expect(agent.updates).toBe(3);

    // Greedy: masked argmax, the lowest index on ties; a state never updated reads as zeros.
    expect(agent.act(s6, Uint8Array.from([1, 1]), false)).toBe(1);
    expect(agent.act(s6, Uint8Array.from([1, 0]), false)).toBe(0);
    expect(agent.act(obsAt(7), Uint8Array.from([1, 1]), false)).toBe(0);
    expect(agent.act(obsAt(7), Uint8Array.from([0, 1]), false)).toBe(1);
    expect(agent.table.has(agent.stateKey(obsAt(7)))).toBe(false);
    // Exploring with ε = 1 stays inside the mask.
    for (let k = 0; k < 50; k++) expect(agent.act(s6, Uint8Array.from([0, 1]), true)).toBe(1);

    // Schedules: ε from 1 to 0 over 5 episodes, α from 0.5 to 0.1 over 10.
    for (let e = 0; e < 4; e++) agent.endEpisode();
    expect(agent.epsilon).toBeCloseTo(0.2, 12);
    expect(agent.alpha).toBeCloseTo(0.5 - 0.4 * 0.4, 12);
    for (let e = 0; e < 10; e++) agent.endEpisode();
    expect(agent.epsilon).toBe(0);
    expect(agent.alpha).toBeCloseTo(0.1, 12);
  });

  it("'slot-mean' starts an unseen state at the mean target of its slot; backward updates the day from its end (by hand)", () => {
    const s = tinyScenario();
    const layout = observationLayout(s);
    const obsAt = (t: number) => tinyObsAt(layout, t);
    const both = Uint8Array.from([1, 1]);
    const agent = newAgent(s, 1, 10, { alphaStart: 0.5, alphaEnd: 0.5, rewardScale: 100, gamma: 1, unseenValue: 'slot-mean', backward: false });
    // Slot 6 first, ending the day: target 4 (r = 0.04). Prior(6) = 4; the new row starts at prior(6)
    // = 0 (read before the update), so Q(s6, 1) = 0 + 0.5·4 = 2.
    agent.learn({ obs: obsAt(6), action: 1, reward: 0.04, nextObs: obsAt(7), nextMask: new Uint8Array(2), done: true });
    expect(Array.from(agent.values(obsAt(6)))).toEqual([0, 2]);
    // Slot 5 → slot 6: max Q(s6) = 2, target 1 + 2 = 3, prior(5) = 3.
    agent.learn({ obs: obsAt(5), action: 0, reward: 0.01, nextObs: obsAt(6), nextMask: both, done: false });
    // A new state at slot 6 (another peak bucket) starts at prior(6) = 4 in every action.
    const other = obsAt(6);
    other[layout.findIndex((f) => f.name === 'peak')] = 0.5;
    agent.learn({ obs: other, action: 0, reward: 0, nextObs: obsAt(7), nextMask: new Uint8Array(2), done: true });
    // Its action 0 moved from 4 towards the target 0: 4 + 0.5·(0 − 4) = 2; action 1 kept the prior.
    expect(Array.from(agent.values(other))).toEqual([2, 4]);
    // And a bootstrap into an unseen state reads prior(slot + 1): slot 4 → an unseen slot-5 state.
    const unseen5 = obsAt(5);
    unseen5[layout.findIndex((f) => f.name === 'peak')] = 0.5;
    agent.learn({ obs: obsAt(4), action: 1, reward: 0, nextObs: unseen5, nextMask: both, done: false });
    expect(agent.values(obsAt(4))[1]).toBeCloseTo(0.5 * 3, 12);

    // Backward: nothing is updated until the day ends, then slot 6 first, so slot 5 sees its new value.
    const back = newAgent(s, 1, 10, { alphaStart: 1, alphaEnd: 1, rewardScale: 100, gamma: 1, backward: true });
    expect(back.learn({ obs: obsAt(5), action: 0, reward: 0.01, nextObs: obsAt(6), nextMask: both, done: false, stream: 0 })).toBeNull();
    expect(back.updates).toBe(0);
    back.learn({ obs: obsAt(6), action: 1, reward: 0.04, nextObs: obsAt(7), nextMask: new Uint8Array(2), done: true, stream: 0 });
    expect(back.updates).toBe(2);
    expect(back.values(obsAt(6))[1]).toBeCloseTo(4, 12);
    expect(back.values(obsAt(5))[0]).toBeCloseTo(5, 12);
  });

  it('save → load gives the same table, greedy actions, counters and random sequence', async () => {
    const s = turnTakingHome();
    const agent = newAgent(s, 3, 100);
    train(agent, s, 40);
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-ql-'));
    dirs.push(dir);
    await agent.save(dir);
    const back = await QLearningAgent.load(dir);
    expect([back.episodes, back.steps, back.updates, back.epsilon, back.alpha]).toEqual([agent.episodes, agent.steps, agent.updates, agent.epsilon, agent.alpha]);
    expect(back.config).toEqual(agent.config);
    expect([...back.table.keys()]).toEqual([...agent.table.keys()]);
    for (const [k, q] of agent.table) expect(Array.from(back.table.get(k)!)).toEqual(Array.from(q));
    const { observations } = playGreedy(agent, s, daySeed(2, 0));
    const env = new FlattenAction(makeEnv(s));
    const mask = new Uint8Array(env.actionSpace.n).fill(1);
    for (const o of observations) expect(back.act(o, mask, false)).toBe(agent.act(o, mask, false));
    expect(playGreedy(back, s, daySeed(2, 1)).actions).toEqual(playGreedy(agent, s, daySeed(2, 1)).actions);
    // Training resumes on the same random sequence.
    train(agent, s, 10);
    train(back, s, 10);
    expect(back.steps).toBe(agent.steps);
    for (const [k, q] of agent.table) expect(Array.from(back.table.get(k)!)).toEqual(Array.from(q));
  });

  it('the same seed trains the same table; another seed explores differently', () => {
    const s = turnTakingHome();
    const a = newAgent(s, 11, 60);
    const b = newAgent(s, 11, 60);
    const c = newAgent(s, 12, 60);
    train(a, s, 60);
    train(b, s, 60);
    train(c, s, 60);
    const dump = (x: QLearningAgent) => [...x.table].map(([k, q]) => [k, Array.from(q)]);
    expect(dump(b)).toEqual(dump(a));
    expect(dump(c)).not.toEqual(dump(a));
  });
});

describe("Q-learning from a teacher's labels (tabular DQfD margin)", () => {
  it("moves the label's entry toward the best other allowed entry + margin, at α, and leaves a leading label alone", () => {
    const s = turnTakingHome();
    const layout = observationLayout(s);
    const flat = new FlattenAction(makeEnv(s));
    const nActions = flat.actionSpace.n;
    const config = qlearningConfig.parse({ teacher: 'mpc', alphaStart: 0.5, alphaEnd: 0.5, margin: 0.8, unseenValue: 'zero' });
    const agent = new QLearningAgent({ layout, nActions, config, seed: 1, totalEpisodes: 10 });
    let { observation, info } = flat.reset({ seed: 3 });
    // Wait until the requests are released (slot 10): a state with a choice.
    while (info.actionMask.reduce((a, b) => a + b, 0) < 2) ({ observation, info } = flat.step(0));
    const mask = info.actionMask;
    const allowed = [...mask.keys()].filter((a) => mask[a]);
    const label = allowed[allowed.length - 1];
    // A fresh state reads 0 everywhere: the label moves to 0 + 0.5·(0 + 0.8 − 0) = 0.4, the others stay.
    agent.learnDemo(observation, mask, label);
    const q = agent.values(observation);
    expect(q[label]).toBeCloseTo(0.4, 12);
    for (const a of allowed) if (a !== label) expect(q[a]).toBe(0);
    // Again: 0.4 + 0.5·(0.8 − 0.4) = 0.6; then greedy is the label.
    agent.learnDemo(observation, mask, label);
    expect(agent.values(observation)[label]).toBeCloseTo(0.6, 12);
    expect(agent.act(observation, mask, false)).toBe(label);
    // A label already leading by the margin is left alone.
    q[label] = 5;
    agent.learnDemo(observation, mask, label);
    expect(agent.values(observation)[label]).toBe(5);
    expect(() => agent.learnDemo(observation, new Uint8Array(nActions), label)).toThrow(/not an allowed action/);
  });
});
