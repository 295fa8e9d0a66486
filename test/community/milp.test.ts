import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOTS } from '../../env/index.js';
import { solve } from '../../baseline/lp.js';
import { solveDay } from '../../baseline/milp.js';
import { drawCommunityDay, parseCommunity, type Community } from '../../community/community.js';
import { lagrangianBound, projectCappedSimplex } from '../../community/dual.js';
import { makeCommunityEnv } from '../../community/env.js';
import { buildCommunityModel } from '../../community/milp-model.js';
import { ownOptima, replayCommunity, scheduleFlows, solveCommunityDay } from '../../community/milp.js';
import { communityPolicies, playCommunityDay } from '../../community/play.js';
import { scoreCommunityDay } from '../../community/score.js';

/**
 * The community MILP on three of the CityLearn homes (b1, b2, b3), community day seed 3 (a quick
 * day to prove: 0.4–2.3 s each). The file's 40 kW feeder is far above what the three can draw, so
 * the env's feeder caps stay at the contracts and the MILP's actions replay as they are; the
 * binding case lowers the feeder to 4.5 kW, which this day's forced loads allow (their highest
 * base load minus PV is 3.1 kW), while the file check asks for the three homes' highest base load
 * of the whole year (12.5 kW), so it is set on the parsed object.
 */

const SEED = 3;

function community(market: 'sdr' | 'none', peakEurPerKwDay: number): Community {
  return parseCommunity({
    id: `three-${market}`,
    name: 'three CityLearn homes',
    description: 'b1, b2, b3 behind one feeder',
    homes: [{ scenario: 'citylearn-b1', id: 'b1' }, { scenario: 'citylearn-b2', id: 'b2' }, { scenario: 'citylearn-b3', id: 'b3' }],
    feeder: { limitKw: 40 },
    peakEurPerKwDay,
    market,
  });
}

/** Σ returns + Σ operator rewards of the rules played together. */
async function asapScore(c: Community): Promise<number> {
  const { summary } = await playCommunityDay(makeCommunityEnv(c), communityPolicies(c, 'asap'), drawCommunityDay(c, SEED));
  return summary.score;
}

