import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daySeed, flatCodec, loadScenario, makeEnv, type Scenario } from '../../env/index.js';
import { train } from '../../training/train.js';
import { exportPolicy } from '../../export/export.js';
import { exampleDay, Gateway, loadGatewayHome, loadGatewayPolicy, parseReplay, replayColumns } from '../../export/gateway.js';
import { rescoin } from '../cli/run.js';

/**
 * `rescoin gateway`: a day of meter readings in, control messages out. A day recorded from the
 * environment with the policy in control replays, through the folder's bundled policy.mjs
 * controller, to the environment's own observations, masks and actions; a folder copied alone acts
 * from raw readings as the environment does.
 */

let root: string;
const folders: Record<string, string> = {};

async function exported(s: Scenario, name: string): Promise<string> {
  // 8 days of DQN with a small network: no update yet, but a network whose actions depend on every feature.
  const run = join(root, 'runs', name);
  await train({ scenario: s, algorithm: 'dqn', episodes: 8, seed: 31, out: run, resume: false, overrides: { teacher: 'none', hidden: [24] } });
  return (await exportPolicy({ run, out: join(root, 'gateway', name) })).dir;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'rescoin-gateway-'));
  folders.paper = await exported(loadScenario('paper-apartment'), 'paper');
  folders.v2h = await exported(loadScenario('paper-apartment-v2h'), 'v2h');
  // A home of real base-load days (issue 14): the gateway reads the day's base load as the env draws it.
  folders.b1 = await exported(loadScenario('citylearn-b1'), 'b1');
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('gateway replay', () => {
  for (const name of ['paper', 'v2h', 'b1']) {
    it(`${name}: replaying 12 days recorded with the policy in control, through the bundled policy.mjs controller, gives the environment's observations, masks and actions`, async () => {
      const home = await loadGatewayHome(folders[name]);
      const features = home.policy.manifest.observation.features;
      let trips = 0;
      let evMoves = 0;
      for (let day = 0; day < 12; day++) {
        const ex = await exampleDay(folders[name], 40, day);
        const rows = parseReplay(ex.csv, home.policy.manifest, 'day.csv');
        expect(rows).toHaveLength(96);
        if (rows.some((r) => r.ev!.home === 0)) trips++;
        const gw = new Gateway(home);
        rows.forEach((row, t) => {
          const slot = gw.step(row, 'day.csv');
          for (let k = 0; k < slot.observation.length; k++) expect(slot.observation[k], `day ${day} slot ${t} feature ${features[k].name}`).toBe(ex.observations[t][k]);
          expect(Array.from(slot.mask), `day ${day} slot ${t} mask`).toEqual(Array.from(ex.masks[t]));
          expect(slot.action, `day ${day} slot ${t} action`).toBe(ex.actions[t]);
          if (slot.messages.at(-1)!.power !== 0) evMoves++;
        });
        expect(gw.peakKw).toBeCloseTo(ex.summary.peakKw, 9);
      }
      // The days cover trips (the EV away, and its SoC read again at arrival) and EV commands.
      expect(trips).toBeGreaterThan(0);
      expect(evMoves).toBeGreaterThan(0);
    }, 120_000);
  }

  it('the folder ships the bundled runtime: one file, the controller inside, Node built-ins its only imports', () => {
    const text = readFileSync(join(folders.v2h, 'policy.mjs'), 'utf8');
    const imports = [...text.matchAll(/\bimport\s*\{[^}]*\}\s*from\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['node:fs', 'node:path', 'node:crypto']));
    const exported = /\bexport\s*\{([^}]*)\}/.exec(text)?.[1].split(',').map((x) => x.trim().split(/\s+as\s+/).at(-1));
    expect(exported).toEqual(expect.arrayContaining(['HomeController', 'loadController', 'loadPolicy', 'ActionCodec', 'observationLayout']));
    expect(text).toMatch(/HomeController\s*=\s*class/);
    expect(text.length).toBeLessThan(40_000);
  });
});

