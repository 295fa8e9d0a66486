import type { ArgsOf, OptionDefs } from './options.js';

/** Where a command writes: process.stdout and process.stderr, or a test's buffers. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

/** One line to a stream. */
export const println = (stream: Io['stdout'], text: string): void => void stream.write(`${text}\n`);

/** A `rescoin` command: its flags as data, a check of how they combine, and what it does. */
export interface Command<O extends OptionDefs> {
  name: string;
  /** One line, for the command list. */
  summary: string;
  options: O;
  /** Shown under the flags by --help. */
  epilog?: string;
  /**
   * Library errors name fields, not flags (ledger/): the flag of each such field, where it is not
   * `--<field>` of this command.
   */
  fields?: Record<string, string>;
  /** Throws a UsageError when flags do not go together. */
  check?: (args: ArgsOf<O>) => void;
  /** The exit code (0 when nothing is returned). */
  run: (args: ArgsOf<O>, io: Io) => Promise<number | void> | number | void;
}

/** A command with its types erased, as main holds it. */
export interface AnyCommand {
  name: string;
  summary: string;
  options: OptionDefs;
  epilog?: string;
  fields?: Record<string, string>;
  check?: (args: Record<string, unknown>) => void;
  run: (args: Record<string, unknown>, io: Io) => Promise<number | void> | number | void;
}

/** A command of subcommands (`rescoin ledger …`). */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: AnyCommand[];
}

export function defineCommand<const O extends OptionDefs>(c: Command<O>): AnyCommand {
  return c as unknown as AnyCommand;
}
