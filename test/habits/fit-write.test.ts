import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { companionPath, writeFileAtomic, writeFitted } from '../../habits/write.js';
import { contractFor, companionCsv } from '../../habits/fit-load.js';

describe('atomic writes', () => {
  it('a write that fails midway leaves nothing at the target and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'habits-write-'));
    const path = join(dir, 'home.json');
    const big = 'x'.repeat(300_000);
    expect(() => writeFileAtomic(path, big, { onChunk: (n) => { if (n > 100_000) throw new Error('disk full'); } })).toThrow('disk full');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed write keeps the old file whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'habits-write-'));
    const path = join(dir, 'home.json');
    writeFileSync(path, 'old');
    expect(() => writeFileAtomic(path, 'y'.repeat(200_000), { onChunk: () => { throw new Error('boom'); } })).toThrow('boom');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['home.json']);
  });

  it('writeFitted writes the CSV, then the JSON; a failing JSON leaves no JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'habits-write-'));
    const out = join(dir, 'my-home.json');
    expect(companionPath(out)).toBe(join(dir, 'my-home.days.csv'));
    expect(writeFitted(out, { id: 'my-home' }, 'a,b\n1,2\n')).toEqual([companionPath(out), out]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ id: 'my-home' });
    const out2 = join(dir, 'other.json');
    let calls = 0;
    expect(() => writeFitted(out2, { id: 'other' }, 'a\n', { onChunk: () => { if (++calls === 2) throw new Error('late'); } })).toThrow('late');
    expect(existsSync(out2)).toBe(false);
    expect(readFileSync(companionPath(out2), 'utf8')).toBe('a\n');
  });
});

describe('fit-load', () => {
  it('contractFor takes the smallest step that holds base + appliance peaks + one EV step', () => {
    // 1.2 + (1.374 + 1.54) + 1.84 = 5.954 kW: 6 kW.
    expect(contractFor(1.2, [1.374, 1.54], 1.84)).toBe(6);
    expect(contractFor(2.5, [1.374, 1.54], 1.84)).toBe(10);
    expect(contractFor(0.5, [0.5], 1.84)).toBe(3);
    expect(() => contractFor(19, [2], 1.84)).toThrow(/22\.840 kW/);
  });

  it('the companion CSV has 24 rows a day and PV per kWp', () => {
    const day = { day: { date: '2020-06-01', dayType: 1 }, loadKw: Array.from({ length: 24 }, (_, h) => h / 10), pvKw: Array.from({ length: 24 }, (_, h) => (h === 12 ? 2.5 : 0)) };
    const lines = companionCsv([day, { ...day, day: { date: '2020-06-02', dayType: 2 }, pvKw: null }], 5).trim().split('\n');
    expect(lines[0]).toBe('date,hour,day_type,load_kw,pv_kw_per_kwp');
    expect(lines).toHaveLength(1 + 48);
    expect(lines[13]).toBe('2020-06-01,12,1,1.2,0.5');
    expect(lines[37]).toBe('2020-06-02,12,2,1.2,0');
  });
});
