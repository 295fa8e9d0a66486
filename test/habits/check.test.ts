import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../env/index.js';
import { checkHabits, checkTable, drawObservations } from '../../habits/check.js';
import { writeCheckPlots } from '../../habits/check-plots.js';
import { fitHabits, readScenarioJson } from '../../habits/fit.js';
import { writeFitted } from '../../habits/write.js';

const scenario = loadScenario('paper-apartment');
// The same home whose dishwasher runs 8 slots (2 h) later and whose car leaves 1 h earlier.
const raw = readScenarioJson('paper-apartment') as unknown as { appliances: { id: string; window: number[] }[]; ev: { habits: { departureSlot: { mean: number } } } };
const dw = raw.appliances.find((a) => a.id === 'dishwasher')!;
dw.window = [dw.window[0] - 8, dw.window[1] - 8];
raw.ev.habits.departureSlot.mean -= 4;
const shifted = parseScenario(raw);

describe('checkHabits', () => {
  const data = drawObservations(scenario, 3000, 11);

  // Differences of chance alone: a share's 3.3 sd, and the two-sample KS critical value at 0.1 %.
  const shareTol = (p: number, n: number, m: number) => 3.3 * Math.sqrt(p * (1 - p) * (1 / n + 1 / m)) + 1e-9;
  const ksTol = (n: number, m: number) => 1.95 * Math.sqrt((n + m) / (n * m));

  it('a scenario against days drawn from itself: differences of chance only', () => {
    const r = checkHabits(scenario, data, { days: 5000, seed: 3 });
    expect(r.rows.filter((x) => x.quantity === 'request')).toHaveLength(12);
    for (const row of r.rows) {
      const what = `${row.item} ${row.quantity} ${row.day}`;
      if (row.ks === null) expect(Math.abs(row.data - row.model), what).toBeLessThan(shareTol(row.model, row.nData, row.nModel));
      else expect(row.ks, what).toBeLessThan(ksTol(row.nData, row.nModel));
    }
    expect(checkTable(r)).toMatch(/dishwasher\s+release\s+weekday/);
  });

  it('a shifted habit shows as a large KS distance, the others stay small', () => {
    const r = checkHabits(shifted, data, { days: 5000, seed: 3 });
    const ks = (item: string, q: string) => r.rows.find((x) => x.item === item && x.quantity === q && x.day === 'weekday')!.ks!;
    // 8 slots against an sd of 2: the two CDFs barely overlap.
    expect(ks('dishwasher', 'release')).toBeGreaterThan(0.9);
    // 4 slots against an sd of 4: Φ(0.5) − Φ(−0.5) ≈ 0.38 before clipping and rounding.
    expect(ks('ev', 'departure')).toBeGreaterThan(0.3);
    const wm = r.rows.find((x) => x.item === 'washing-machine' && x.quantity === 'release' && x.day === 'weekday')!;
    expect(wm.ks!).toBeLessThan(ksTol(wm.nData, wm.nModel));
  });

  it('a scenario fitted from the data, written and loaded back, checks within chance', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'habits-check-')), 'fitted.json');
    writeFitted(out, fitHabits(readScenarioJson('paper-apartment'), data, { id: 'fitted', form: 'empirical', baseRef: 'paper-apartment' }).scenario, null);
    const r = checkHabits(loadScenario(out), data, { days: 5000, seed: 4 });
    for (const row of r.rows.filter((x) => x.quantity === 'release')) expect(row.ks!, `${row.item} ${row.day}`).toBeLessThan(ksTol(row.nData, row.nModel));
  });

  it('writes an SVG and a PNG overlay per distribution', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'habits-check-'));
    const r = checkHabits(shifted, data, { days: 2000, seed: 3 });
    const files = await writeCheckPlots(r, dir);
    expect(files).toHaveLength(2 * (6 + 3));
    expect(readFileSync(join(dir, 'dishwasher-release.svg'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(dir, 'ev-tripKwh.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);
});
