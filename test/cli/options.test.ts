import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELD_OUT_SEED } from '../../env/index.js';
import { COMMANDS } from '../../cli/main.js';
import type { AnyCommand, CommandGroup } from '../../cli/command.js';
import { UsageError } from '../../cli/errors.js';
import { helpText, readArgs, type OptionDef } from '../../cli/options.js';
import { defaultRunDir } from '../../cli/train.js';
import { rescoin } from './run.js';

/** Every command with the words that run it: ['simulate'], ['ledger', 'mint'], … */
function leaves(): { words: string[]; cmd: AnyCommand }[] {
  return COMMANDS.flatMap((c) => ('commands' in c ? (c as CommandGroup).commands.map((s) => ({ words: [c.name, s.name], cmd: s })) : [{ words: [c.name], cmd: c as AnyCommand }]));
}

const squash = (s: string) => s.replace(/\s+/g, ' ');

/** A value that the flag refuses, or null for flags that take any text. */
function badValue(def: OptionDef): string | null {
  if (def.type === 'number') return 'abc';
  if (def.type === 'choice') return 'nope';
  return null;
}

/** Values for the required flags, so that a command gets as far as checking the others. */
function required(cmd: AnyCommand, except: string): string[] {
  return Object.entries(cmd.options).flatMap(([name, def]) => (name !== except && 'required' in def && def.required ? [`--${name}`, def.type === 'number' ? '1' : 'x'] : []));
}

describe('rescoin --help', () => {
  it('lists every command, and every group its subcommands', async () => {
    const top = await rescoin('--help');
    expect(top.status).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`rescoin ${c.name} +${c.summary.split(' ')[0]}`));
    const none = await rescoin();
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('rescoin: give a command: scenarios, simulate, baseline, train, evaluate, export, gateway, ledger');
    const typo = await rescoin('simulat');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('rescoin: unknown command "simulat": expected one of scenarios, simulate');
  });

  it("of each command lists each flag with its whole description, from the options data", async () => {
    const all = leaves();
    expect(all.map((l) => l.words.join(' '))).toEqual(['scenarios', 'simulate', 'baseline', 'train', 'evaluate', 'export', 'gateway', ...['init', 'keygen', 'mint', 'transfer', 'balance', 'verify', 'show'].map((s) => `ledger ${s}`), 'habits fit', 'habits check', 'worker', ...['simulate', 'baseline', 'train', 'evaluate', 'settle'].map((s) => `community ${s}`)]);
    for (const { words, cmd } of all) {
      const r = await rescoin(...words, '--help');
      expect(r.status, words.join(' ')).toBe(0);
      expect(r.stdout).toContain(`rescoin ${words.join(' ')} [options]`);
      // yargs wraps the text into columns: compared with all runs of white space made one space.
      const help = squash(r.stdout);
      for (const [name, def] of Object.entries(cmd.options)) {
        expect(def.description.length, `${words.join(' ')} --${name}`).toBeGreaterThan(10);
        expect(help, `${words.join(' ')} --${name}`).toContain(squash(`--${name} ${helpText(def)}`));
      }
    }
  });
});

describe('bad flag values', () => {
  it('fail with exit 2 and the flag named, for every number and choice flag of every command', async () => {
    let checked = 0;
    for (const { words, cmd } of leaves())
      for (const [name, def] of Object.entries(cmd.options)) {
        const bad = badValue(def);
        if (bad === null) continue;
        const r = await rescoin(...words, ...required(cmd, name), `--${name}`, bad);
        expect(r.status, `${words.join(' ')} --${name} ${bad}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(`rescoin ${words.join(' ')}: --${name}: expected ${def.type === 'number' ? 'a number' : 'one of'}`);
        expect(r.stdout).toBe('');
        checked++;
      }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('name the flag in the UsageError: range, integer, choice, required, repeated', () => {
    const defs = {
      days: { type: 'number', default: 7, integer: true, min: 1, description: 'days' },
      limit: { type: 'number', default: 60, positive: true, description: 'seconds' },
      agent: { type: 'choice', choices: ['qlearning', 'dqn'], default: 'dqn', description: 'algorithm' },
      run: { type: 'string', required: true, description: 'run folder' },
    } as const;
    const fail = (parsed: Record<string, unknown>) => {
      try {
        readArgs(defs, { run: 'r', ...parsed });
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return `${(e as UsageError).flag}: ${(e as UsageError).message}`;
      }
      throw new Error(`accepted ${JSON.stringify(parsed)}`);
    };
    expect(fail({ days: 0 })).toBe('--days: expected a positive integer, got 0');
    expect(fail({ days: 2.5 })).toBe('--days: expected an integer, got 2.5');
    expect(fail({ days: [3, 4] })).toBe('--days: given 2 times: expected once');
    expect(fail({ limit: 0 })).toBe('--limit: expected a number > 0, got 0');
    expect(fail({ agent: 'ppo' })).toBe('--agent: expected one of qlearning, dqn, got "ppo"');
    expect(fail({ run: undefined })).toBe('--run: required: run folder');
    expect(readArgs(defs, { run: 'r', days: 3, limit: 0.5, agent: 'qlearning' })).toEqual({ run: 'r', days: 3, limit: 0.5, agent: 'qlearning' });
  });

  it('and flags that do not go together name both', async () => {
    const r = await rescoin('train', '--resume', '--overwrite', '--out', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('rescoin train: --resume or --overwrite: expected at most one of them');
    const plot = await rescoin('simulate', '--days', '2', '--plot-day', '2');
    expect(plot.status).toBe(2);
    expect(plot.stderr).toContain('rescoin simulate: --plot-day: expected an integer in [0, 1]');
    const orphan = await rescoin('evaluate', '--prosumer', 'alice');
    expect(orphan.status).toBe(2);
    expect(orphan.stderr).toContain('rescoin evaluate: --prosumer: goes with --ledger');
  });
});

describe('defaults', () => {
  const train = leaves().find((l) => l.words[0] === 'train')!.cmd.options;
  const evaluate = leaves().find((l) => l.words[0] === 'evaluate')!.cmd.options;
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));

  it('rescoin train with no flags trains what npm start trains: DQN, 1,024 days, seed 1, into runs/dqn-seed1', () => {
    expect([train.agent.default, train.episodes.default, train.seed.default]).toEqual(['dqn', 1024, 1]);
    expect(defaultRunDir('dqn', 1)).toBe(join('runs', 'dqn-seed1'));
    expect(pkg.scripts.start).toMatch(/^node dist\/cli\/bin\.js train --overwrite && node dist\/cli\/bin\.js evaluate --runs runs\/dqn-seed1 /);
  });

  it('evaluate plays the held-out days by default, without the bound (8 trips a day when asked), cached under the current directory', () => {
    expect(evaluate.seed.default).toBe(HELD_OUT_SEED);
    expect(evaluate.days.default).toBe(30);
    expect([evaluate.bound.default, evaluate['bound-samples'].default, evaluate.cache.default]).toEqual([false, 8, join('.rescoin-cache', 'bound')]);
  });

  it('the installed command is the build of cli/bin.ts', () => {
    expect(pkg.bin).toEqual({ rescoin: 'dist/cli/bin.js' });
    expect(readFileSync(join(import.meta.dirname, '..', '..', 'cli', 'bin.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});
