import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asapPolicy } from '../../baseline/index.js';
import { drawCommunityDay, loadCommunity, makeCommunityEnv, playCommunityDay, communityPolicies, type Community, type CommunityEnv, type CommunityInfo } from '../../community/index.js';
import { DT, makeEnv, Rng, sampleAllowed, SLOTS, type Policy } from '../../env/index.js';

const c9 = loadCommunity('citylearn-9');

/** A random allowed action per home (env/rules.ts sampleAllowed on info.home), from one seeded stream. */
function randomPolicies(env: CommunityEnv, seed: number): Policy[] {
  const rng = new Rng(seed);
  return env.possibleAgents.map(() => {
    let out = new Int32Array(0);
    return {
      name: 'random',
      act(_obs, info) {
        if (out.length !== info.home.nvec.length) out = new Int32Array(info.home.nvec.length);
        return sampleAllowed(info.home, rng, out);
      },
    };
  });
}

interface Played {
  rewards: number[][];
  operator: number[];
  observations: Float32Array[][];
  violations: number;
  infos: CommunityInfo[][];
  /** Each home's limitKw at each slot (info.home is a live view: copied when seen). */
  limits: number[][];
}

/** Play a day step by step with the env's own API (not playCommunityDay), keeping everything. */
function play(env: CommunityEnv, seed: number, policies: Policy[]): Played {
  const ids = env.possibleAgents;
  let { observations, infos } = env.reset({ seed });
  const out: Played = { rewards: ids.map(() => []), operator: [], observations: [ids.map((id) => observations[id])], violations: 0, infos: [ids.map((id) => infos[id])], limits: [] };
  for (let t = 0; t < SLOTS; t++) {
    const actions: Record<string, ArrayLike<number>> = {};
    out.limits.push(ids.map((id) => infos[id].home.limitKw));
    ids.forEach((id, i) => (actions[id] = Array.from(policies[i].act(observations[id], infos[id]))));
    const r = env.step(actions);
    ids.forEach((id, i) => {
      out.rewards[i].push(r.rewards[id]);
      out.violations += r.infos[id].violations;
      expect(r.terminations[id]).toBe(t === SLOTS - 1);
      expect(r.truncations[id]).toBe(false);
    });
    out.operator.push(r.operatorReward);
    observations = r.observations;
    infos = r.infos;
    out.observations.push(ids.map((id) => observations[id]));
    out.infos.push(ids.map((id) => infos[id]));
  }
  return out;
}

const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);

/** A community of homes written to a temporary file (paths of scenarios are ids here). */
function tightCommunity(feederKw: number, market = 'sdr', count = 3): Community {
  const dir = mkdtempSync(join(tmpdir(), 'rescoin-community-'));
  const file = join(dir, 'tight.json');
  const raw = { id: 'tight', name: 'tight', description: 'three apartments on a tight feeder', homes: [{ scenario: 'paper-apartment', count }], feeder: { limitKw: feederKw }, peakEurPerKwDay: 0.1, market };
  writeFileSync(file, JSON.stringify(raw));
  return loadCommunity(file);
}

