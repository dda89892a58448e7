// What every `imstorm` subcommand shares: its shape, where it writes, and the usage
// exit code. The dispatcher (harness/cli.ts) and the modules that define subcommands
// (scenario/cli.ts, report/cli.ts) import this module; none of them imports the other
// way back, so there is no import cycle.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';

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

/**
 * A command's flags parsed (parseFlags, with -h/--help added) and then checked by its zod
 * schema: 'help' when asked for; a flag the schema refuses is a UsageError carrying the
 * schema's messages (each names its flag).
 */
export function parseCommandFlags<S extends z.ZodType>(args: readonly string[], options: ParseArgsOptionsConfig, schema: S, allowPositionals = false): { flags: z.output<S>; positionals: string[] } | 'help' {
  const { values, positionals } = parseFlags(args, { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals);
  if (values.help) return 'help';
  const r = schema.safeParse(values);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join('; '));
  return { flags: r.data, positionals };
}

/** A duration flag: seconds, or with a unit (500ms / 30s / 2m); in ms. */
export const durationFlag = (flag: string, example = '500ms / 30s / 2m') =>
  z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m)?$/, `${flag} takes seconds, or ${example}`)
    .transform((v) => {
      const n = Number.parseFloat(v);
      return v.endsWith('ms') ? n : v.endsWith('m') ? n * 60_000 : n * 1000;
    });

/** `--server-env KEY=VALUE`, repeatable: more environment for the server nodes. */
export const serverEnvFlag = (example: string) => z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, `--server-env takes KEY=VALUE, e.g. ${example}`)).default([]);

/** KEY=VALUE pairs (as serverEnvFlag checked them) as an environment. */
export const envOf = (pairs: readonly string[]): Record<string, string> => Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

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
