import { describe, expect, it } from 'vitest';
import { billParts, internalMicroRsc, pairwiseTransfers } from '../../community/settle-plan.js';
import { clearSlot } from '../../community/market.js';
import { Rng, SLOTS } from '../../env/index.js';

const sums = (n: number, ts: { from: number; to: number; amount: number }[]) => {
  const paid = new Array<number>(n).fill(0);
  for (const t of ts) {
    paid[t.from] += t.amount;
    paid[t.to] -= t.amount;
  }
  return paid;
};

describe('pairwiseTransfers', () => {
  it('splits a payer pro rata over the receivers (hand-solved)', () => {
    // Home 0 pays 6, home 3 pays 3; homes 1 and 2 are owed 3 and 6: shares 1:2.
    expect(pairwiseTransfers([6, -3, -6, 3])).toEqual([
      { from: 0, to: 1, amount: 2 },
      { from: 0, to: 2, amount: 4 },
      { from: 3, to: 1, amount: 1 },
      { from: 3, to: 2, amount: 2 },
    ]);
  });

  it('gives a remainder unit to the largest remainder, ties to the lower index', () => {
    // 1 over owed 1 and 1: 1/2 each, the tie goes to home 1; the next payer pays home 2.
    expect(pairwiseTransfers([1, -1, -1, 1])).toEqual([
      { from: 0, to: 1, amount: 1 },
      { from: 3, to: 2, amount: 1 },
    ]);
    // 5 over owed 1, 2, 4 (of 7): 5/7, 10/7, 20/7 → floors 0, 1, 2 (3), remainders 5, 3, 6: +1 to 4's and 1's.
    expect(pairwiseTransfers([5, -1, -2, -4, 2])).toEqual([
      { from: 0, to: 1, amount: 1 },
      { from: 0, to: 2, amount: 1 },
      { from: 0, to: 3, amount: 3 },
      { from: 4, to: 2, amount: 1 },
      { from: 4, to: 3, amount: 1 },
    ]);
  });

  it('settles every home exactly, never overpays a receiver, on 1,000 random cases', () => {
    const rng = new Rng(7);
    for (let c = 0; c < 1000; c++) {
      const n = rng.int(1, 12);
      const micro = Array.from({ length: n }, () => (rng.float() < 0.2 ? 0 : rng.int(-5_000_000, 5_000_000)));
      const i = rng.int(0, n - 1);
      micro[i] -= micro.reduce((a, b) => a + b, 0);
      const ts = pairwiseTransfers(micro);
      expect(sums(n, ts)).toEqual(micro);
      for (const t of ts) {
        expect(t.amount).toBeGreaterThan(0);
        expect(Number.isSafeInteger(t.amount)).toBe(true);
        expect(micro[t.from]).toBeGreaterThan(0);
        expect(micro[t.to]).toBeLessThan(0);
      }
      const pairs = new Set(ts.map((t) => `${t.from} ${t.to}`));
      expect(pairs.size).toBe(ts.length);
    }
  });

  it('is exact beyond 2^53 products (BigInt shares)', () => {
    const big = 4_000_000_000_000;
    const ts = pairwiseTransfers([big + 1, -(big - 7), -8]);
    expect(sums(3, ts)).toEqual([big + 1, -(big - 7), -8]);
  });

  it('refuses parts that do not sum to 0', () => {
    expect(() => pairwiseTransfers([3, -2])).toThrow('sum to 1 µRSC');
  });
});

