// `imstorm explore --model`: the model-based protocol test (harness/protocol-model/run.ts, the
// property test/model/protocol.model.test.ts runs with a small budget) with a big budget from
// the command line, on its own real Redis and two real nodes; progress while it runs, and on a
// violation the shrunk command sequence, its seed and path, and a replay file.
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../env/paths.ts';
import { RedisNotInstalledError } from '../env/redis-process.ts';
import { EXIT_USAGE, parseFlags, UsageError, type CliIo } from '../subcommand.ts';
import { duration, whole } from '../util/cli-flags.ts';
import { exercised } from './commands.ts';
import { searchModel, type ModelCounterexample } from './run.ts';
import { startWorld } from './world.ts';

export const MODEL_USAGE = [
  'Usage: imstorm explore --model [--budget 10m] [--runs N] [--seed S] [--path P [--replay-path R]]',
  '                               [--shrink-budget 5m] [--max-commands 40] [--client-only]',
  '                               [--server-env TEST_BUGS=<bug>] [--out FILE.json] [--from FILE.json]',
  '',
  'The model-based protocol test (fast-check fc.commands: connect, replace, disconnect, send and',
  'resend, ack, history, join, leave, kill/restart a node, cut/heal its Redis link) against a',
  'real Redis and two real nodes, checked against a model of PROTOCOL.md after every command:',
  'the property `npm test` runs 25 times, searched here for as long as --budget allows. A',
  'violation is shrunk, printed (commands, violation, seed, path, replayPath) and written to a',
  'replay file. Exit 0 when every sequence passed, 1 with a counterexample, 2 for usage or',
  'environment errors.',
  '',
  'Options:',
  '  --budget T         time to search, e.g. 90s, 10m (default 10m)',
  '  --runs N           search at most N sequences',
  '  --shrink-budget T  time to shrink a violation (default 5m)',
  '  --seed S           fast-check seed (default random, printed)',
  '  --path P           replay: start from the sequence at this fast-check path (needs --seed)',
  '  --replay-path R    the replayPath printed inside a counterexample (needs --path): which',
  '                     generated commands ran, so the replay runs the same ones',
  '  --from FILE        replay a counterexample file written by an earlier --model run',
  '                     (its seed, path, replayPath, server environment and command set)',
  '  --max-commands N   longest sequence (default 40)',
  '  --client-only      no kill/restart/cut/heal commands (faster runs; what the test\'s controls use)',
  '  --server-env K=V   TEST_BUGS=<bug> runs deliberately broken nodes (server/testing/)',
  '  --out FILE         the counterexample file (default scenarios/found/model-<bug>-<time>.json)',
  '  --progress-every T a progress line this often (default 10s): runs, runs/min, shrink step',
  '  -h, --help         show this help',
].join('\n');

const modelFlags = z
  .object({
    budget: duration('--budget').prefault('10m'),
    'shrink-budget': duration('--shrink-budget').prefault('5m'),
    runs: whole('--runs', 1, 1_000_000).optional(),
    seed: z.string().regex(/^-?\d+$/, '--seed must be a whole number (printed by an earlier run)').transform(Number).optional(),
    path: z.string().regex(/^\d+(:\d+)*$/, "--path is fast-check's path: numbers joined by colons, e.g. 3:0:2 (printed by an earlier run)").optional(),
    'replay-path': z.string().regex(/^[A-Za-z0-9+/=:_-]*$/, '--replay-path is the replayPath="…" printed inside a counterexample, without the quotes').optional(),
    from: z.string().regex(/\.json$/, '--from takes a .json counterexample file written by imstorm explore --model').optional(),
    'max-commands': whole('--max-commands', 1, 500).prefault('40'),
    'progress-every': duration('--progress-every').prefault('10s'),
    'client-only': z.boolean().default(false),
    out: z.string().regex(/\.json$/, '--out must name a .json file, e.g. scenarios/found/model-my-bug.json').optional(),
    'server-env': z
      .array(z.string().regex(/^TEST_BUGS=[a-z_,]*$/, '--server-env takes TEST_BUGS=<bug>[,<bug>] with --model (the model assumes the nodes\' other settings: STORE_TIMEOUT_MS 1000)'))
      .max(1, '--server-env: give TEST_BUGS once')
      .default([]),
  })
  .refine((f) => f.path === undefined || f.seed !== undefined, { message: '--path needs the --seed it was printed with' })
  .refine((f) => f['replay-path'] === undefined || f.path !== undefined, { message: '--replay-path needs the --path (and --seed) it was printed with' })
  .refine((f) => f.from === undefined || (f.seed === undefined && f.path === undefined && f['replay-path'] === undefined && !f['server-env'].length), {
    message: '--from carries its own seed, path, replayPath and TEST_BUGS: give it without --seed, --path, --replay-path, --server-env',
  });

