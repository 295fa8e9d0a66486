import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearSlot } from '../../community/market.js';
import { loadCommunity, drawCommunityDay, type Community } from '../../community/community.js';
import { replayBills, settleCommunityDay, type SettleableDay } from '../../community/settle.js';
import { DT, heldOutDay, Rng, SLOTS } from '../../env/index.js';
import { chainPath, Ledger, readBlocks, toMicroRsc, verifyLedger } from '../../ledger/index.js';

const clock = () => 1_700_000_000_000;
const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-settle-'));
const full = loadCommunity('citylearn-9');
/** The first three homes of citylearn-9: the same tariff, market (sdr) and coin value. */
const three: Community = { ...full, homes: full.homes.slice(0, 3) };

/**
 * A community day with random net loads cleared by the community's market, shaped as the env's
 * CommunityDayLog: what settle reads (payments, grid shares, meter data, each home's RSC).
 */
function syntheticDay(c: Community, seed: number, rescoin: (i: number) => number): SettleableDay {
  const n = c.homes.length;
  const rng = new Rng(seed);
  const days = drawCommunityDay(c, seed);
  const log = { seed, paymentEur: new Float64Array(n * SLOTS), boughtGridKw: new Float64Array(n * SLOTS), soldGridKw: new Float64Array(n * SLOTS) };
  const homes = days.map((day) => ({ day, importKw: new Float64Array(SLOTS), exportKw: new Float64Array(SLOTS) }));
  for (let t = 0; t < SLOTS; t++) {
    const net = homes.map((h, i) => (rng.float() - 0.5) * (4 + i));
    net.forEach((x, i) => ((homes[i].importKw[t] = Math.max(x, 0)), (homes[i].exportKw[t] = Math.max(-x, 0))));
    const cl = clearSlot(c.market, net, c.buyPriceKwh[t], c.sellPriceKwh);
    for (let i = 0; i < n; i++) {
      log.paymentEur[i * SLOTS + t] = cl.paymentEurPerH[i] * DT;
      log.boughtGridKw[i * SLOTS + t] = cl.boughtGridKw[i];
      log.soldGridKw[i * SLOTS + t] = cl.soldGridKw[i];
    }
  }
  return { ...log, homes, summary: { homes: c.homes.map((h, i) => ({ id: h.id, rescoin: rescoin(i) })) } };
}

const sum = (xs: ArrayLike<number>, i: number) => Array.from(xs).slice(i * SLOTS, (i + 1) * SLOTS).reduce((a, b) => a + b, 0);

/** Home i's grid part, from the log: its grid energy at the grid's prices. */
function gridEur(c: Community, log: SettleableDay, i: number): number {
  let g = 0;
  for (let t = 0; t < SLOTS; t++) g += (c.buyPriceKwh[t] * log.boughtGridKw[i * SLOTS + t] - c.sellPriceKwh * log.soldGridKw[i * SLOTS + t]) * DT;
  return g;
}

/** The checks every settled day must pass: the replay equals the bills. */
function expectReplayEqualsBills(dir: string, c: Community, log: SettleableDay, replayedDay: ReturnType<typeof replayBills>[number]) {
  const v = c.rscValueEur;
  let exact = 0;
  c.homes.forEach((_, i) => {
    const bill = sum(log.paymentEur, i);
    const grid = gridEur(c, log, i);
    const r = replayedDay.homes[i];
    // The replayed µRSC are the home's internal part converted and rounded, to the µRSC …
    const internalEur = bill - grid;
    expect(Math.abs(r.internalMicroRsc - toMicroRsc(internalEur / v))).toBeLessThanOrEqual(1);
    if (r.internalMicroRsc === toMicroRsc(internalEur / v)) exact++;
    // … so grid part + replayed internal part is the market bill to 1 µRSC's € value.
    expect(Math.abs(grid + r.internalEur - bill)).toBeLessThanOrEqual(1e-6 * v + 1e-12);
  });
  expect(replayedDay.homes.reduce((a, h) => a + h.internalMicroRsc, 0)).toBe(0);
  // At most n/2 homes absorb a rounding unit.
  expect(exact).toBeGreaterThanOrEqual(Math.ceil(c.homes.length / 2));
  expect(verifyLedger(dir).ok).toBe(true);
}