describe('community env: rewards are the score', () => {
  it('Σ rewards + Σ operator rewards = −community J, each return = −J_i (citylearn-9, random allowed actions and asap)', () => {
    const env = makeCommunityEnv(c9);
    for (const [k, seed] of [11, 12, 13].entries()) {
      for (const policies of [randomPolicies(env, 100 + k), env.possibleAgents.map(() => asapPolicy())]) {
        const p = play(env, seed, policies);
        const s = env.trajectory().summary!;
        let total = sum(p.operator);
        p.rewards.forEach((r, i) => {
          expect(Math.abs(sum(r) + s.homes[i].score), `home ${i} return ${sum(r)} vs J_i ${s.homes[i].score}`).toBeLessThan(1e-9);
          total += sum(r);
        });
        expect(Math.abs(total + s.score)).toBeLessThan(1e-9);
        expect(Math.abs(sum(p.operator) + s.operatorCost)).toBeLessThan(1e-12);
        expect(s.operatorCost).toBeCloseTo(c9.peakEurPerKwDay * Math.max(0, s.feederPeakKw), 12);
        expect(p.violations).toBe(0);
        expect(s.seed).toBe(seed);
      }
    }
  });

  it('under none with a feeder that never binds each home is the single-home env, bit for bit', () => {
    const free: Community = { ...c9, market: 'none', feederKw: 1e6 };
    const env = makeCommunityEnv(free);
    for (const seed of [21, 22]) sameAsAlone(free, env, seed);
  });

  function sameAsAlone(free: Community, env: CommunityEnv, seed: number): void {
    const days = drawCommunityDay(free, seed);
    const policies = randomPolicies(env, seed);
    const p = play(env, seed, policies);
    const log = env.trajectory();
    expect(log.days.map((d) => d.seed)).toEqual(days.map((d) => d.seed));
    free.homes.forEach((h, i) => {
      const single = makeEnv(h.scenario);
      single.reset({ options: { day: days[i] } });
      const nc = single.nComponents;
      let last;
      for (let t = 0; t < SLOTS; t++) {
        last = single.step(log.homes[i].actions.subarray(t * nc, (t + 1) * nc));
        expect(last.reward, `home ${h.id} slot ${t}`).toBe(p.rewards[i][t]);
      }
      const J = last!.info.day!;
      const Ji = log.summary!.homes[i];
      expect(Ji.score).toBe(J.score);
      expect(Ji.cost).toBe(J.cost);
      expect(Ji.gridCost).toBeCloseTo(J.cost, 12);
      expect(Ji.p2pBoughtKwh + Ji.p2pSoldKwh).toBe(0);
    });
  }

  it('market payments sum to the grid payment each slot under sdr (the market only redistributes)', () => {
    const env = makeCommunityEnv(c9);
    play(env, 31, randomPolicies(env, 31));
    const log = env.trajectory();
    const n = c9.homes.length;
    let traded = 0;
    for (let t = 0; t < SLOTS; t++) {
      let pay = 0;
      let g = 0;
      for (let i = 0; i < n; i++) {
        pay += log.paymentEur[i * SLOTS + t];
        g += log.homes[i].importKw[t] - log.homes[i].exportKw[t];
        traded += log.soldP2pKw[i * SLOTS + t];
      }
      expect(g).toBeCloseTo(log.feederKw[t], 12);
      const grid = (c9.buyPriceKwh[t] * Math.max(g, 0) - c9.sellPriceKwh * Math.max(-g, 0)) * DT;
      expect(Math.abs(pay - grid), `slot ${t}`).toBeLessThan(1e-12);
    }
    // The day traded something peer to peer, or the identity above would be the grid's alone.
    expect(traded).toBeGreaterThan(0);
  });
});

