import { describe, expect, it } from 'vitest';
import { clearSlot, MECHANISMS, newClearing, type Clearing, type Mechanism } from '../../community/market.js';
import { Rng } from '../../env/rng.js';

const LB = 0.2;
const LS = 0.05;
const EPS = 1e-12;

interface Expected {
  buy: number;
  sell: number;
  pay: number[];
  boughtP2p: number[];
  boughtGrid: number[];
  soldP2p: number[];
  soldGrid: number[];
  imp: number;
  exp: number;
  gridPay: number;
}

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`).toBeLessThan(EPS);
}

function check(c: Clearing, e: Expected, d: number, s: number): void {
  expect(Math.abs(c.buyPrice - e.buy), `buyPrice ${c.buyPrice}`).toBeLessThan(EPS);
  expect(Math.abs(c.sellPrice - e.sell), `sellPrice ${c.sellPrice}`).toBeLessThan(EPS);
  expectClose(c.paymentEurPerH, e.pay, 'payment');
  expectClose(c.boughtP2pKw, e.boughtP2p, 'boughtP2p');
  expectClose(c.boughtGridKw, e.boughtGrid, 'boughtGrid');
  expectClose(c.soldP2pKw, e.soldP2p, 'soldP2p');
  expectClose(c.soldGridKw, e.soldGrid, 'soldGrid');
  expect(Math.abs(c.gridImportKw - e.imp)).toBeLessThan(EPS);
  expect(Math.abs(c.gridExportKw - e.exp)).toBeLessThan(EPS);
  expect(Math.abs(c.gridPaymentEurPerH - e.gridPay)).toBeLessThan(EPS);
  expect(c.demandKw).toBe(d);
  expect(c.supplyKw).toBe(s);
}

/** Volumes when the community nets: the short side all P2P, the long side its share short/long. */
const z3 = [0, 0, 0];

describe('clearSlot: hand-computed vectors, λb = 0.2, λs = 0.05 (P_mm = 0.125)', () => {
  // nets [3, 1, −2]: D = 4, S = 2. Netting: buyers buy S/D = 1/2 of their net from peers,
  // the seller sells all 2 to peers; import 2, export 0, grid bill 0.2·2 = 0.4.
  const a = [3, 1, -2];
  const aNet = { boughtP2p: [1.5, 0.5, 0], boughtGrid: [1.5, 0.5, 0], soldP2p: [0, 0, 2], soldGrid: z3, imp: 2, exp: 0, gridPay: 0.4 };
  const vectorsA: Record<Mechanism, Expected> = {
    // none: 0.2·3, 0.2·1, −0.05·2; grid 4 in, 2 out, 0.8 − 0.1 = 0.7.
    none: { buy: 0.2, sell: 0.05, pay: [0.6, 0.2, -0.1], boughtP2p: z3, boughtGrid: [3, 1, 0], soldP2p: z3, soldGrid: [0, 0, 2], imp: 4, exp: 2, gridPay: 0.7 },
    // bill sharing: sellers 0.05; buyers (0.2·2 + 0.05·2)/4 = 0.125 → 0.375 + 0.125 − 0.1 = 0.4.
    'bill-sharing': { buy: 0.125, sell: 0.05, pay: [0.375, 0.125, -0.1], ...aNet },
    // mid-market: sellers 0.125; buyers (0.125·2 + 0.2·2)/4 = 0.1625 → 0.4875 + 0.1625 − 0.25 = 0.4.
    'mid-market': { buy: 0.1625, sell: 0.125, pay: [0.4875, 0.1625, -0.25], ...aNet },
    // sdr: SDR = 0.5; P_sell = 0.01/(0.15·0.5 + 0.05) = 0.08; P_buy = 0.08·0.5 + 0.2·0.5 = 0.14
    // → 0.42 + 0.14 − 0.16 = 0.4.
    sdr: { buy: 0.14, sell: 0.08, pay: [0.42, 0.14, -0.16], ...aNet },
  };
  // nets [1, −3, −1]: D = 1, S = 4. Netting: the buyer buys all from peers, sellers sell D/S = 1/4
  // of their net to peers; import 0, export 3, grid bill −0.05·3 = −0.15.
  const b = [1, -3, -1];
  const bNet = { boughtP2p: [1, 0, 0], boughtGrid: z3, soldP2p: [0, 0.75, 0.25], soldGrid: [0, 2.25, 0.75], imp: 0, exp: 3, gridPay: -0.15 };
  const vectorsB: Record<Mechanism, Expected> = {
    // none: 0.2, −0.15, −0.05; grid 1 in, 4 out, 0.2 − 0.2 = 0.
    none: { buy: 0.2, sell: 0.05, pay: [0.2, -0.15, -0.05], boughtP2p: z3, boughtGrid: [1, 0, 0], soldP2p: z3, soldGrid: [0, 3, 1], imp: 1, exp: 4, gridPay: 0 },
    // bill sharing: buyers 0.2; sellers (0.05·3 + 0.2·1)/4 = 0.0875 → 0.2 − 0.2625 − 0.0875 = −0.15.
    'bill-sharing': { buy: 0.2, sell: 0.0875, pay: [0.2, -0.2625, -0.0875], ...bNet },
    // mid-market: buyers 0.125; sellers (0.125·1 + 0.05·3)/4 = 0.06875 → 0.125 − 0.20625 − 0.06875.
    'mid-market': { buy: 0.125, sell: 0.06875, pay: [0.125, -0.20625, -0.06875], ...bNet },
    // sdr: SDR = 4 ≥ 1 → both 0.05 → 0.05 − 0.15 − 0.05 = −0.15.
    sdr: { buy: 0.05, sell: 0.05, pay: [0.05, -0.15, -0.05], ...bNet },
  };
  // nets [2, −1, −1]: D = S = 2. Netting: all P2P, no grid exchange, payments sum to 0.
  const c = [2, -1, -1];
  const cNet = { boughtP2p: [2, 0, 0], boughtGrid: z3, soldP2p: [0, 1, 1], soldGrid: z3, imp: 0, exp: 0, gridPay: 0 };
  const vectorsC: Record<Mechanism, Expected> = {
    none: { buy: 0.2, sell: 0.05, pay: [0.4, -0.05, -0.05], boughtP2p: z3, boughtGrid: [2, 0, 0], soldP2p: z3, soldGrid: [0, 1, 1], imp: 2, exp: 2, gridPay: 0.3 },
    // bill sharing at D = S: the midpoint 0.125 for both → 0.25 − 0.125 − 0.125 = 0 (balances).
    'bill-sharing': { buy: 0.125, sell: 0.125, pay: [0.25, -0.125, -0.125], ...cNet },
    'mid-market': { buy: 0.125, sell: 0.125, pay: [0.25, -0.125, -0.125], ...cNet },
    // sdr: SDR = 1 → both 0.05 → 0.1 − 0.05 − 0.05 = 0.
    sdr: { buy: 0.05, sell: 0.05, pay: [0.1, -0.05, -0.05], ...cNet },
  };
  // nets [1, 2]: all buyers, D = 3, S = 0: everything from the grid at 0.2 whatever the market;
  // the sellers' price is what a seller would get: λs, P_mm, and for sdr P_sell(0) = 0.01/0.05 = λb.
  const d = [1, 2];
  const dAll = { buy: 0.2, pay: [0.2, 0.4], boughtP2p: [0, 0], boughtGrid: [1, 2], soldP2p: [0, 0], soldGrid: [0, 0], imp: 3, exp: 0, gridPay: 0.6 };
  const vectorsD: Record<Mechanism, Expected> = {
    none: { sell: 0.05, ...dAll },
    'bill-sharing': { sell: 0.05, ...dAll },
    'mid-market': { sell: 0.125, ...dAll },
    sdr: { sell: 0.2, ...dAll },
  };
  // nets [−1, −2]: all sellers, S = 3, D = 0: everything to the grid at 0.05 (bill −0.15); the buyers'
  // price is what a buyer would pay: λb, λb, P_mm, and λs for sdr (SDR ≥ 1).
  const e = [-1, -2];
  const eAll = { sell: 0.05, pay: [-0.05, -0.1], boughtP2p: [0, 0], boughtGrid: [0, 0], soldP2p: [0, 0], soldGrid: [1, 2], imp: 0, exp: 3, gridPay: -0.15 };
  const vectorsE: Record<Mechanism, Expected> = {
    none: { buy: 0.2, ...eAll },
    'bill-sharing': { buy: 0.2, ...eAll },
    'mid-market': { buy: 0.125, ...eAll },
    sdr: { buy: 0.05, ...eAll },
  };
  // nets all zero: nothing moves; prices λb/λs, except sdr (SDR ≥ 1 by definition at D = 0): λs/λs.
  const zero = { pay: z3, boughtP2p: z3, boughtGrid: z3, soldP2p: z3, soldGrid: z3, imp: 0, exp: 0, gridPay: 0 };
  const vectorsZ: Record<Mechanism, Expected> = {
    none: { buy: 0.2, sell: 0.05, ...zero },
    'bill-sharing': { buy: 0.2, sell: 0.05, ...zero },
    'mid-market': { buy: 0.2, sell: 0.05, ...zero },
    sdr: { buy: 0.05, sell: 0.05, ...zero },
  };

  const cases: [string, number[], number, number, Record<Mechanism, Expected>][] = [
    ['[3, 1, −2]', a, 4, 2, vectorsA],
    ['[1, −3, −1]', b, 1, 4, vectorsB],
    ['D = S [2, −1, −1]', c, 2, 2, vectorsC],
    ['all buyers [1, 2]', d, 3, 0, vectorsD],
    ['all sellers [−1, −2]', e, 0, 3, vectorsE],
    ['all zeros', [0, 0, 0], 0, 0, vectorsZ],
  ];
  for (const [name, nets, dd, ss, vectors] of cases) {
    for (const m of MECHANISMS) {
      it(`${m}, nets ${name}`, () => check(clearSlot(m, nets, LB, LS), vectors[m], dd, ss));
    }
  }

  it('sdr with λs = 0: P_sell takes its limit λb at SDR = 0 (no NaN), and is 0 for SDR > 0', () => {
    const alone = clearSlot('sdr', [1], 0.2, 0);
    expect(alone.sellPrice).toBe(0.2);
    expect(alone.buyPrice).toBe(0.2);
    expect(alone.paymentEurPerH[0]).toBe(0.2);
    // SDR = 0.5: P_sell = 0, P_buy = 0·0.5 + 0.2·0.5 = 0.1; payments 0.3 + 0.1 − 0 = 0.4 = 0.2·2.
    const half = clearSlot('sdr', [3, 1, -2], 0.2, 0);
    expect(half.sellPrice).toBe(0);
    expect(Math.abs(half.buyPrice - 0.1)).toBeLessThan(EPS);
    expect(Math.abs(half.gridPaymentEurPerH - 0.4)).toBeLessThan(EPS);
    // λb = λs = 0: every price 0.
    const free = clearSlot('sdr', [1, 0], 0, 0);
    expect([free.buyPrice, free.sellPrice]).toEqual([0, 0]);
  });

  it('reuses out: the same object, refilled with no stale values, for each slot', () => {
    const out = newClearing(3);
    for (const m of MECHANISMS) {
      expect(clearSlot(m, a, LB, LS, out)).toBe(out);
      check(out, vectorsA[m], 4, 2);
      expect(clearSlot(m, b, LB, LS, out)).toBe(out);
      check(out, vectorsB[m], 1, 4);
    }
  });
});

describe('clearSlot: bad input throws naming the value', () => {
  it('λs > λb', () => expect(() => clearSlot('mid-market', [1], 0.05, 0.2)).toThrow(/sellPrice 0\.2 > buyPrice 0\.05/));
  it('a NaN or infinite net', () => {
    expect(() => clearSlot('none', [1, NaN, -1], LB, LS)).toThrow(/netKw\[1\] must be finite, got NaN/);
    expect(() => clearSlot('sdr', [1, 2, -Infinity], LB, LS)).toThrow(/netKw\[2\] must be finite, got -Infinity/);
  });
  it('a non-finite price', () => {
    expect(() => clearSlot('none', [1], NaN, LS)).toThrow(/buyPrice must be finite, got NaN/);
    expect(() => clearSlot('none', [1], LB, -Infinity)).toThrow(/sellPrice must be finite, got -Infinity/);
  });
  it('sdr with a negative feed-in price (its formula has a pole in [0, 1))', () => expect(() => clearSlot('sdr', [1, -1], LB, -0.01)).toThrow(/got -0\.01/));
  it('an unknown mechanism', () => expect(() => clearSlot('auction' as Mechanism, [1], LB, LS)).toThrow(/got auction/));
  it('an out made for another number of homes', () => expect(() => clearSlot('none', [1, 2], LB, LS, newClearing(3))).toThrow(/out was made for 3 homes, got 2/));
});

/** A random slot: 1–50 homes, nets with ~20 % zeros, prices with λs = 0 and λs = λb now and then. */
function randomSlot(rng: Rng): { nets: Float64Array; lb: number; ls: number } {
  const n = rng.int(1, 50);
  const nets = new Float64Array(n);
  const sellerBias = rng.float();
  for (let i = 0; i < n; i++) {
    if (rng.bernoulli(0.2)) continue;
    const size = rng.float() * 8;
    nets[i] = rng.float() < sellerBias ? -size : size;
  }
  const lb = rng.float() * 0.5;
  const kind = rng.int(0, 3);
  const ls = kind === 0 ? 0 : kind === 1 ? lb : rng.float() * lb;
  return { nets, lb, ls };
}

function sum(a: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
}

describe('clearSlot: properties over 1,000 random slots (seed 15)', () => {
  const slots: ReturnType<typeof randomSlot>[] = [];
  const rng = new Rng(15);
  for (let k = 0; k < 1000; k++) slots.push(randomSlot(rng));

  it('the random slots cover the edge cases (λs = 0, λs = λb, D = 0, S = 0, D > S, S > D)', () => {
    const seen = { ls0: 0, lsEq: 0, d0: 0, s0: 0, dMore: 0, sMore: 0 };
    for (const { nets, lb, ls } of slots) {
      const c = clearSlot('none', nets, lb, ls);
      if (ls === 0) seen.ls0++;
      if (ls === lb) seen.lsEq++;
      if (c.demandKw === 0) seen.d0++;
      if (c.supplyKw === 0) seen.s0++;
      if (c.demandKw > c.supplyKw) seen.dMore++;
      if (c.supplyKw > c.demandKw) seen.sMore++;
    }
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(10);
  });

  /** Each property's worst violation over all slots, relative to the slot's scale (0 when it holds). */
  function worstViolations(m: Mechanism): Record<string, number> {
    const w = { negativeVolume: 0, homeEnergy: 0, p2pBalance: 0, gridBalance: 0, gridIsNet: 0, bothWays: 0, budget: 0, priceBelowLs: 0, priceAboveLb: 0, paysMoreThanNone: 0 };
    const bump = (k: keyof typeof w, v: number): void => {
      if (v > w[k]) w[k] = v;
    };
    const none = newClearing(50);
    const out = newClearing(50);
    for (const { nets, lb, ls } of slots) {
      const n = nets.length;
      const c = clearSlot(m, nets, lb, ls, n === 50 ? out : undefined);
      const ref = clearSlot('none', nets, lb, ls, n === 50 ? none : undefined);
      const scale = 1 + c.demandKw + c.supplyKw;
      // 1. energy: per home, P2P, and the grid.
      for (let i = 0; i < n; i++) {
        bump('negativeVolume', -Math.min(c.boughtP2pKw[i], c.boughtGridKw[i], c.soldP2pKw[i], c.soldGridKw[i]));
        bump('homeEnergy', Math.abs(c.boughtP2pKw[i] + c.boughtGridKw[i] - c.soldP2pKw[i] - c.soldGridKw[i] - nets[i]) / scale);
      }
      bump('p2pBalance', Math.abs(sum(c.boughtP2pKw) - sum(c.soldP2pKw)) / scale);
      bump('gridBalance', Math.abs(sum(c.boughtGridKw) - sum(c.soldGridKw) - (c.gridImportKw - c.gridExportKw)) / scale);
      bump('gridIsNet', Math.abs(c.gridImportKw - c.gridExportKw - sum(nets)) / scale);
      if (m !== 'none') bump('bothWays', Math.min(c.gridImportKw, c.gridExportKw));
      // 2. budget: the homes pay, together, exactly what the community pays the grid.
      bump('budget', Math.abs(sum(c.paymentEurPerH) - c.gridPaymentEurPerH) / scale);
      // 3. prices within the grid's two prices.
      bump('priceBelowLs', ls - Math.min(c.buyPrice, c.sellPrice));
      bump('priceAboveLb', Math.max(c.buyPrice, c.sellPrice) - lb);
      // 4. no home worse off than alone with the grid.
      for (let i = 0; i < n; i++) bump('paysMoreThanNone', c.paymentEurPerH[i] - ref.paymentEurPerH[i]);
    }
    return w;
  }

  for (const m of MECHANISMS) {
    it(`${m}: energy conserved, budget balanced, prices in [λs, λb], nobody pays more than under none`, () => {
      const w = worstViolations(m);
      for (const [k, v] of Object.entries(w)) expect(v, k).toBeLessThan(EPS);
    });
  }
});
