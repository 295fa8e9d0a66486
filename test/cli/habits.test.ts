import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rescoin } from './run.js';

describe('rescoin habits', () => {
  it('lists fit and check, and --help explains every flag', async () => {
    const r = await rescoin('habits', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/fit/);
    expect(r.stdout).toMatch(/check/);
    const fit = await rescoin('habits', 'fit', '--help');
    for (const flag of ['--base', '--out', '--id', '--form', '--pv-kwp', '--events', '--sessions', '--meter', '--opsd', '--norway', '--citylearn', '--tz', '--json']) expect(fit.stdout).toContain(flag);
    const check = await rescoin('habits', 'check', '--help');
    for (const flag of ['--scenario', '--days', '--seed', '--out', '--plots', '--norway']) expect(check.stdout).toContain(flag);
  });

  it('usage errors exit 2 naming the flag', async () => {
    const r = await rescoin('habits', 'fit', '--out', 'home.txt', '--events', 'x.csv');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--out: expected a file name ending in .json, got home.txt');
    const none = await rescoin('habits', 'fit', '--out', '/tmp/none.json');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('give at least one input file');
    const form = await rescoin('habits', 'fit', '--out', '/tmp/x.json', '--form', 'gamma', '--events', 'x.csv');
    expect(form.status).toBe(2);
    expect(form.stderr).toContain('expected one of empirical, normal, got "gamma"');
  });

  it('a bad row names the file, line, column and value, exits 2 and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-habits-bad-'));
    const csv = join(dir, 'ev.csv');
    writeFileSync(csv, 'plug_in,plug_out,kwh\n2024-05-06 18:47,2024-05-07 07:00,10.8\n2024-05-07 19:00,2024-05-08 07:10,abc\n');
    const out = join(dir, 'home.json');
    const r = await rescoin('habits', 'fit', '--sessions', csv, '--tz', 'Europe/Rome', '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${csv}:3: column kwh: got "abc"`);
    expect(existsSync(out)).toBe(false);
    writeFileSync(csv, 'plug_in,plug_out,kwh\n2024-05-06 25:47,2024-05-07 07:00,10.8\n');
    const t = await rescoin('habits', 'fit', '--sessions', csv, '--tz', 'Europe/Rome', '--out', out);
    expect(t.status).toBe(2);
    expect(t.stderr).toContain(`${csv}:2: column plug_in: got "2024-05-06 25:47"`);
  });
});