/** What a counterexample file holds: enough for `imstorm explore --model --from FILE` to run it again. */
const counterexampleFile = z.object({
  kind: z.literal('imstorm-model-counterexample'),
  seed: z.number().int(),
  path: z.string(),
  replayPath: z.string().optional(),
  bugs: z.string(),
  maxCommands: z.number().int().positive(),
  clientOnly: z.boolean(),
  commands: z.array(z.string()),
  violation: z.string(),
});
type CounterexampleFile = z.infer<typeof counterexampleFile>;

function readCounterexample(file: string): CounterexampleFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--from ${file}: ${(err as Error).message}`);
  }
  const r = counterexampleFile.safeParse(json);
  if (!r.success) throw new UsageError(`--from ${file}: not a counterexample written by imstorm explore --model (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return r.data;
}

const shellReplay = (c: { seed: number; path: string; replayPath?: string | undefined; bugs: string; maxCommands: number; clientOnly: boolean }): string =>
  `imstorm explore --model --seed ${c.seed} --path ${c.path}${c.replayPath ? ` --replay-path ${c.replayPath}` : ''}${c.bugs ? ` --server-env TEST_BUGS=${c.bugs}` : ''}${c.maxCommands !== 40 ? ` --max-commands ${c.maxCommands}` : ''}${c.clientOnly ? ' --client-only' : ''}`;

