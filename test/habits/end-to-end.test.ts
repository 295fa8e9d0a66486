import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../env/index.js';
import { rescoin } from '../cli/run.js';

/**
 * The user's path of the README, on a home of its own (issue 14): logs → fit → check → train a few
 * days → evaluate → export, each through the CLI. The logs are made here: four weeks of a
 * dishwasher and a washing machine (events), a car (sessions) and an hourly meter (load and PV), in
 * Europe/Rome's local time, 2024-03-04 (a Monday) to 2024-03-31 (the spring-forward day).
 */
const dir = mkdtempSync(join(tmpdir(), 'rescoin-own-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pad = (n: number) => String(n).padStart(2, '0');
const date = (d: number) => `2024-03-${pad(4 + d)}`;
const DAYS = 28;

function writeLogs(): void {
  const events = ['appliance,start,end,kwh'];
  for (let d = 0; d < DAYS; d++) {
    const weekend = d % 7 >= 5;
    if (d % 3 !== 1) events.push(`dishwasher,${date(d)} ${weekend ? '13' : '21'}:${pad((d * 7) % 60)},${date(d)} 23:${pad(40 - d)},0.8`);
    if (d % 4 === 0) events.push(`washing-machine,${date(d)} 20:${pad(d % 45)},${date(d)} 21:00,0.8`);
  }
  const sessions = ['plug_in,plug_out,kwh,user'];
  for (let d = 0; d < DAYS - 1; d++) if (d % 7 < 5) sessions.push(`${date(d)} 18:${pad((d * 11) % 60)},${date(d + 1)} 07:${pad((d * 5) % 60)},${(6 + (d % 5)).toFixed(1)},car`);
  const meter = ['timestamp,load_kwh,pv_kwh'];
  for (let d = 0; d < DAYS; d++)
    for (let h = 0; h < 24; h++) {
      if (d === DAYS - 1 && h === 2) continue; // 02:00 does not exist on 2024-03-31 in Rome
      const pv = h >= 7 && h <= 18 ? (2.4 * Math.sin((Math.PI * (h - 6)) / 13) * (1 + (d % 3)) / 3).toFixed(3) : '0';
      meter.push(`${date(d)} ${pad(h)}:00,${(0.3 + 0.4 * Math.abs(Math.sin(h + d))).toFixed(3)},${pv}`);
    }
  writeFileSync(join(dir, 'events.csv'), `${events.join('\n')}\n`);
  writeFileSync(join(dir, 'sessions.csv'), `${sessions.join('\n')}\n`);
  writeFileSync(join(dir, 'meter.csv'), `${meter.join('\n')}\n`);
}

describe('your own home, end to end', () => {
  const inputs = () => ['--events', join(dir, 'events.csv'), '--sessions', join(dir, 'sessions.csv'), '--meter', join(dir, 'meter.csv'), '--tz', 'Europe/Rome'];
  const home = join(dir, 'my-home.json');

  it('fit → check → train → evaluate → export', async () => {
    writeLogs();
    const fit = await rescoin('habits', 'fit', '--base', 'paper-apartment', ...inputs(), '--out', home);
    expect(fit.status, fit.stderr).toBe(0);
    expect(fit.stdout + fit.stderr).toMatch(/2024-03-31 has 23 hours/);
    const s = loadScenario(home);
    expect(s.baseDays).toHaveLength(DAYS);
    expect(s.pvDays).toHaveLength(DAYS);
    const dish = s.appliances.find((a) => a.id === 'dishwasher')!;
    // Asked on days d % 3 ≠ 1: 13 of the 20 weekdays, 6 of the 8 weekend days.
    expect(dish.habits.weekdayProbability).toBeCloseTo(13 / 20, 9);
    expect(dish.habits.weekendProbability).toBeCloseTo(6 / 8, 9);
    expect('releaseSlot' in dish.habits).toBe(true);
    const note = JSON.parse(readFileSync(home, 'utf8')) as { extends: string; fit: { inputs: { path: string; sha256: string }[] } };
    expect(note.extends).toBe('paper-apartment');
    expect(note.fit.inputs.map((i) => i.sha256)).toHaveLength(3);
    expect(note.fit.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256))).toBe(true);

    const check = await rescoin('habits', 'check', '--scenario', home, ...inputs(), '--days', '2000', '--out', join(dir, 'check'), '--json');
    expect(check.status, check.stderr).toBe(0);
    const rows = (JSON.parse(check.stdout) as { rows: { item: string; quantity: string; ks?: number | null }[] }).rows;
    const ks = rows.find((r) => r.item === 'dishwasher' && r.quantity === 'release')!.ks!;
    expect(ks).toBeGreaterThanOrEqual(0);
    expect(ks).toBeLessThan(0.3);
    expect(existsSync(join(dir, 'check', 'dishwasher-release.png'))).toBe(true);

    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ teacher: 'none', hidden: [16], validateEvery: 0 }));
    const run = join(dir, 'run');
    const train = await rescoin('train', '--scenario', home, '--episodes', '8', '--config', config, '--out', run, '--no-progress');
    expect(train.status, train.stderr).toBe(0);

    const evaluate = await rescoin('evaluate', '--scenario', home, '--runs', run, '--days', '2', '--out', join(dir, 'report'), '--json');
    expect(evaluate.status, evaluate.stderr).toBe(0);
    const policies = (JSON.parse(evaluate.stdout) as { policies: { name: string; meanScore: number; violations?: number }[] }).policies;
    const names = policies.map((p) => p.name);
    expect(names).toContain('milp');
    expect(names).toContain('run');
    const milp = policies.find((p) => p.name === 'milp')!;
    for (const p of policies) expect(p.meanScore).toBeGreaterThanOrEqual(milp.meanScore - 1e-9);

    const gateway = await rescoin('export', '--run', run, '--out', join(dir, 'gateway'));
    expect(gateway.status, gateway.stderr).toBe(0);
    expect(existsSync(join(dir, 'gateway', 'policy.mjs'))).toBe(true);
  }, 300_000);
});
