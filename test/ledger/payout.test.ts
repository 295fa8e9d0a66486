import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { daySeed, drawDay, loadScenario, makeEnv, SLOTS, type DaySummary } from '../../env/index.js';
import { scheduleActions, solveDay } from '../../baseline/index.js';
import { chainPath, dayPayout, meterBytes, meterSha256, mintPayouts, PAYOUTS_FORMAT, METER_BYTES, toMicroRsc, verifyLedger, type Block, type MintTx } from '../../ledger/index.js';
import { newLedger } from './helpers.js';

describe('payouts: one number in the environment, the MILP and the ledger', () => {
  it("a day's RSC is the same µRSC in info.day.rescoin, the MILP's parts and the ledger's mint", async () => {
    const s = loadScenario('paper-apartment');
    const { dir, ledger } = newLedger(['alice']);
    const days = [];
    for (let d = 0; d < 2; d++) {
      const day = drawDay(s, daySeed(61, d));
      const milp = await solveDay(s, day);
      // Replay the MILP's schedule in the environment.
      const env = makeEnv(s);
      env.reset({ options: { day } });
      const actions = scheduleActions(s, milp.schedule);
      let summary: DaySummary | undefined;
      for (let t = 0; t < SLOTS; t++) summary = env.step(actions[t]).info.day;
      expect(summary!.violations).toBe(0);
      expect(milp.parts.rescoin).toBeGreaterThan(0);
      expect(toMicroRsc(summary!.rescoin)).toBe(toMicroRsc(milp.parts.rescoin));
      // The environment pays v·RSC of that same number in its reward.
      expect(summary!.rescoinValue).toBeCloseTo(s.rescoin.valueEur * milp.parts.rescoin, 12);
      const log = env.trajectory();
      // The meter data the env logged is the MILP's schedule (to float noise: the hash is of the env's log).
      for (let t = 0; t < SLOTS; t++) {
        expect(Math.abs(log.importKw[t] - milp.schedule.importKw[t])).toBeLessThan(1e-9);
        expect(Math.abs(log.exportKw[t] - milp.schedule.exportKw[t])).toBeLessThan(1e-9);
      }
      days.push(dayPayout(d, day.seed, summary!.rescoin, log));
      expect(days[d].rescoin).toBe(summary!.rescoin);
    }
    const r = mintPayouts(ledger, { format: PAYOUTS_FORMAT, scenario: s.id, seed: 61, meter: METER_BYTES, policies: [{ name: 'milp', days }] }, { report: 'reports/test', policy: 'milp' });
    expect(r.to).toBe('alice');
    expect(verifyLedger(dir).ok).toBe(true);
    const last = JSON.parse(readFileSync(chainPath(dir), 'utf8').trimEnd().split('\n').at(-1)!) as Block;
    const mints = last.txs as MintTx[];
    expect(mints.map((m) => m.amount)).toEqual(days.map((d) => toMicroRsc(d.rescoin)));
    expect(mints.map((m) => m.meterSha256)).toEqual(days.map((d) => d.meterSha256));
    expect(mints[1].reason).toBe(`evaluate reports/test policy milp day 1 seed ${daySeed(61, 1)}`);
    expect(ledger.balance('alice')).toBe(r.total);
  });

  it('meter bytes are import, export and PV of the day, float64 little-endian', () => {
    const log = { importKw: new Float64Array(SLOTS).fill(1.5), exportKw: new Float64Array(SLOTS), day: { pvKw: new Float64Array(SLOTS).fill(0.25) } };
    const b = meterBytes(log);
    expect(b.length).toBe(3 * SLOTS * 8);
    expect(b.readDoubleLE(0)).toBe(1.5);
    expect(b.readDoubleLE(SLOTS * 8)).toBe(0);
    expect(b.readDoubleLE(2 * SLOTS * 8 + 8)).toBe(0.25);
    expect(meterSha256(log)).toMatch(/^[0-9a-f]{64}$/);
  });
});
