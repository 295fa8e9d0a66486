import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../../env/index.js';
import { evSummary, fitsModelDay } from '../../habits/fit-ev.js';
import type { EvSession } from '../../habits/observations.js';
import { readInputs } from '../../habits/import.js';

/**
 * The Norwegian sessions, read by the importer (habits/import-norway.ts: private sessions with a
 * plug-out), through the fitter's summary, against paper-apartment's citation. The expected
 * figures were also computed independently (a Python script over the same rows).
 */
function privateSessions(): EvSession[] {
  return readInputs({ norway: [join(dataDir(), 'norway_residential_ev', 'ev_charging_reports.csv')] }).sessions;
}

describe('the Norwegian sessions (Sørensen et al. 2021)', () => {
  const sessions = privateSessions();
  const s = evSummary(sessions, fitsModelDay);

  it('overall: 5,442 private sessions with a plug-out, median 8.2 kWh (as paper-apartment cites)', () => {
    expect(sessions).toHaveLength(5442);
    expect(s.medianKwhAll).toBeCloseTo(8.21, 2);
  });

  // paper-apartment's ev.source: 2,538 sessions, plug-in mean 18:47 (sd 2.4 h), plug-out mode
  // 07:00 and mean 08:27, median 10.8 kWh. The sd does not reproduce under any session rule tried
  // (2.73 h, not 2.4): the scenario's source now says so.
  it('overnight sessions: the figures paper-apartment cites, within rounding (but the sd)', () => {
    expect(s.sessions).toBe(2538);
    expect([s.leftOut, s.users]).toEqual([2904, 56]);
    expect(Math.abs(s.plugInMeanHours - (18 + 47 / 60))).toBeLessThan(0.5 / 60);
    expect(s.plugOutModeHour).toBe(7);
    // 08:26.4 here: the cited minute is one off (a different set by one session, or minutes, not slots).
    expect(Math.abs(s.plugOutMeanHours - (8 + 27 / 60))).toBeLessThan(1 / 60);
    expect(s.medianKwhKept.toFixed(1)).toBe('10.8');
    expect(s.medianKwhAll.toFixed(1)).toBe('8.2');
    expect(s.plugInSdHours).toBeCloseTo(2.7226, 3);
  });
});
