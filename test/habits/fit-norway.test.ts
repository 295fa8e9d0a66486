import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../../env/index.js';
import { evSummary, fitsModelDay } from '../../habits/fit-ev.js';
import type { EvSession } from '../../habits/observations.js';

/**
 * The Norwegian sessions through the fitter's summary. The file is read here by a minimal parser
 * (private sessions with a plug-out; the importer in habits/import-*.ts is the real reader), so
 * that this test checks the summary alone. The expected figures were computed independently (a
 * Python script over the same rows, slots of 15 min) and against paper-apartment's citation.
 */
function privateSessions(): EvSession[] {
  const lines = readFileSync(`${dataDir()}/norway_residential_ev/ev_charging_reports.csv`, 'utf8').trim().split(/\r?\n/).slice(1);
  const at = (s: string) => {
    const [, d, m, y, hh, mm] = /^(\d\d)\.(\d\d)\.(\d{4}) (\d\d):(\d\d)$/.exec(s)!;
    const date = `${y}-${m}-${d}`;
    return { date, dayType: ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1, slot: Number(hh) * 4 + Math.floor(Number(mm) / 15) };
  };
  return lines
    .map((l) => l.split(';'))
    .filter((c) => c[3] === 'Private' && c[7] !== 'NA')
    .map((c, i) => ({ user: c[2], plugIn: at(c[5]), plugOut: at(c[7]), kwh: Number(c[9].replace(',', '.')), at: { file: 'ev_charging_reports.csv', line: i + 2 } }));
}

describe('the Norwegian sessions (Sørensen et al. 2021)', () => {
  const sessions = privateSessions();
  const s = evSummary(sessions, fitsModelDay);

  it('overall: 5,442 private sessions with a plug-out, median 8.2 kWh (as paper-apartment cites)', () => {
    expect(sessions).toHaveLength(5442);
    expect(s.medianKwhAll).toBeCloseTo(8.21, 2);
  });

  // paper-apartment's ev.source: 2,538 sessions, plug-in mean 18:47 (sd 2.4 h), plug-out mode
  // 07:00 and mean 08:27, median 10.8 kWh. The importer's isOvernight compares minutes (≤ 24 h),
  // fitsModelDay slots: one session more here. The sd does not reproduce: 2.73 h, not 2.4.
  it('overnight sessions: the figures paper-apartment cites, within rounding (but the sd)', () => {
    expect(Math.abs(s.sessions - 2538)).toBeLessThanOrEqual(1);
    expect([s.leftOut, s.users]).toEqual([2903, 56]);
    expect(Math.abs(s.plugInMeanHours - (18 + 47 / 60))).toBeLessThan(0.5 / 60);
    expect(s.plugOutModeHour).toBe(7);
    // 08:26.4 here: the cited minute is one off (a different set by one session, or minutes, not slots).
    expect(Math.abs(s.plugOutMeanHours - (8 + 27 / 60))).toBeLessThan(1 / 60);
    expect(s.medianKwhKept.toFixed(1)).toBe('10.8');
    expect(s.medianKwhAll.toFixed(1)).toBe('8.2');
    expect(s.plugInSdHours).toBeCloseTo(2.7264, 3);
  });
});