describe('settleCommunityDay', () => {
  it('settles a day as one block whose replay equals the bills; verify passes', () => {
    const dir = tmp();
    const ledger = Ledger.init(dir, { clock });
    const log = syntheticDay(three, 101, (i) => [0.4, 0, 1.25][i]);
    const s = settleCommunityDay(ledger, three, log, 0);
    expect(s.height).toBe(1);
    expect(readBlocks(dir)).toHaveLength(2);
    expect(s.accounts).toEqual(['b1', 'b2', 'b3']);
    // Home b2 has 0 RSC: no payout mint for it.
    expect(s.mints.map((m) => [m.to, m.amount])).toEqual([
      ['b1', 400_000],
      ['b3', 1_250_000],
    ]);
    expect(s.transfers.length).toBeGreaterThan(0);
    const replayed = replayBills(dir, three);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatchObject({ day: 0, seed: 101, height: 1 });
    expect(replayed[0].homes.map((h) => h.internalMicroRsc)).toEqual(s.perHome.map((h) => h.internalMicroRsc));
    expect(replayed[0].homes.map((h) => h.payoutMicroRsc)).toEqual([400_000, 0, 1_250_000]);
    expectReplayEqualsBills(dir, three, log, replayed[0]);
  });

  it('orders the block: accounts, payouts, then per payer its deposit (exactly the shortfall) and its transfers', () => {
    const dir = tmp();
    const ledger = Ledger.init(dir, { clock });
    const s = settleCommunityDay(ledger, full, syntheticDay(full, 7, () => 0.01), 3);
    const txs = readBlocks(dir)[1].txs;
    const kinds = txs.map((t) => (t.type === 'mint' ? (t.reason.startsWith('deposit') ? 'deposit' : 'payout') : t.type));
    expect(kinds.slice(0, 9)).toEqual(new Array(9).fill('account'));
    expect(kinds.slice(9, 18)).toEqual(new Array(9).fill('payout'));
    expect(s.deposits.length).toBeGreaterThan(0);
    for (const h of s.perHome) {
      const bal = ledger.balance(h.id);
      expect(bal).toBe(h.payoutMicroRsc + h.depositMicroRsc - h.internalMicroRsc);
      // A deposit covers exactly what the payout lacked: the payer ends at 0.
      if (h.depositMicroRsc > 0) expect(bal).toBe(0);
      if (h.internalMicroRsc <= 0) expect(h.depositMicroRsc).toBe(0);
    }
    for (const [k, t] of txs.entries()) {
      if (t.type !== 'transfer') continue;
      expect(t.memo).toMatch(/^community citylearn-9 day 3 seed 7: b\d pays b\d for energy traded in the sdr market/);
      // A payer's deposit, if any, comes before its first transfer.
      const dep = txs.findIndex((x) => x.type === 'mint' && x.to === t.from && x.reason.startsWith('deposit'));
      if (dep >= 0) expect(dep).toBeLessThan(k);
    }
    expect(replayBills(dir, full)[0].homes.map((h) => h.depositMicroRsc)).toEqual(s.perHome.map((h) => h.depositMicroRsc));
  });

  it('gives the same transfers for the same day on another ledger', () => {
    const a = settleCommunityDay(Ledger.init(tmp(), { clock }), full, syntheticDay(full, 9, (i) => i / 10), 0);
    const b = settleCommunityDay(Ledger.init(tmp(), { clock }), full, syntheticDay(full, 9, (i) => i / 10), 0);
    expect(b.transfers).toEqual(a.transfers);
    expect(b.mints).toEqual(a.mints);
    expect(b.deposits).toEqual(a.deposits);
  });

  it('refuses to settle a day twice, leaving the chain unchanged', () => {
    const dir = tmp();
    const ledger = Ledger.init(dir, { clock });
    const log = syntheticDay(three, 5, () => 0.3);
    settleCommunityDay(ledger, three, log, 0);
    const before = readFileSync(chainPath(dir));
    expect(() => settleCommunityDay(ledger, three, log, 0)).toThrow(/day seed 5 is already settled in block 1/);
    expect(() => settleCommunityDay(ledger, three, log, 4)).toThrow(/already settled/);
    // Under another community id the day is not marked, but its payouts' meter data is paid already.
    expect(() => settleCommunityDay(ledger, { ...three, id: 'other' }, log, 0)).toThrow(/meter data [0-9a-f]{64} was already paid to "b1"/);
    expect(readFileSync(chainPath(dir)).equals(before)).toBe(true);
    expect(ledger.pendingCount).toBe(0);
    // The ledger still takes the next day.
    expect(settleCommunityDay(ledger, three, syntheticDay(three, 6, () => 0.3), 1).height).toBe(2);
    expect(replayBills(dir, three).map((d) => [d.day, d.seed, d.height])).toEqual([
      [0, 5, 1],
      [1, 6, 2],
    ]);
  });

  it('verify and replayBills detect a tampered byte of chain.jsonl', () => {
    const dir = tmp();
    const ledger = Ledger.init(dir, { clock });
    const s = settleCommunityDay(ledger, three, syntheticDay(three, 11, () => 0.2), 0);
    ledger.close();
    const bytes = readFileSync(chainPath(dir));
    const text = bytes.toString('utf8');
    const amount = s.transfers[0].amount;
    // Raise a transfer's amount by one digit's worth: still valid JSON, still canonical.
    const at = text.indexOf(`"amount":${amount},"from":"${s.transfers[0].from}"`) + '"amount":'.length;
    expect(at).toBeGreaterThan(9);
    const forged = Buffer.from(bytes);
    forged[at] = forged[at] === 0x39 ? 0x38 : forged[at] + 1;
    writeFileSync(chainPath(dir), forged);
    const v = verifyLedger(dir);
    expect(v.ok).toBe(false);
    expect(v.ok ? -1 : v.height).toBe(1);
    expect(() => replayBills(dir, three)).toThrow(/does not verify: block 1/);
  });

  it('refuses a log that does not match the community, or has no summary', () => {
    const ledger = Ledger.init(tmp(), { clock });
    const log = syntheticDay(three, 1, () => 0);
    expect(() => settleCommunityDay(ledger, full, log, 0)).toThrow(/the log has 3 homes, community citylearn-9 has 9/);
    expect(() => settleCommunityDay(ledger, three, { ...log, summary: undefined }, 0)).toThrow(/no summary/);
    expect(() => settleCommunityDay(ledger, three, log, -1)).toThrow(/day: must be an integer ≥ 0/);
    expect(() => settleCommunityDay(ledger, { ...three, rscValueEur: 0 }, log, 0)).toThrow(/valueEur must be > 0/);
    expect(ledger.height).toBe(0);
  });
});