describe('community env: the feeder', () => {
  it('holds every slot on a tight feeder with random allowed actions, without a fallback', () => {
    const c = tightCommunity(8);
    const env = makeCommunityEnv(c);
    let binding = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const p = play(env, seed, randomPolicies(env, seed));
      const log = env.trajectory();
      expect(p.violations).toBe(0);
      for (let t = 0; t < SLOTS; t++) {
        const excess = p.infos[t][0].feederExcessKw;
        if (excess === 0) expect(log.feederKw[t], `seed ${seed} slot ${t}`).toBeLessThanOrEqual(c.feederKw + 1e-6);
        if (p.limits[t].some((kw) => kw < 6)) binding++;
      }
    }
    // The test means something only if the caps were below a contract somewhere.
    expect(binding).toBeGreaterThan(0);
  });

  it('caps share the headroom: Σ cap = feederKw and cap ≥ forced net, or cap = forced net when the forced loads exceed the feeder (reported)', () => {
    // 5 kW for three apartments: the EVs' floors and the running cycles sometimes need more.
    const c = tightCommunity(5);
    const env = makeCommunityEnv(c);
    const core = env.core;
    let excessSlots = 0;
    for (let seed = 0; seed < 30; seed++) {
      const policies = randomPolicies(env, seed);
      let { observations, infos } = env.reset({ seed });
      for (let t = 0; t < SLOTS; t++) {
        const H = core.headroomKw;
        let sumCap = 0;
        for (let i = 0; i < core.n; i++) {
          sumCap += core.capKw[i];
          expect(core.capKw[i]).toBeGreaterThanOrEqual(core.forcedNetKw[i]);
          if (H < 0) expect(core.capKw[i]).toBe(core.forcedNetKw[i]);
        }
        const excess = infos['paper-apartment-1'].feederExcessKw;
        expect(excess).toBe(Math.max(0, -H));
        if (H >= 0) expect(Math.abs(sumCap - c.feederKw)).toBeLessThan(1e-9);
        else excessSlots++;
        const actions = Object.fromEntries(env.possibleAgents.map((id, i) => [id, policies[i].act(observations[id], infos[id])]));
        const r = env.step(actions);
        for (const id of env.possibleAgents) expect(r.infos[id].violations, `seed ${seed} slot ${t} ${id}`).toBe(0);
        expect(env.trajectory().feederKw[t]).toBeLessThanOrEqual(c.feederKw + excess + 1e-6);
        ({ observations, infos } = r);
      }
      const s = env.trajectory().summary!;
      let over = 0;
      for (let t = 0; t < SLOTS; t++) over += Math.max(0, env.trajectory().feederKw[t] - c.feederKw) * DT;
      expect(s.feederExcessKwh).toBeCloseTo(over, 5);
    }
    expect(excessSlots).toBeGreaterThan(0);
  });

  it('rule policies fit the caps: asap, cheapest and precharge play a tight feeder without a fallback', async () => {
    const c = tightCommunity(5);
    const env = makeCommunityEnv(c);
    for (const rule of ['asap', 'cheapest', 'precharge'] as const) {
      for (const seed of [7, 8, 9]) {
        const { summary, log, operatorReturn } = await playCommunityDay(env, communityPolicies(c, rule), seed);
        expect(summary.homes.map((h) => h.violations)).toEqual([0, 0, 0]);
        expect(summary.seed).toBe(seed);
        let ret = operatorReturn;
        log.homes.forEach((h) => h.rewards.forEach((r) => (ret += r)));
        expect(Math.abs(ret + summary.score)).toBeLessThan(1e-9);
      }
    }
  });

  it('the MPC plays a community home under its cap without a fallback (one apartment on a 1 kW feeder)', async () => {
    // Alone (feeder 1e6) the MPC's plan of this day peaks at 1.393 kW (a dishwasher's forced slot).
    const c = tightCommunity(1, 'sdr', 1);
    const env = makeCommunityEnv(c);
    const { summary, log } = await playCommunityDay(env, communityPolicies(c, 'mpc'), 3);
    expect(summary.homes[0].violations).toBe(0);
    for (let t = 0; t < SLOTS; t++) expect(log.feederKw[t]).toBeLessThanOrEqual(1 + log.feederExcessKw[t] + 1e-6);
    // The forced slots went over the feeder (the summary counts what physically passed it).
    expect(summary.feederExcessKwh).toBeGreaterThan(0);
  }, 60_000);
});

