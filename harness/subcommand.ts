// What every `imstorm` subcommand shares: its shape, where it writes, and the usage
// exit code. The dispatcher (harness/cli.ts) and the modules that define subcommands
// (scenario/cli.ts, report/cli.ts) import this module; none of them imports the other
// way back, so there is no import cycle.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Where a command writes; swappable so commands can be driven in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad flags or arguments: reported with the usage and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code for bad usage and for an environment that cannot run the command. */
export const EXIT_USAGE = 2;

/**
 * A command's flags by node:util's parseArgs, strict: an unknown flag or a missing value is
 * a UsageError (the dispatcher prints it with the command's usage, exit 2).
 */
export function parseFlags<O extends ParseArgsOptionsConfig>(args: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Runs a command: a UsageError is printed with its usage (exit 2), any other error in one line (exit 1). */
export async function runSubcommand(command: Subcommand, args: readonly string[], io: CliIo): Promise<number> {
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`imstorm ${command.name}: ${error.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    io.err(`imstorm ${command.name}: ${(error as Error).message}`);
    return 1;
  }
}