describe('a folder copied alone', () => {
  it('acts from raw readings through policy.mjs, with no node_modules anywhere above it, as the environment does', async () => {
    const s = loadScenario('paper-apartment-v2h');
    const policy = await loadGatewayPolicy(folders.v2h);
    const codec = flatCodec(s);
    const env = makeEnv(s);
    const days: { readings: unknown[]; actions: number[]; observations: number[][] }[] = [];
    for (let day = 0; day < 3; day++) {
      let { observation, info } = env.reset({ seed: daySeed(77, day) });
      const rec = { readings: [] as unknown[], actions: [] as number[], observations: [] as number[][] };
      for (let t = 0; t < 96; t++) {
        const r = env.readings();
        // As a gateway gets them: plain JSON, null where there is no reading.
        rec.readings.push(JSON.parse(JSON.stringify({ ...r, deadlines: Array.from(r.deadlines) })));
        const a = policy.act(observation, codec.flatMask(info.home));
        rec.actions.push(a);
        rec.observations.push(Array.from(observation));
        ({ observation, info } = env.step(codec.unflatten(a)));
      }
      days.push(rec);
    }
    expect(days.some((d) => (d.readings as { ev: { home: boolean } }[]).some((r) => !r.ev.home))).toBe(true);

    const alone = mkdtempSync(join(tmpdir(), 'rescoin-alone-'));
    try {
      cpSync(folders.v2h, alone, { recursive: true });
      writeFileSync(join(alone, 'days.json'), JSON.stringify(days.map((d) => d.readings)));
      const script = `
        import { loadController } from './policy.mjs';
        import { readFileSync } from 'node:fs';
        const home = loadController('.');
        const out = JSON.parse(readFileSync('days.json', 'utf8')).map((day) => {
          home.begin();
          return day.map((readings) => {
            const d = home.step(readings);
            return { action: d.action, observation: Array.from(d.observation), messages: d.messages.map((m) => m.device + ':' + m.command) };
          });
        });
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: alone, encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as { action: number; observation: number[]; messages: string[] }[][];
      got.forEach((day, d) =>
        day.forEach((slot, t) => {
          expect(slot.action, `day ${d} slot ${t}`).toBe(days[d].actions[t]);
          expect(slot.observation, `day ${d} slot ${t}`).toEqual(days[d].observations[t]);
          expect(slot.messages).toHaveLength(s.appliances.length + 1);
        }),
      );
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('rescoin gateway', () => {
  const run = (...args: string[]) => rescoin('gateway', ...args);

  it('writes an example day, replays it and writes 96 × devices control messages as JSON lines', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    const csv = join(dir, 'day.csv');
    const w = await run('--policy', folders.paper, '--write-example', csv, '--seed', '1', '--day', '3');
    expect(w.status, w.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(folders.paper, 'policy.json'), 'utf8'));
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(replayColumns(m).join(','));
    const out = join(dir, 'messages.jsonl');
    const r = await run('--policy', folders.paper, '--replay', csv, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const devices = m.action.appliances.length + 1;
    expect(lines).toHaveLength(96 * devices);
    expect(Object.keys(lines[0])).toEqual(['slot', 'time', 'device', 'command', 'power']);
    expect(lines[devices * 37]).toMatchObject({ slot: 37, time: '09:15', device: 'dishwasher' });
    for (const l of lines) expect(l.device === 'ev' ? ['idle', 'charge'] : ['wait', 'run']).toContain(l.command);
    for (let t = 0; t < 96; t++) expect(lines.slice(t * devices, (t + 1) * devices).map((l) => l.device)).toEqual([...m.action.appliances.map((a: { device: string }) => a.device), 'ev']);
    expect(r.stderr).toMatch(/96 slots, 672 control messages/);
    // Without --out the messages go to stdout.
    const stdout = await run('--policy', folders.paper, '--replay', csv);
    expect(stdout.stdout.trim().split('\n')).toHaveLength(672);
  });

  it('a bad row names the line and the column', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const csv = join(dir, 'day.csv');
    expect((await run('--policy', folders.paper, '--write-example', csv)).status).toBe(0);
    const lines = readFileSync(csv, 'utf8').split('\n');
    const header = lines[0].split(',');
    const cells = lines[9].split(',');
    cells[header.indexOf('pv_kw')] = 'abc';
    writeFileSync(join(dir, 'bad.csv'), [...lines.slice(0, 9), cells.join(','), ...lines.slice(10)].join('\n'));
    const r = await run('--policy', folders.paper, '--replay', join(dir, 'bad.csv'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bad.csv line 10, column pv_kw: expected a power ≥ 0 kW, got "abc"');

    const late = lines[20].split(',');
    late[header.indexOf('dishwasher_deadline')] = '3';
    writeFileSync(join(dir, 'late.csv'), [...lines.slice(0, 20), late.join(','), ...lines.slice(21)].join('\n'));
    expect((await run('--policy', folders.paper, '--replay', join(dir, 'late.csv'))).stderr).toContain('late.csv line 21, column dishwasher_deadline: expected empty or a deadline slot from 19 to 95, got "3"');

    writeFileSync(join(dir, 'cols.csv'), [lines[0].replace('pv_kw', 'pv_kW'), ...lines.slice(1)].join('\n'));
    expect((await run('--policy', folders.paper, '--replay', join(dir, 'cols.csv'))).stderr).toMatch(/cols\.csv line 1, column 4 "pv_kW": unknown column/);

    const noSoc = lines[1].split(',');
    noSoc[header.indexOf('ev_soc_kwh')] = '';
    writeFileSync(join(dir, 'nosoc.csv'), [lines[0], noSoc.join(','), ...lines.slice(2)].join('\n'));
    expect((await run('--policy', folders.paper, '--replay', join(dir, 'nosoc.csv'))).stderr).toContain("nosoc.csv line 2, column ev_soc_kwh: expected the EV's SoC (kWh)");

    expect((await run('--policy', folders.paper)).stderr).toContain('--replay or --write-example: expected exactly one of them');
  });
});