export async function runModelExplore(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    budget: { type: 'string' },
    'shrink-budget': { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'replay-path': { type: 'string' },
    from: { type: 'string' },
    'max-commands': { type: 'string' },
    'client-only': { type: 'boolean' },
    'progress-every': { type: 'string' },
    out: { type: 'string' },
    'server-env': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(MODEL_USAGE);
    return 0;
  }
  const parsed = modelFlags.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  const f = parsed.data;
  const from = f.from ? readCounterexample(f.from) : undefined;
  const bugs = from?.bugs ?? (f['server-env'][0]?.slice('TEST_BUGS='.length) ?? '');
  const seed = from?.seed ?? f.seed ?? randomInt(0, 2 ** 31 - 1);
  const replayTo = from?.path ?? f.path;
  const replayPath = from?.replayPath ?? f['replay-path'];
  const maxCommands = from?.maxCommands ?? f['max-commands'];
  const clientOnly = from?.clientOnly ?? f['client-only'];
  const started = Date.now();
  const log = (l: string) => io.out(`[model ${clock(Date.now() - started)}] ${l}`);
  io.out(`imstorm explore --model --seed ${seed}${replayTo ? ` --path ${replayTo}` : ''}${bugs ? ` --server-env TEST_BUGS=${bugs}` : ''}  (the same --seed draws the same sequences)`);

  let world;
  try {
    world = await startWorld(bugs ? { bugs } : {});
  } catch (err) {
    if (err instanceof RedisNotInstalledError) {
      io.err(`imstorm explore --model: ${err.message}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  log(`world up: Redis on ${world.redis.port}, nodes ${world.nodes.map((n) => n.url).join(' and ')} (the second through a relay)${bugs ? `, TEST_BUGS=${bugs}` : ''}`);
  let result;
  try {
    result = await searchModel({
      world,
      faults: !clientOnly,
      maxCommands,
      seed,
      budgetMs: f.budget,
      shrinkBudgetMs: f['shrink-budget'],
      ...(f.runs !== undefined ? { runs: f.runs } : {}),
      ...(replayTo !== undefined ? { path: replayTo } : {}),
      ...(replayPath !== undefined ? { replayPath } : {}),
      log,
      progressEveryMs: f['progress-every'],
    });
  } finally {
    await world.close().catch(() => {});
  }
  io.out('');
  io.out(`${result.searchRuns} sequence(s) searched in ${(result.searchMs / 1000).toFixed(0)} s (${result.runsPerMinute.toFixed(1)} runs/min); ${result.runs} run(s) in all; exercised ${JSON.stringify(exercised)}`);
  if (result.notReproduced) {
    // a replay (--from, --path) has no failure of its own to show: the sequence it named passed
    if (!result.notReproduced.violation) io.out(`the sequence at --seed ${seed} --path ${result.notReproduced.path} passed: no model violation now.`);
    else io.out(`a sequence failed (${result.notReproduced.violation.split('\n')[0]}) but passed when replayed: ${result.notReproduced.commands.join(', ')}`);
    io.out(`try it again: ${shellReplay({ seed, path: result.notReproduced.path, bugs, maxCommands, clientOnly })}`);
    return 0;
  }
  const found = result.found;
  if (!found) {
    io.out(`no model violation found${bugs ? ` on TEST_BUGS=${bugs}` : ''}.`);
    return 0;
  }
  const file = f.out ?? path.join(path.relative(process.cwd(), REPO_ROOT) || '.', 'scenarios', 'found', `model-${(bugs || 'violation').replace(/[^a-z0-9]+/g, '-')}-${stamp()}.json`);
  const written = writeCounterexample(file, { kind: 'imstorm-model-counterexample', seed: found.seed, path: found.path, ...(found.replayPath ? { replayPath: found.replayPath } : {}), bugs, maxCommands, clientOnly, commands: found.commands, violation: found.violation });
  printCounterexample(io, found, { bugs, maxCommands, clientOnly, file: written });
  return 1;
}

function printCounterexample(io: CliIo, c: ModelCounterexample, o: { bugs: string; maxCommands: number; clientOnly: boolean; file: string }): void {
  io.out('');
  io.out(`COUNTEREXAMPLE (model violation${o.bugs ? `, TEST_BUGS=${o.bugs}` : ''}):`);
  io.out(`  found after ${(c.foundAfterMs / 1000).toFixed(1)} s; shrunk in ${(c.shrinkMs / 1000).toFixed(1)} s (${c.shrinkCandidates} candidates, ${c.shrinkSteps} steps down${c.shrinkInterrupted ? ', stopped by --shrink-budget' : ''}): ${c.originalCommands} → ${c.commands.length} command(s)`);
  c.commands.forEach((cmd, i) => io.out(`  ${String(i + 1).padStart(3)}. ${cmd}`));
  io.out(`  violated: ${c.violation.replace(/\n/g, '\n            ')}`);
  io.out(`  seed ${c.seed}, path ${c.path}${c.replayPath ? `, replayPath ${c.replayPath}` : ''}`);
  io.out('');
  const rel = path.relative(process.cwd(), o.file);
  io.out(`written: ${rel}`);
  io.out(`replay it: imstorm explore --model --from ${rel}`);
  io.out(`       or: ${shellReplay({ seed: c.seed, path: c.path, replayPath: c.replayPath, bugs: o.bugs, maxCommands: o.maxCommands, clientOnly: o.clientOnly })}`);
  // the test draws the same sequences only with its own command set and examples: the
  // controls' (client commands, 16 at most, no examples). The correct server's test runs a
  // fixed cut/heal sequence first, which shifts fast-check's path by one, so a path found here
  // does not replay there: --from and --seed/--path above do
  const env = `IMSTORM_MODEL_SEED=${c.seed} IMSTORM_MODEL_PATH=${c.path}${c.replayPath ? ` IMSTORM_MODEL_REPLAY=${c.replayPath}` : ''}`;
  if (o.bugs && o.clientOnly && o.maxCommands === 16) io.out(`   (test): IMSTORM_MODEL_CONTROLS=${o.bugs}:${c.commands.length} ${env} npx vitest run test/model/protocol.model.test.ts -t control`);
}

function writeCounterexample(file: string, c: CounterexampleFile): string {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  const rel = path.relative(REPO_ROOT, abs);
  // from the repository's root (an absolute path for a file outside it)
  const shown = rel.startsWith('..') ? abs : rel.split(path.sep).join('/');
  writeFileSync(abs, `${JSON.stringify({ ...c, replay: `imstorm explore --model --from ${shown}` }, null, 2)}\n`);
  return abs;
}

const stamp = (at = new Date()): string => at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const clock = (ms: number): string => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
