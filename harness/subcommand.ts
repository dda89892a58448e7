// What every `imstorm` subcommand shares: its shape, where it writes, and the usage
// exit code. The dispatcher (harness/cli.ts) and the modules that define subcommands
// (scenario/cli.ts, report/cli.ts) import this module; none of them imports the other
// way back, so there is no import cycle.

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
