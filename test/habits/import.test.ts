import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hoursInDay, parseStamp, stampToLocal, wallToInstant } from '../../habits/clock.js';
import { InputError } from '../../habits/errors.js';
import { readInputs } from '../../habits/import.js';

const dir = mkdtempSync(join(tmpdir(), 'rescoin-import-'));
const fixture = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const errorOf = (f: () => unknown): InputError => {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no InputError');
};

describe('events', () => {
  const path = fixture(
    'events.csv',
    'appliance,start,end,kwh\r\ndishwasher,2024-03-04T21:10:00+01:00,2024-03-04T23:05:00+01:00,0.9\r\n"washing-machine",2024-03-06 20:00,2024-03-06 20:10,\r\ndishwasher,2024-03-05T22:50:00Z,2024-03-05T23:20:00Z,"1.5"\r\n',
  );
  it('turns runs into local days, start slots and slot counts', () => {
    const o = readInputs({ events: [path] }, { tz: 'Europe/Rome' });
    expect(o.runs.map((r) => [r.appliance, r.day.date, r.day.dayType, r.startSlot, r.slots, r.kwh, r.at.line])).toEqual([
      ['dishwasher', '2024-03-04', 1, 84, 8, 0.9, 2],
      ['washing-machine', '2024-03-06', 3, 80, 1, NaN, 3],
      // 22:50Z is 23:50 in Rome: slot 95; 30 minutes are 2 slots.
      ['dishwasher', '2024-03-05', 2, 95, 2, 1.5, 4],
    ]);
    expect(o.applianceDays.get('dishwasher')!.map((d) => d.date)).toEqual(['2024-03-04', '2024-03-05', '2024-03-06']);
    expect(o.applianceDays.get('washing-machine')!.length).toBe(3);
    expect(o.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });
  it('refuses a wall time without --tz, naming file, line, column and value', () => {
    expect(errorOf(() => readInputs({ events: [path] })).message).toBe(
      `${path}:3: column start: got "2024-03-06 20:00"; a timestamp with an offset (…+02:00 or …Z), or a time zone given with --tz`,
    );
  });
  it('names the bad timestamp, the bad number and the missing column', () => {
    const badTime = fixture('bad-time.csv', 'appliance,start,end,kwh\ndishwasher,2024-02-30 21:00,2024-03-01 22:00,1\n');
    const e = errorOf(() => readInputs({ events: [badTime] }, { tz: 'Europe/Rome' }));
    expect([e.file, e.line, e.column, e.value]).toEqual([badTime, 2, 'start', '2024-02-30 21:00']);
    const badKwh = fixture('bad-kwh.csv', 'appliance,start,end,kwh\n\ndishwasher,2024-03-01 21:00,2024-03-01 22:00,1,5\n');
    // A comma decimal in a comma file is an extra cell: kwh reads "1", fine; "x" is not.
    const badKwh2 = fixture('bad-kwh2.csv', 'appliance,start,end,kwh\n\ndishwasher,2024-03-01 21:00,2024-03-01 22:00,1.2kWh\n');
    expect(readInputs({ events: [badKwh] }, { tz: 'UTC' }).runs[0].kwh).toBe(1);
    expect(errorOf(() => readInputs({ events: [badKwh2] }, { tz: 'UTC' })).message).toBe(`${badKwh2}:3: column kwh: got "1.2kWh"; a number (e.g. 1.25)`);
    const noKwh = fixture('no-kwh.csv', 'appliance,start,end\ndishwasher,2024-03-01 21:00,2024-03-01 22:00\n');
    expect(errorOf(() => readInputs({ events: [noKwh] }, { tz: 'UTC' })).message).toBe(`${noKwh}:1: column kwh: got "appliance,start,end"; a column named kwh (the header has: appliance, start, end)`);
  });
});

describe('sessions', () => {
  it('reads plug-in and plug-out slots per user and covers the days between', () => {
    const path = fixture('ev.csv', 'plug_in,plug_out,kwh,user\n2024-05-06 18:47,2024-05-07 07:00,10.8,a\n2024-05-09 19:00,2024-05-10 06:59,8.2,a\n');
    const o = readInputs({ sessions: [path] }, { tz: 'Europe/Oslo' });
    expect(o.sessions.map((s) => [s.plugIn.date, s.plugIn.slot, s.plugOut.date, s.plugOut.slot, s.kwh, s.hours])).toEqual([
      ['2024-05-06', 75, '2024-05-07', 28, 10.8, 12 + 13 / 60],
      ['2024-05-09', 76, '2024-05-10', 27, 8.2, 11 + 59 / 60],
    ]);
    expect(o.evDays.get('a')!.map((d) => d.date)).toEqual(['2024-05-06', '2024-05-07', '2024-05-08', '2024-05-09', '2024-05-10']);
  });
});

describe('norway format', () => {
  const head = 'session_ID;Garage_ID;User_ID;User_type;Shared_ID;Start_plugin;Start_plugin_hour;End_plugout;End_plugout_hour;El_kWh;Duration_hours\r\n';
  it('reads decimal commas and Oslo wall times, keeps private sessions only', () => {
    const path = fixture('norway.csv', `${head}1;G;u1;Private;NA;06.05.2024 18:47;18;07.05.2024 07:00;7;10,8;12,2\r\n2;G;s1;Shared;S1;06.05.2024 10:00;10;06.05.2024 11:00;11;3,5;1\r\n`);
    const o = readInputs({ norway: [path] }, { tz: 'Asia/Tokyo' });
    expect(o.sessions.map((s) => [s.user, s.plugIn.slot, s.plugOut.slot, s.kwh])).toEqual([['u1', 75, 28, 10.8]]);
  });
  it('names the bad decimal-comma number', () => {
    const path = fixture('norway-bad.csv', `${head}1;G;u1;Private;NA;06.05.2024 18:47;18;07.05.2024 07:00;7;10.8;12,2\r\n`);
    expect(errorOf(() => readInputs({ norway: [path] })).message).toBe(`${path}:2: column El_kWh: got "10.8"; a number (decimal comma, e.g. 29,87)`);
  });
});

describe('meter', () => {
  it('nets import and export into load, fills a missing hour and says so', () => {
    const rows = Array.from({ length: 24 }, (_, h) => h)
      .filter((h) => h !== 5)
      .map((h) => `2024-01-10T${String(h).padStart(2, '0')}:00:00Z,${(h / 10).toFixed(1)},${h === 12 ? 2 : 0}`);
    const path = fixture('meter.csv', ['timestamp,import_kwh,export_kwh', ...rows].join('\n'));
    const o = readInputs({ meter: [path] }, { tz: 'UTC' });
    expect(o.meter.length).toBe(1);
    expect(o.meter[0].loadKw[4]).toBeCloseTo(0.4, 12);
    expect(o.meter[0].loadKw[5]).toBeCloseTo(0.5, 12);
    expect(o.meter[0].loadKw[12]).toBe(0);
    expect(o.meter[0].pvKw).toBeNull();
    expect(o.notes.map((n) => n.message)).toEqual(['2024-01-10: hours 05:00–06:00 missing, interpolated', 'import/export meter: load = import − export clipped at 0, PV not metered (pvKw null)']);
  });
  it('sums 15-minute rows into hourly mean kW', () => {
    const rows = Array.from({ length: 96 }, (_, k) => `2024-01-10 ${String(Math.floor(k / 4)).padStart(2, '0')}:${String((k % 4) * 15).padStart(2, '0')},0.25,${k < 48 ? 0 : 0.5}`);
    const o = readInputs({ meter: [fixture('meter15.csv', ['timestamp,load_kwh,pv_kwh', ...rows].join('\n'))] }, { tz: 'Europe/Rome' });
    expect(o.meter[0].loadKw).toEqual(new Array(24).fill(1));
    expect(o.meter[0].pvKw!.slice(11, 13)).toEqual([0, 2]);
  });
});

describe('clock', () => {
  it('moves spring-forward wall times forward and takes the first of two fall-back ones', () => {
    const rome = (s: string) => stampToLocal(parseStamp(s)!, 'Europe/Rome')!;
    expect([rome('2024-03-31 02:30').minute, rome('2024-03-31 02:30').resolution]).toEqual([210, 'gap']);
    const amb = rome('2024-10-27 02:30');
    expect([amb.minute, amb.resolution, new Date(amb.utcMs).toISOString()]).toEqual([150, 'ambiguous', '2024-10-27T00:30:00.000Z']);
    expect(wallToInstant(Date.UTC(2024, 6, 1, 12), 'Europe/Rome')).toEqual({ utcMs: Date.UTC(2024, 6, 1, 10), resolution: 'exact' });
    expect(['2024-03-31', '2024-07-01', '2024-10-27'].map((d) => hoursInDay(d, 'Europe/Rome'))).toEqual([23, 24, 25]);
    expect(rome('21.12.2018 10:20').day).toEqual({ date: '2018-12-21', dayType: 5 });
  });
});

describe('the built-in datasets', () => {
  it('OPSD: both daylight-saving days are reported and kept as 24 hours', () => {
    const o = readInputs({ opsd: ['data/opsd_household_konstanz/household_data_60min_singleindex.csv'] }, { tz: 'Asia/Tokyo' });
    const dst = o.notes.filter((n) => /clocks/.test(n.message)).map((n) => n.message);
    expect(dst).toEqual([
      '2015-10-25 has 25 hours (clocks fall back): the repeated hour 02:00 averaged',
      '2016-03-27 has 23 hours (clocks spring forward): hour 02:00 filled by interpolation',
      '2016-10-30 has 25 hours (clocks fall back): the repeated hour 02:00 averaged',
    ]);
    expect(o.meter.find((d) => d.day.date === '2016-03-27')!.loadKw.length).toBe(24);
    expect(o.meter.length).toBe(472);
    expect(o.runs.filter((r) => r.appliance === 'dishwasher').length).toBe(173);
    expect(o.runs.filter((r) => r.appliance === 'washing-machine').length).toBe(177);
    expect(o.applianceDays.get('dishwasher')!.length).toBe(440);
  });
  it('Norway: 5,442 private sessions, 2,538 overnight ones plugging in at 18:47 on average', async () => {
    const { isOvernight } = await import('../../habits/import-norway.js');
    const o = readInputs({ norway: ['data/norway_residential_ev/ev_charging_reports.csv'] });
    const night = o.sessions.filter(isOvernight);
    expect([o.sessions.length, night.length, o.evDays.size]).toEqual([5442, 2538, 56]);
    const meanMinute = (night.reduce((a, s) => a + s.plugIn.slot, 0) / night.length) * 15;
    expect(`${Math.floor(meanMinute / 60)}:${Math.round(meanMinute % 60)}`).toBe('18:47');
  });
  it('CityLearn: 365 days from 2022-08-01 (a Monday), load in kW, PV per kWp', () => {
    const o = readInputs({ citylearn: ['data/citylearn_2022/Building_1.csv'] });
    expect(o.meter.length).toBe(365);
    expect([o.meter[0].day, o.meter[364].day]).toEqual([{ date: '2022-08-01', dayType: 1 }, { date: '2023-07-31', dayType: 1 }]);
    expect(o.meter[0].loadKw[0]).toBe(0.85116667);
    expect(o.meter.every((d) => d.pvPerKwp && Math.max(...d.pvKw!) <= 1)).toBe(true);
  });
});
