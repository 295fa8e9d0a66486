import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { communityCommand, EXACT_HOMES } from '../../cli/community.js';
import { EXACT_HOMES as EVALUATE_EXACT_HOMES } from '../../community/evaluate.js';
import { loadScenario } from '../../env/index.js';
import { rescoin as run, rescoinJson } from '../cli/run.js';

/**
 * `rescoin community …` in-process, on a 3-home community written here: apartments with two
 * appliances and no EV, PV drawn between 0 and 4 kWp, so that the community MILP solves in about
 * a second and training days take milliseconds.
 */

const dir = mkdtempSync(join(tmpdir(), 'rescoin-community-cli-'));
const base = JSON.parse(readFileSync(loadScenario('paper-apartment').origin ?? join('data', 'scenarios', 'paper-apartment.json'), 'utf8')) as { appliances: unknown[] };
writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ extends: 'paper-apartment', id: 'tiny-home', ev: null, appliances: base.appliances.slice(0, 2) }));
const file = join(dir, 'tiny3.json');
writeFileSync(file, JSON.stringify({ id: 'tiny-three', name: 'Three small homes', description: 'test', homes: [{ scenario: 'tiny.json', id: 'h', count: 3, vary: { pvPeakKw: [0, 4] } }], feeder: { limitKw: 8 }, peakEurPerKwDay: 0.1, market: 'sdr' }));
const eleven = join(dir, 'tiny11.json');
writeFileSync(eleven, JSON.stringify({ id: 'tiny-eleven', name: 'Eleven small homes', description: 'test', homes: [{ scenario: 'tiny.json', id: 'h', count: 11, vary: { pvPeakKw: [0, 4] } }], feeder: { limitKw: 25 }, peakEurPerKwDay: 0.1, market: 'sdr' }));
const fast = join(dir, 'fast.json');
writeFileSync(fast, JSON.stringify({ dqn: { learningStarts: 64, hidden: [16], batchSize: 16 } }));

const collapse = (s: string) => s.replace(/\s+/g, ' ');

