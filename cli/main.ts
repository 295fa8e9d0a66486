import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { LedgerError } from '../ledger/index.js';
import { println, processIo, type AnyCommand, type CommandGroup, type Io } from './command.js';
import { UsageError } from './errors.js';
import { readArgs, yargsOption } from './options.js';
import { scenariosCommand } from './scenarios.js';
import { simulateCommand } from './simulate.js';
import { baselineCommand } from './baseline.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { gatewayCommand } from './gateway.js';
import { ledgerCommand } from './ledger.js';
import { habitsCommand } from './habits.js';
import { workerCommand } from './worker.js';
import { communityCommand } from './community.js';

/**
 * The `rescoin` command line: `main(argv)` runs one command in-process and returns its exit code
 * (bin.ts exits with it). 0: done; 1: the command failed (a refused transaction, a damaged file, a
 * bug); 2: a usage error, printed as `rescoin <command>: --flag: message`. yargs only splits the
 * command line and writes --help from each command's options data (options.ts); nothing here calls
 * process.exit or writes anywhere but `io`.
 */

export const COMMANDS: readonly (AnyCommand | CommandGroup)[] = [scenariosCommand, simulateCommand, baselineCommand, trainCommand, evaluateCommand, exportCommand, gatewayCommand, ledgerCommand, habitsCommand, workerCommand, communityCommand];

const isGroup = (c: AnyCommand | CommandGroup): c is CommandGroup => 'commands' in c;

/** rescoin's version, from package.json above cli/ or above dist/cli/. */
function version(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '..', 'package.json'), join(here, '..', '..', 'package.json')])
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  return 'unknown';
}

const width = (io: Io) => (io === processIo ? Math.min(110, process.stdout.columns || 110) : 110);

interface Parsed {
  err: Error | null;
  argv: Record<string, unknown>;
  output: string;
}

/** yargs' parse, synchronous (no handlers run in yargs), with its output kept instead of printed. */
function parse(y: ReturnType<typeof yargs>, argv: string[]): Parsed {
  let out: Parsed | null = null;
  y.exitProcess(false).parse(argv, {}, (err, parsed, output) => {
    out = { err: err ?? null, argv: parsed as Record<string, unknown>, output };
  });
  return out!;
}

/** The help of a list of commands (`rescoin`, `rescoin ledger`). */
function listHelp(prog: string, summary: string, commands: readonly { name: string; summary: string }[], io: Io): string {
  let y = yargs().scriptName(prog).usage(`$0 <command> [options]\n\n${summary}`).wrap(width(io));
  for (const c of commands) y = y.command(c.name, c.summary);
  y = prog === 'rescoin' ? y.version(version()) : y.version(false);
  return parse(y.help().alias('h', 'help'), ['--help']).output;
}

/** A library error about a field the user gave, as the usage error of the command's flag for it. */
function usageOf(e: unknown, cmd: AnyCommand): UsageError | null {
  if (e instanceof UsageError) return e;
  if (e instanceof LedgerError && e.field !== undefined) {
    const flag = cmd.fields?.[e.field] ?? (e.field in cmd.options ? `--${e.field}` : undefined);
    if (flag !== undefined) return new UsageError(flag, e.detail);
  }
  return null;
}

function failed(e: unknown, cmd: AnyCommand, prog: string, io: Io): number {
  const usage = usageOf(e, cmd);
  if (usage) {
    println(io.stderr, `${prog}: ${usage.flags.join(' or ')}: ${usage.message}`);
    println(io.stderr, `Run \`${prog} --help\` for the options.`);
    return 2;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  println(io.stderr, `${prog}: ${err.message}`);
  // A TypeError or ReferenceError is a bug, not the user's doing: its stack helps a report.
  if (err instanceof TypeError || err instanceof ReferenceError) println(io.stderr, err.stack ?? '');
  return 1;
}

async function runCommand(cmd: AnyCommand, prog: string, argv: string[], io: Io): Promise<number> {
  let y = yargs().scriptName(prog).usage(`$0 [options]\n\n${cmd.summary}`).strict().version(false).wrap(width(io));
  for (const [name, def] of Object.entries(cmd.options)) y = y.option(name, yargsOption(def));
  if (cmd.epilog) y = y.epilog(cmd.epilog);
  const p = parse(y.help().alias('h', 'help'), argv);
  if (p.err) {
    // yargs' own errors (an unknown flag, a missing value) come after the help, where they are seen.
    println(io.stderr, p.output.replace(/\n+[^\n]*$/, ''));
    println(io.stderr, `\n${prog}: ${p.err.message}`);
    return 2;
  }
  if (p.argv.help) {
    println(io.stdout, p.output);
    return 0;
  }
  try {
    const args = readArgs(cmd.options, p.argv);
    cmd.check?.(args);
    return (await cmd.run(args, io)) ?? 0;
  } catch (e) {
    return failed(e, cmd, prog, io);
  }
}

/** Runs `rescoin …argv` and returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let commands: readonly (AnyCommand | CommandGroup)[] = COMMANDS;
  let prog = 'rescoin';
  let summary = 'Train, evaluate and export smart-home energy agents (see README.md).';
  let rest = argv;
  for (;;) {
    const [word, ...more] = rest;
    if (word === '--version' && prog === 'rescoin') {
      println(io.stdout, version());
      return 0;
    }
    if (word === undefined || word === '--help' || word === '-h') {
      const help = listHelp(prog, summary, commands, io);
      if (word !== undefined) return println(io.stdout, help), 0;
      println(io.stderr, `${help}\n\n${prog}: give a command: ${commands.map((c) => c.name).join(', ')}`);
      return 2;
    }
    const found = commands.find((c) => c.name === word);
    if (!found) {
      println(io.stderr, `${listHelp(prog, summary, commands, io)}\n\n${prog}: unknown command "${word}": expected one of ${commands.map((c) => c.name).join(', ')}`);
      return 2;
    }
    prog = `${prog} ${found.name}`;
    rest = more;
    if (!isGroup(found)) return runCommand(found, prog, rest, io);
    commands = found.commands;
    summary = found.summary;
  }
}