describe('internalMicroRsc', () => {
  it('rounds each home and gives the residual to the homes rounded furthest (hand-solved)', () => {
    // At 1 €/RSC: 0.4, 0.4, −0.8 µRSC round to 0, 0, −1 (Σ −1): add 1 to the one rounded down most.
    const e = [0.4e-6, 0.4e-6, -0.8e-6];
    expect(internalMicroRsc(e, 1)).toEqual([1, 0, -1]);
    // Halves: 2.5, −1.5, −1 round to 3, −2, −1 (Σ 0): unchanged.
    expect(internalMicroRsc([2.5e-6, -1.5e-6, -1e-6], 1)).toEqual([3, -2, -1]);
  });

  it('converts at the coin value: € / valueEur RSC', () => {
    expect(internalMicroRsc([0.05, -0.05], 0.1)).toEqual([500_000, -500_000]);
  });

  it('sums to 0 and stays within 1 µRSC of each exact amount on random balanced days', () => {
    const rng = new Rng(3);
    for (let c = 0; c < 500; c++) {
      const n = rng.int(2, 20);
      const e = Array.from({ length: n }, () => (rng.float() - 0.5) * 3);
      const s = e.reduce((a, b) => a + b, 0);
      e[n - 1] -= s;
      const v = 0.01 + rng.float();
      const m = internalMicroRsc(e, v);
      expect(m.reduce((a, b) => a + b, 0)).toBe(0);
      m.forEach((x, i) => expect(Math.abs(x - (e[i] / v) * 1e6)).toBeLessThan(1));
    }
  });

  it('refuses unbalanced parts and a coin value of 0', () => {
    expect(() => internalMicroRsc([1, -0.5], 1)).toThrow('does not balance');
    expect(() => internalMicroRsc([0, 0], 0)).toThrow('valueEur must be > 0');
  });
});

describe('billParts', () => {
  it('splits market bills into grid and internal parts that balance, slot by slot (sdr)', () => {
    const n = 4;
    const rng = new Rng(11);
    const buy = Float64Array.from({ length: SLOTS }, (_, t) => (t < 40 ? 0.2 : 0.3));
    const sell = 0.05;
    const flows = { paymentEur: new Float64Array(n * SLOTS), boughtGridKw: new Float64Array(n * SLOTS), soldGridKw: new Float64Array(n * SLOTS) };
    let gridBill = 0;
    for (let t = 0; t < SLOTS; t++) {
      const net = Array.from({ length: n }, () => (rng.float() - 0.5) * 8);
      const c = clearSlot('sdr', net, buy[t], sell);
      for (let i = 0; i < n; i++) {
        flows.paymentEur[i * SLOTS + t] = c.paymentEurPerH[i] * 0.25;
        flows.boughtGridKw[i * SLOTS + t] = c.boughtGridKw[i];
        flows.soldGridKw[i * SLOTS + t] = c.soldGridKw[i];
      }
      gridBill += c.gridPaymentEurPerH * 0.25;
    }
    const parts = billParts(n, flows, buy, sell);
    const sum = (k: 'billEur' | 'gridEur' | 'internalEur') => parts.reduce((a, p) => a + p[k], 0);
    expect(sum('internalEur')).toBeCloseTo(0, 12);
    expect(sum('gridEur')).toBeCloseTo(gridBill, 12);
    for (const p of parts) expect(p.gridEur + p.internalEur).toBeCloseTo(p.billEur, 12);
    expect(parts.some((p) => Math.abs(p.internalEur) > 0.01)).toBe(true);
  });

  it('has no internal part under none (hand-solved slot)', () => {
    const buy = new Float64Array(SLOTS).fill(0.2);
    const flows = { paymentEur: new Float64Array(2 * SLOTS), boughtGridKw: new Float64Array(2 * SLOTS), soldGridKw: new Float64Array(2 * SLOTS) };
    flows.paymentEur[0] = 0.2 * 2 * 0.25;
    flows.boughtGridKw[0] = 2;
    flows.paymentEur[SLOTS] = -0.05 * 1 * 0.25;
    flows.soldGridKw[SLOTS] = 1;
    expect(billParts(2, flows, buy, 0.05)).toEqual([
      { billEur: 0.1, gridEur: 0.1, internalEur: 0 },
      { billEur: -0.0125, gridEur: -0.0125, internalEur: 0 },
    ]);
  });
});