describe('rescoin community: flags', () => {
  it('lists its five commands', async () => {
    const r = await run('community', '--help');
    expect(r.status).toBe(0);
    for (const c of ['simulate', 'baseline', 'train', 'evaluate', 'settle']) expect(r.stdout).toContain(c);
  });

  it('--help describes every flag of every command', async () => {
    for (const cmd of communityCommand.commands) {
      const r = await run('community', cmd.name, '--help');
      expect(r.status, cmd.name).toBe(0);
      const help = collapse(r.stdout);
      for (const [name, def] of Object.entries(cmd.options)) {
        expect(def.description.length, `${cmd.name} --${name}`).toBeGreaterThan(10);
        expect(help, `${cmd.name} --${name}`).toContain(`--${name}`);
        expect(help, `${cmd.name} --${name}`).toContain(collapse(def.description).slice(0, 40));
      }
    }
  });

  it('a bad value fails with exit 2 naming the flag', async () => {
    const cases: [string[], string][] = [
      [['train', '--agent', 'ppo'], '--agent: expected one of dqn, qlearning, got "ppo"'],
      [['evaluate', '--days', '0'], '--days: expected a positive integer, got 0'],
      [['evaluate', '--window-hours', '5'], '--window-hours: expected hours that divide 24'],
      [['simulate', '--policy', 'random'], '--policy: unknown policy "random"'],
      [['simulate', '--community', join(dir, 'nowhere.json')], '--community: unknown community'],
      [['train', '--community', file, '--resume', '--overwrite'], '--resume or --overwrite'],
      [['evaluate', '--community', file, '--homes', 'nobody', '--days', '1'], '--homes: no policy "nobody"'],
    ];
    for (const [args, message] of cases) {
      const r = await run('community', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });
});

describe('rescoin community: the end to end on three homes', () => {
  it('simulate plays rule days without a violation', async () => {
    const out = await rescoinJson('community', 'simulate', '--community', file, '--days', '2', '--policy', 'asap,precharge');
    expect(out.map((p: { policy: string }) => p.policy)).toEqual(['asap', 'precharge']);
    for (const p of out)
      for (const d of p.days) {
        expect(Number.isFinite(d.score)).toBe(true);
        expect(d.violations).toBe(0);
        expect(d.feederPeakKw).toBeLessThanOrEqual(8 + 1e-6);
        expect(d.p2pKwh).toBeGreaterThanOrEqual(0);
      }
  });

  it('baseline: J* proven and at most the own optima together', async () => {
    const [r] = await rescoinJson('community', 'baseline', '--community', file, '--day', '1');
    expect(r.status).toBe('optimal');
    expect(r.day).toBe(1);
    expect(r.score).toBeLessThanOrEqual(r.ownScore + 1e-6);
    expect(r.valueOfCooperation).toBeCloseTo(r.ownScore - r.score, 12);
  });

  it('baseline --lagrangian: a bound at most J*', async () => {
    const [exact] = await rescoinJson('community', 'baseline', '--community', file, '--day', '1');
    const [bound] = await rescoinJson('community', 'baseline', '--community', file, '--day', '1', '--lagrangian', '--iterations', '4');
    expect(bound.method).toBe('lagrangian');
    expect(bound.bound).toBeLessThanOrEqual(exact.score + 1e-6);
    expect(bound.ownScore).toBeCloseTo(exact.ownScore, 9);
  });

  it('over 10 homes, baseline and evaluate measure against the Lagrangian bound', async () => {
    expect(EXACT_HOMES).toBe(EVALUATE_EXACT_HOMES);
    const [b] = await rescoinJson('community', 'baseline', '--community', eleven, '--iterations', '3');
    expect(b.method).toBe('lagrangian');
    const r = await rescoinJson('community', 'evaluate', '--community', eleven, '--days', '1', '--policy', 'asap,precharge', '--out', join(dir, 'report11'));
    expect(r.policies.map((p: { name: string }) => p.name)).toEqual(['asap', 'precharge', 'own-optima']);
    expect(r.optimum[0].method).toBe('lagrangian');
    for (const p of r.policies) expect(p.meanScore, p.name).toBeGreaterThanOrEqual(r.optimum[0].referenceEur - 1e-6);
    expect(r.valueOfCooperation).toBeNull();
  });

  const dqn = join(dir, 'dqn');
  const q = join(dir, 'q');
  it('train writes a run folder; the same seed gives the same run', async () => {
    const a = await rescoinJson('community', 'train', '--community', file, '--agent', 'dqn', '--episodes', '3', '--out', dqn, '--config', fast);
    expect(a.episodes).toBe(3);
    expect(a.updates).toBeGreaterThan(0);
    for (const f of ['config.json', 'metrics.csv', 'model/agent.json', 'checkpoint/loop.json']) expect(existsSync(join(dqn, f)), f).toBe(true);
    const metrics = readFileSync(join(dqn, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(metrics).toHaveLength(4);
    expect(metrics[0]).toMatch(/^episode,day_seed,score,/);
    const again = join(dir, 'dqn-again');
    await rescoinJson('community', 'train', '--community', file, '--agent', 'dqn', '--episodes', '3', '--out', again, '--config', fast);
    const cols = (p: string) => readFileSync(join(p, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 11).join(','));
    expect(cols(again)).toEqual(cols(dqn));
    const held = await run('community', 'train', '--community', file, '--episodes', '3', '--out', dqn);
    expect(held.status).toBe(2);
    expect(held.stderr).toContain('--out');
    const t = await rescoinJson('community', 'train', '--community', file, '--agent', 'qlearning', '--episodes', '5', '--out', q);
    expect(t.episodes).toBe(5);
    for (const id of ['h-1', 'h-2', 'h-3']) expect(existsSync(join(q, 'model', id, 'qtable.json')), id).toBe(true);
  });

  it('evaluate: J* at most every policy, KPIs in range, report written', async () => {
    const out = join(dir, 'report');
    const r = await rescoinJson('community', 'evaluate', '--community', file, '--runs', dqn, q, '--days', '2', '--out', out, '--window-hours', '6');
    const names = r.policies.map((p: { name: string }) => p.name);
    expect(names).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'dqn', 'q', 'own-optima', 'optimum']);
    const opt = r.policies.at(-1);
    expect(opt.gapPct).toBe(0);
    expect(r.policies[0].gapPct).toBeCloseTo(100, 9);
    expect(r.optimum.every((o: { status: string }) => o.status === 'optimal')).toBe(true);
    expect(r.valueOfCooperation).toBeGreaterThanOrEqual(-1e-6);
    for (const p of r.policies) {
      expect(p.meanScore, p.name).toBeGreaterThanOrEqual(opt.meanScore - 1e-6);
      expect(p.violations, p.name).toBe(0);
      const k = p.community;
      expect(k.selfSufficiency).toBeGreaterThanOrEqual(0);
      expect(k.selfSufficiency).toBeLessThanOrEqual(1);
      expect(k.selfConsumption).toBeGreaterThanOrEqual(0);
      expect(k.selfConsumption).toBeLessThanOrEqual(1);
      expect(k.loadFactor).toBeGreaterThan(0);
      expect(k.loadFactor).toBeLessThanOrEqual(1);
      expect(k.peakKw).toBeLessThanOrEqual(k.maxPeakKw + 1e-12);
      expect(k.maxPeakKw).toBeLessThanOrEqual(8 + 1e-6);
      expect(k.giniSavings).toBeGreaterThanOrEqual(0);
      expect(k.giniSavings).toBeLessThan(1);
      expect(k.billEur.sdr).toBeLessThanOrEqual(k.billEur.none + 1e-9);
      expect(p.homes).toHaveLength(3);
      for (const h of p.homes) expect(h.savingEur).toBeGreaterThanOrEqual(0);
    }
    expect(opt.days).toHaveLength(2);
    for (const p of r.policies) for (const d of p.days) expect(d.score, `${p.name} day ${d.day}`).toBeGreaterThanOrEqual(opt.days[d.day].score - 1e-6);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| policy | J €/day | gap % |');
    expect(md).toContain('## Homes under dqn');
  });
});