describe('community MILP', () => {
  for (const market of ['sdr', 'none'] as const) {
    it(`${market}: J* is proven, replays in the env to −J*, and is at most asap and the own optima together`, async () => {
      const c = community(market, 0.1);
      const days = drawCommunityDay(c, SEED);
      const m = await solveCommunityDay(c, days, { timeLimitSec: 120 });
      expect(m.status).toBe('optimal');
      expect(m.mipGap).toBeLessThanOrEqual(1e-7);
      // The one score of a community day agrees with the solver's objective.
      expect(scoreCommunityDay(c, days, scheduleFlows(m.homes.map((h) => h.schedule))).score).toBeCloseTo(m.score, 7);
      const r = replayCommunity(c, days, m.homes);
      expect(r.violations).toBe(0);
      expect(Math.abs(r.totalReturn + m.score)).toBeLessThan(1e-6);
      expect(Math.abs(r.summary.score - m.score)).toBeLessThan(1e-6);
      const own = await ownOptima(c, days);
      expect(own.feasible).toBe(true);
      expect(m.score).toBeLessThanOrEqual(own.score + 1e-6);
      // The own optima pay the community peak they happen to make; cooperating flattens it.
      expect(own.score - m.score).toBeGreaterThan(0.005);
      expect(m.score).toBeLessThan((await asapScore(c)) - 0.05);
    }, 120_000);
  }

  it('none, no community peak, a loose feeder: nothing couples the homes, so J* = Σ each home’s own J*', async () => {
    const c = community('none', 0);
    const days = drawCommunityDay(c, SEED);
    const m = await solveCommunityDay(c, days);
    let own = 0;
    for (let i = 0; i < days.length; i++) own += (await solveDay(c.homes[i].scenario, days[i])).score;
    expect(m.status).toBe('optimal');
    expect(m.score).toBeCloseTo(own, 6);
  }, 60_000);

  it('a binding feeder: the schedule holds it, costs more than without it, and the own optima break it', async () => {
    const loose = community('sdr', 0);
    const c = { ...loose, feederKw: 4.5 };
    const days = drawCommunityDay(c, SEED);
    const free = await solveCommunityDay(loose, days);
    const m = await solveCommunityDay(c, days, { timeLimitSec: 120 });
    expect(m.status).toBe('optimal');
    for (let t = 0; t < SLOTS; t++) expect(m.feederKw[t]).toBeLessThanOrEqual(4.5 + 1e-9);
    expect(Math.max(...free.feederKw)).toBeGreaterThan(4.5);
    expect(m.score).toBeGreaterThan(free.score + 0.01);
    const s = scoreCommunityDay(c, days, scheduleFlows(m.homes.map((h) => h.schedule)));
    expect(s.score).toBeCloseTo(m.score, 7);
    expect(s.feederExcessKwh).toBe(0);
    const own = await ownOptima(c, days);
    expect(own.feasible).toBe(false);
    expect(own.feederExcessKw).toBeGreaterThan(0.3);
    expect(m.score).toBeLessThan((await asapScore(c)) - 0.05);
  }, 120_000);

  // Under the env's default operator (the flexibility shares, community/caps.ts) a joint action
  // whose total fits the feeder but whose split differs is masked; a coordinator that allocates the
  // headroom as the plan does (planCaps) admits the plan exactly. 4.5 kW binds; 7 kW does not, but
  // the shares bind before the feeder does.
  for (const feederKw of [4.5, 7]) {
    it(`a ${feederKw} kW feeder: the schedule replays to −J* under the plan's caps, not under the flexibility shares`, async () => {
      const c = { ...community('sdr', 0), feederKw };
      const days = drawCommunityDay(c, SEED);
      const m = await solveCommunityDay(c, days, { timeLimitSec: 120 });
      expect(m.status).toBe('optimal');
      const r = replayCommunity(c, days, m.homes, 'plan');
      expect(r.violations).toBe(0);
      expect(Math.abs(r.totalReturn + m.score)).toBeLessThan(1e-6);
      expect(Math.abs(r.summary.score - m.score)).toBeLessThan(1e-6);
      expect(r.summary.feederExcessKwh).toBe(0);
      const shares = replayCommunity(c, days, m.homes, 'flex-share');
      expect(shares.violations).toBeGreaterThan(0);
      expect(shares.summary.score).toBeGreaterThan(m.score + 1e-3);
    }, 120_000);
  }

  it('the Lagrangian bound lies between the LP relaxation and J*, within 5 % of J*', async () => {
    for (const market of ['sdr', 'none'] as const) {
      const c = community(market, 0.1);
      const days = drawCommunityDay(c, SEED);
      const m = await solveCommunityDay(c, days);
      const { model } = buildCommunityModel(c, days);
      for (const col of model.cols) col.integer = false;
      const lp = await solve(model);
      const b = await lagrangianBound(c, days, { iterations: 3 });
      expect(b.iterations).toBe(3);
      expect(b.bound).toBeLessThanOrEqual(m.score + 1e-6);
      // Started at the LP's duals, each home's MILP is at least its relaxation: the bound is at least the LP's.
      expect(b.bound).toBeGreaterThanOrEqual(lp.objective - 1e-6);
      expect(lp.objective).toBeLessThan(m.score - 0.01);
      expect(b.bound).toBeGreaterThan(m.score - 0.05 * Math.abs(m.score));
      // The same call gives the same bound bit for bit.
      expect((await lagrangianBound(c, days, { iterations: 3 })).bound).toBe(b.bound);
    }
  }, 120_000);

  it('the Lagrangian bound under a binding feeder stays below J*', async () => {
    const c = { ...community('sdr', 0), feederKw: 4.5 };
    const days = drawCommunityDay(c, SEED);
    const m = await solveCommunityDay(c, days);
    const b = await lagrangianBound(c, days, { iterations: 2, lpStart: false });
    expect(b.bound).toBeLessThanOrEqual(m.score + 1e-6);
    expect(b.ownFeasible).toBe(false);
  }, 120_000);

  it('a home paid more RSC for export than for self-use cannot import and export at once for the RSC', async () => {
    // Without its price a home's export keeps only its RESCoin part, here a gain: the model would
    // import and export in one slot (the feeder nets it) and claim a J the env never pays (2.8095
    // € against 2.8569 € on this day without the binary that forbids it).
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-cmilp-'));
    writeFileSync(join(dir, 'rich.json'), JSON.stringify({ extends: 'citylearn-b1', id: 'rich-export', rescoin: { perKwhSelfConsumed: 0.5, perKwhExported: 1 } }));
    const homes = [{ scenario: 'rich.json', id: 'a' }, { scenario: 'citylearn-b2', id: 'b' }];
    const c = parseCommunity({ id: 'rich', name: 'rich', description: 'export pays RSC', homes, feeder: { limitKw: 40 }, peakEurPerKwDay: 0.1, market: 'sdr' }, 'test', dir);
    const days = drawCommunityDay(c, SEED);
    const m = await solveCommunityDay(c, days);
    expect(m.status).toBe('optimal');
    expect(scoreCommunityDay(c, days, scheduleFlows(m.homes.map((h) => h.schedule))).score).toBeCloseTo(m.score, 7);
  }, 60_000);

  it('projects the peak multipliers onto { ν ≥ 0, Σν ≤ cap }', () => {
    const v = Float64Array.from([0.3, -0.1, 0.2, 0.05]);
    projectCappedSimplex(v, 0.1);
    // θ = (0.3 + 0.2 − 0.1)/2 = 0.2 leaves 0.1 and 0: the sum is the cap.
    expect(Array.from(v).map((x) => +x.toFixed(12))).toEqual([0.1, 0, 0, 0]);
    const w = Float64Array.from([0.01, 0.02]);
    projectCappedSimplex(w, 0.1);
    expect(Array.from(w)).toEqual([0.01, 0.02]);
  });

  it('keeps each home’s rows under its prefix and drops only the EV symmetry rows', () => {
    const c = community('sdr', 0.1);
    const days = drawCommunityDay(c, SEED);
    const { model, homes } = buildCommunityModel(c, days);
    expect(homes).toHaveLength(3);
    expect(model.rows.some((r) => r.name.includes('ev_sym_'))).toBe(false);
    expect(model.rows.filter((r) => r.name.startsWith('feeder_def_'))).toHaveLength(SLOTS);
    expect(model.cols.filter((col) => col.name.startsWith('h1_import_'))).toHaveLength(SLOTS);
    // Under a netting market a home's import has no price of its own; the grid import has λb.
    expect(model.cols[homes[0].imp[10]].cost).toBe(0);
  });
});