describe('community env: API', () => {
  it('playCommunityDay gives each policy its home: the single-home observation prefix, its StepInfo, and its Day when it has foresight', async () => {
    const env = makeCommunityEnv(c9);
    const days = drawCommunityDay(c9, 61);
    const seen = env.possibleAgents.map(() => ({ day: -1, lengths: new Set<number>(), slots: 0 }));
    const policies: Policy[] = env.possibleAgents.map((_, i) => {
      const inner = asapPolicy();
      return {
        name: 'spy',
        foresight: i % 2 === 0,
        reset(_info, day) {
          seen[i].day = day ? day.seed : -1;
        },
        act(obs, info) {
          seen[i].lengths.add(obs.length);
          seen[i].slots++;
          return inner.act(obs, info);
        },
      };
    });
    const { summary } = await playCommunityDay(env, policies, days);
    expect(summary.seed).toBe(-1);
    env.possibleAgents.forEach((id, i) => {
      expect(seen[i].day).toBe(i % 2 === 0 ? days[i].seed : -1);
      expect([...seen[i].lengths]).toEqual([env.observationSpace(id).shape[0] - 4]);
      expect(seen[i].slots).toBe(SLOTS);
    });
  });

  it('same seed, same observations, rewards and summary bit for bit', () => {
    const run = () => {
      const env = makeCommunityEnv(c9);
      const p = play(env, 41, randomPolicies(env, 41));
      return { p, s: env.trajectory().summary!, state: env.state() };
    };
    const a = run();
    const b = run();
    expect(b.p.rewards).toEqual(a.p.rewards);
    expect(b.p.operator).toEqual(a.p.operator);
    a.p.observations.forEach((row, t) => row.forEach((o, i) => expect(Buffer.from(b.p.observations[t][i].buffer, b.p.observations[t][i].byteOffset, o.byteLength).equals(Buffer.from(o.buffer, o.byteOffset, o.byteLength))).toBe(true)));
    expect(b.s).toEqual(a.s);
    expect(b.state).toEqual(a.state);
  });

  it('spaces are the same object at every call; agents are emptied at the end; step after the end or before reset throws', () => {
    const env = makeCommunityEnv(c9);
    expect(() => env.step({})).toThrow(/reset/);
    const id = env.possibleAgents[0];
    expect(env.observationSpace(id)).toBe(env.observationSpace(id));
    expect(env.actionSpace(id)).toBe(env.actionSpace(id));
    expect(() => env.observationSpace('nobody')).toThrow(/nobody.*b1/);
    const { observations } = env.reset({ seed: 3 });
    expect(env.agents).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    expect(observations[id].length).toBe(env.observationSpace(id).shape[0]);
    expect(env.state().length).toBe(env.possibleAgents.reduce((n, a) => n + env.observationSpace(a).shape[0], 0) + 4);
    play(env, 3, env.possibleAgents.map(() => asapPolicy()));
    expect(env.agents).toEqual([]);
    expect(env.observationSpace(id)).toBe(env.observationSpace(id));
    const idle = Object.fromEntries(env.possibleAgents.map((a) => [a, new Int32Array(env.actionSpace(a).nvec.length)]));
    expect(() => env.step(idle)).toThrow(/reset/);
    env.reset({ seed: 4 });
    expect(() => env.step({ ...idle, b1: [0] })).toThrow(/actions\["b1"\]/);
  });

  it('the 4 community features are in their Box bounds, and the whole observation too', () => {
    for (const c of [c9, tightCommunity(8, 'bill-sharing')]) {
      const env = makeCommunityEnv(c);
      const p = play(env, 51, randomPolicies(env, 51));
      const ids = env.possibleAgents;
      let headroomSeen = false;
      p.observations.forEach((row, t) =>
        row.forEach((o, i) => {
          const box = env.observationSpace(ids[i]);
          expect(box.firstOutside(o), `slot ${t} home ${ids[i]}`).toBeNull();
          const f = o.subarray(o.length - 4);
          if (t > 0 && t < SLOTS) expect(f[2]).toBeCloseTo(Math.max(-1, Math.min(1, env.trajectory().feederKw[t - 1] / c.feederKw)), 6);
          if (t < SLOTS && f[3] > 0 && f[3] < 1) headroomSeen = true;
        }),
      );
      expect(headroomSeen).toBe(true);
      // Slot 0 shows the grid prices and no flow yet.
      const f0 = p.observations[0][0].subarray(p.observations[0][0].length - 4);
      const max = Math.max(...c.buyPriceKwh);
      expect(f0[0]).toBeCloseTo(c.buyPriceKwh[0] / max, 6);
      expect(f0[1]).toBeCloseTo(c.sellPriceKwh / max, 6);
      expect(f0[2]).toBe(0);
    }
  });
});
