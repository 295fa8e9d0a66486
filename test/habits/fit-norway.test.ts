import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../../env/index.js';
import { evSummary, fitsModelDay } from '../../habits/fit-ev.js';
import type { EvSession } from '../../habits/observations.js';

/**
 * The Norwegian sessions through the fitter's summary. The file is read here by a minimal parser
 * (private sessions with a plug-out; the importer in habits/import-*.ts is the real reader), so
 * that this test checks the summary alone. The expected figures were computed independently (a
 * Python script over the same rows: slots of 15 min, the session rule of fitsModelDay).
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

  it("fitsModelDay's overnight sessions: plug-out mode 07:00 (as cited), the other figures as computed", () => {
    expect([s.sessions, s.leftOut, s.users]).toEqual([2936, 2506, 56]);
    expect(s.plugOutModeHour).toBe(7);
    expect(s.plugInMeanHours).toBeCloseTo(18.9867, 3);
    expect(s.plugInSdHours).toBeCloseTo(2.6964, 3);
    expect(s.plugOutMeanHours).toBeCloseTo(9.3027, 3);
    expect(s.medianKwhKept).toBeCloseTo(10.525, 3);
  });
});
