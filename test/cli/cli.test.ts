import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../env/index.js';
import { formatTable, builtinPolicy, simulate } from '../../evaluation/simulate.js';
import { rescoin as run } from './run.js';

const paper = loadScenario('paper-apartment');

describe('simulate', () => {
  it('day d of seed K is the same day whatever the number of days', async () => {
    const three = await simulate(paper, builtinPolicy('asap', paper), 3, 1);
    const seven = await simulate(paper, builtinPolicy('asap', paper), 7, 1);
    expect(seven.rows.slice(0, 3)).toEqual(three.rows);
    const other = await simulate(paper, builtinPolicy('asap', paper), 3, 2);
    expect(other.rows).not.toEqual(three.rows);
  });

  it('prints a table with a mean row', async () => {
    const res = await simulate(paper, builtinPolicy('cheapest', paper), 4, 1);
    const table = formatTable(res);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/day\s+cost €\s+import kWh\s+export kWh\s+peak kW\s+PAR\s+RSC\s+score J €\s+violations/);
    expect(lines).toHaveLength(1 + 1 + 4 + 1 + 1);
    expect(lines.at(-1)).toMatch(/^mean/);
    const mean = res.rows.reduce((s, r) => s + r.score, 0) / 4;
    expect(res.mean.score).toBeCloseTo(mean, 12);
  });
});

describe('rescoin CLI', () => {
  it('simulate --json prints the days', async () => {
    const out = await run('simulate', '--scenario', 'paper-apartment', '--policy', 'asap', '--days', '2', '--seed', '1', '--json');
    expect(out.status).toBe(0);
    const days = JSON.parse(out.stdout);
    expect(days).toHaveLength(2);
    expect(Object.keys(days[0]).sort()).toEqual(['cost', 'day', 'exportKwh', 'importKwh', 'par', 'peakKw', 'rescoin', 'score', 'violations']);
    expect(days[1].day).toBe(1);
  });

  it('unknown flags and values fail with the valid ones', async () => {
    const flag = await run('simulate', '--dayz', '3');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('Unknown argument: dayz');
    expect(flag.stderr).toContain('--days');
    const policy = await run('simulate', '--policy', 'random');
    expect(policy.status).toBe(2);
    expect(policy.stderr).toContain('valid: asap, cheapest, precharge, mpc, mpc-scenarios, milp');
    const scenario = await run('simulate', '--scenario', 'mansion');
    expect(scenario.status).toBe(2);
    expect(scenario.stderr).toContain('paper-apartment');
  });

  it('scenarios lists the shipped scenarios', async () => {
    const out = await run('scenarios', '--json');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout).map((s: { id: string }) => s.id)).toContain('paper-apartment');
  });

  it('--plot draws a day as SVG and PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-'));
    const svg = join(dir, 'day.svg');
    const png = join(dir, 'day.png');
    expect((await run('simulate', '--days', '1', '--plot', svg)).status).toBe(0);
    expect((await run('simulate', '--days', '1', '--plot', png)).status).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg/);
    expect(text).toContain('Dishwasher');
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect((await run('simulate', '--days', '1', '--plot', join(dir, 'day.jpg'))).status).toBe(2);
  });

  it('baseline solves day d of seed K, the same day simulate plays, and writes LP, plot and front', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-'));
    const out = await run('baseline', '--day', '2', '--seed', '1', '--json', '--lp', join(dir, 'day.lp'), '--plot', join(dir, 'day.svg'));
    expect(out.status).toBe(0);
    const r = JSON.parse(out.stdout);
    expect(r.status).toBe('optimal');
    expect(Object.keys(r).sort()).toEqual(['cost', 'mipGap', 'par', 'peakKw', 'rescoin', 'schedule', 'score', 'solveMs', 'status']);
    const sim = JSON.parse((await run('simulate', '--policy', 'milp', '--days', '3', '--seed', '1', '--json')).stdout);
    expect(Math.abs(sim[2].score - r.score)).toBeLessThan(1e-6);
    const asap = JSON.parse((await run('simulate', '--policy', 'asap', '--days', '3', '--seed', '1', '--json')).stdout);
    expect(r.score).toBeLessThanOrEqual(asap[2].score);
    expect(readFileSync(join(dir, 'day.lp'), 'utf8')).toMatch(/^\\ .*\nMinimize/);
    expect(readFileSync(join(dir, 'day.svg'), 'utf8')).toMatch(/^<svg/);
    const front = await run('baseline', '--day', '2', '--seed', '1', '--pareto', '3', '--pareto-out', join(dir, 'front'));
    expect(front.status).toBe(0);
    const rows = readFileSync(join(dir, 'front.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('cap_kw,peak_kw,cost_eur,score_eur,status');
    expect(rows).toHaveLength(4);
    const costs = rows.slice(1).map((l) => Number(l.split(',')[2]));
    expect(costs[2]).toBeLessThanOrEqual(costs[0] + 1e-9);
    expect((await run('baseline', '--pareto', '1')).status).toBe(2);
  });
});

describe('evaluate --bound', () => {
  it('prints asap, cheapest, precharge, both MPC modes, the bound and milp with both gaps and the decision time, and caches the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-cli-bound-'));
    const args = ['evaluate', '--days', '2', '--bound', '--bound-samples', '2', '--mpc-samples', '2', '--cache', join(dir, 'cache'), '--out', join(dir, 'report')];
    const text = await run(...args);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const head = lines.find((l) => l.startsWith('policy'))!;
    expect(head.split(/\s{2,}/)).toEqual(['policy', 'mean J €', 'sd', 'cost €', 'peak kW', 'PAR', 'RSC', 'violations', 'gap J* %', 'gap LB %', 'ms/decision']);
    const rows = lines.slice(lines.indexOf(head) + 1).filter((l) => /^\S+\s{2,}/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'mpc-scenarios', 'bound', 'milp']);
    const cells = (name: string) => rows.find((l) => l.startsWith(`${name} `))!.split(/\s+/);
    expect(cells('asap').slice(-3, -1)).toEqual(['100.0', '100.0']);
    expect(cells('bound').slice(3, 8)).toEqual(['-', '-', '-', '-', '-']);
    expect(cells('bound').slice(-2)).toEqual(['0.0', '-']);
    expect(cells('milp').at(-3)).toBe('0.0');
    // The same command with --json reads the bound from the cache and prints the same figures.
    const j = JSON.parse((await run(...args, '--json')).stdout) as { policies: { name: string; kind: string; gapPct: number; gapToBoundPct: number; decisionMs?: number }[] };
    expect(j.policies.map((p) => [p.name, p.kind])).toEqual([['asap', 'baseline'], ['cheapest', 'baseline'], ['precharge', 'baseline'], ['mpc', 'mpc'], ['mpc-scenarios', 'mpc'], ['bound', 'bound'], ['milp', 'optimum']]);
    expect(j.policies[0].gapToBoundPct).toBe(100);
    expect(j.policies[5].gapToBoundPct).toBe(0);
    expect(j.policies[5].gapPct.toFixed(1)).toBe(cells('bound').at(-3));
    expect(j.policies[5].decisionMs).toBeUndefined();
    expect(readFileSync(join(dir, 'report', 'report.md'), 'utf8')).toContain('- **gap to the bound** is Σ(J − LB) / Σ(J_asap − LB)');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