describe('settling days played in the community env', () => {
  it('citylearn-9 played with asap: the replay equals the bills, two days, verify passes', async () => {
    const { makeCommunityEnv } = await import('../../community/env.js');
    const { communityPolicies, playCommunityDay } = await import('../../community/play.js');
    const env = makeCommunityEnv(full);
    const policies = communityPolicies(full, 'asap');
    const dir = tmp();
    const ledger = Ledger.init(dir, { clock });
    const logs: SettleableDay[] = [];
    for (const [d, seed] of [heldOutDay(0), heldOutDay(1)].entries()) {
      const { log } = await playCommunityDay(env, policies, seed);
      const s = settleCommunityDay(ledger, full, log, d);
      expect(s.height).toBe(d + 1);
      // The market moves money between these homes on a real day, so there is something to settle.
      expect(s.transfers.length).toBeGreaterThan(0);
      s.perHome.forEach((h, i) => expect(h.billEur).toBeCloseTo(log.summary!.homes[i].cost, 9));
      s.perHome.forEach((h, i) => expect(h.gridEur).toBeCloseTo(gridEur(full, log, i), 12));
      logs.push(log);
    }
    const replayed = replayBills(dir, full);
    expect(replayed.map((r) => r.seed)).toEqual([heldOutDay(0), heldOutDay(1)]);
    logs.forEach((log, d) => expectReplayEqualsBills(dir, full, log, replayed[d]));
  }, 120_000);
});
