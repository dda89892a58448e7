// imstorm command line. Each subcommand is one entry in SUBCOMMANDS with its
// own flag schema, so `run`, `list`, `env up`, `report`, `compare` and
// `server` slot in beside `toxiproxy` without touching the dispatcher.

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startToxiproxyServer } from './faults/proxy-server.ts';

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

export const EXIT_USAGE = 2;

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Parses `--flag value` options with node:util, then validates them with `schema`. */
function parseFlags<T extends z.ZodType>(
  args: readonly string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
  schema: T,
): z.output<T> | 'help' {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values['help']) return 'help';
  const result = schema.safeParse(values);
  if (!result.success) {
    throw new UsageError(result.error.issues.map((issue) => issue.message).join('; '));
  }
  return result.data;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const ToxiproxyFlags = z.object({
  host: z.string().trim().min(1, { message: '--host must not be empty' }),
  port: z
    .string()
    .regex(/^\d+$/, { message: '--port must be a whole number between 0 and 65535' })
    .transform(Number)
    .refine((port) => port <= 65535, { message: '--port must be a whole number between 0 and 65535' }),
});

const toxiproxyCommand: Subcommand = {
  name: 'toxiproxy',
  summary: 'Serve a Toxiproxy-compatible fault proxy API until SIGINT/SIGTERM',
  usage: [
    'Usage: imstorm toxiproxy [--host HOST] [--port PORT]',
    '',
    'Serves the Toxiproxy 2.x HTTP API (drive it with any Toxiproxy client or',
    'toxiproxy-cli) and runs the TCP proxies it is asked to create.',
    '',
    'Options:',
    '  --host HOST   interface for the API (default 127.0.0.1)',
    '  --port PORT   port for the API, 0 for any free port (default 8474)',
    '  -h, --help    show this help',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(
      args,
      { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8474' } },
      ToxiproxyFlags,
    );
    if (flags === 'help') {
      io.out(this.usage);
      return 0;
    }
    const server = await startToxiproxyServer({ host: flags.host, port: flags.port });
    const stopped = untilSignal();
    io.out(`imstorm toxiproxy: API listening on ${server.url}`);
    await stopped;
    await server.close();
    return 0;
  },
};

export const SUBCOMMANDS: readonly Subcommand[] = [toxiproxyCommand];

function globalUsage(): string {
  const width = Math.max(...SUBCOMMANDS.map((command) => command.name.length));
  return [
    'Usage: imstorm <command> [options]',
    '',
    'Commands:',
    ...SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'imstorm <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(globalUsage());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(globalUsage());
    return 0;
  }
  const command = SUBCOMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.err(`imstorm: unknown command '${name}'\n\n${globalUsage()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`imstorm ${command.name}: ${error.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    io.err(`imstorm ${command.name}: ${(error as Error).message}`);
    return 1;
  }
}
