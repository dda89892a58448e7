// `imstorm replay <capture-dir | report-dir> [options]` (issue 12).
import path from 'node:path';
import { z } from 'zod';
import { ENV_CHOICES, EnvUnavailableError, type EnvChoice } from '../env/index.ts';
import { REPO_ROOT } from '../env/paths.ts';
import { RedisNotInstalledError } from '../env/redis-process.ts';
import { RunAbortedError, RunSetupError } from '../scenario/run.ts';
import { durationFlag, envOf, EXIT_USAGE, parseCommandFlags, serverEnvFlag, UsageError, type Subcommand } from '../subcommand.ts';
import { CaptureReadError } from './read.ts';
import { readFaultTimeline, replay, ReplayError, saveReplayScenario } from './replay.ts';

const USAGE = [
  'Usage: imstorm replay <capture-dir | report-dir> [options]',
  '',
  'A capture directory (nodes run with CAPTURE_DIR): rebuilds the recorded users, devices,',
  'groups and dms, and drives each device\'s reconnects, drops, sends (same cmids; socket and',
  'HTTP), acks, read marks, history requests and presence subscriptions, and the groups\'',
  'joins and leaves, at their recorded times, with the faults the capture implies (a Redis',
  'link down, a node restart or kill) and any in --faults; every checker judges it, and',
  'replay.md in the report sets the original beside the replay. A report directory',
  '(reports/<run>) is replayed from its capture/ when it has one, else re-run from its',
  'stored scenario, seed and fault timeline.',
  '',
  'Options:',
  '  --speed X           replay X times as fast (default 1; 0.1..10)',
  '  --from T / --to T   only this part of the capture: seconds from its first hello, or 500ms / 12s / 2m',
  '  --users a,b         only these users\' devices (their conversations keep every member)',
  '  --faults FILE       a JSON array of scenario fault steps, timed from the replay\'s start',
  '  --no-implied-faults leave out the faults the capture implies',
  `  --env ENV           ${ENV_CHOICES.join('|')} (default auto)`,
  '  --nodes N           server nodes (default: as many as the capture had)',
  '  --server-env K=V    more environment for the replay\'s nodes (repeatable), e.g. TEST_BUGS=skip_gap_fill',
  '  --seed N            seed of the replay\'s random choices (default: the report\'s, else 1)',
  '  --out DIR           reports root (default reports/)',
  '  --save-as FILE      also write the replay as a scenario file (scenarios/incidents/<name>.ts),',
  '                      which `imstorm run ./FILE` runs; its name is the file\'s; the recorded',
  '                      steps go beside it as data (<name>.plan.json), which the file loads',
  '  -h, --help          show this help',
  '',
  'Exit 0 when every guarantee held in the replay, 1 when one failed, 2 for usage errors.',
].join('\n');

const flags = z.object({
  speed: z.coerce.number({ message: '--speed must be a number' }).min(0.1, '--speed must be 0.1..10').max(10, '--speed must be 0.1..10').default(1),
  from: durationFlag('--from', '500ms / 12s / 2m').optional(),
  to: durationFlag('--to', '500ms / 12s / 2m').optional(),
  users: z.string().regex(/^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/, '--users takes user ids separated by commas, e.g. u1,u2').transform((s) => s.split(',')).optional(),
  faults: z.string().optional(),
  'no-implied-faults': z.boolean().optional(),
  env: z.enum(ENV_CHOICES as [EnvChoice, ...EnvChoice[]], { message: `--env must be one of ${ENV_CHOICES.join(', ')}` }).default('auto'),
  nodes: z.coerce.number({ message: '--nodes must be a whole number' }).int().min(1).max(64, '--nodes must be 1..64').optional(),
  'server-env': serverEnvFlag('TEST_BUGS=skip_gap_fill'),
  seed: z.coerce.number({ message: '--seed must be a whole number' }).int().min(0).max(2 ** 32 - 1).optional(),
  out: z.string().optional(),
  'save-as': z.string().regex(/(^|\/)[a-z0-9-]+\.ts$/, '--save-as takes a .ts file whose name is lowercase letters, digits and -, e.g. scenarios/incidents/bus-drop-loss.ts').optional(),
});

export const replayCommand: Subcommand = {
  name: 'replay',
  summary: 'Replay a capture (CAPTURE_DIR) or a report against this build, judged and set beside the original',
  usage: USAGE,
  async run(args, io) {
    const parsed = parseCommandFlags(
      args,
      {
        speed: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, users: { type: 'string' }, faults: { type: 'string' },
        'no-implied-faults': { type: 'boolean' }, env: { type: 'string' }, nodes: { type: 'string' }, 'server-env': { type: 'string', multiple: true },
        seed: { type: 'string' }, out: { type: 'string' }, 'save-as': { type: 'string' },
      },
      flags,
      true,
    );
    if (parsed === 'help') {
      io.out(USAGE);
      return 0;
    }
    const { flags: o, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`name one capture or report directory${positionals.length ? `, got ${positionals.join(' ')}` : ''}`);
    const source = path.resolve(positionals[0]!);
    try {
      const extraFaults = o.faults ? readFaultTimeline(o.faults) : [];
      const serverEnv = envOf(o['server-env']);
      const name = o['save-as'] ? path.basename(o['save-as'], '.ts') : undefined;
      io.out(`imstorm replay ${positionals[0]}${o.speed !== 1 ? ` at ×${o.speed}` : ''}`);
      const r = await replay(
        source,
        { speed: o.speed, fromMs: o.from, toMs: o.to, users: o.users, extraFaults, impliedFaults: !o['no-implied-faults'], serverEnv, name },
        { env: o.env, nodes: o.nodes, seed: o.seed, outRoot: o.out ? path.resolve(o.out) : path.join(REPO_ROOT, 'reports'), log: (l) => io.out(l) },
      );
      for (const n of r.faultNotes) io.out(`implied fault: ${n}`);
      for (const n of r.notes) io.out(`not replayed: ${n}`);
      const v = r.result.report.verdict;
      io.out('');
      io.out(`${r.scenario.name}: ${v.pass ? 'PASS' : 'FAIL'} — guarantees ${v.guarantees.total - v.guarantees.failed}/${v.guarantees.total}`);
      for (const c of r.result.report.checks) io.out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.guarantee.padEnd(9)} ${c.summary}`);
      for (const line of v.failures) io.out(`  → ${line}`);
      io.out('');
      for (const line of r.table) io.out(line);
      if (r.divergences) {
        io.out('');
        io.out(`divergences from the capture: ${r.divergences.total}${r.divergences.total > r.divergences.list.length ? ` (first ${r.divergences.list.length})` : ''}`);
        for (const d of r.divergences.list) io.out(`  - ${d.what}`);
      }
      if (o['save-as']) {
        const saved = saveReplayScenario(o['save-as'], r.scenario, positionals[0]!);
        const rel = (f: string) => path.relative(process.cwd(), f);
        io.out(`saved as ${rel(saved.scenarioFile)} (its recorded plan: ${rel(saved.planFile)}): npx imstorm run ./${rel(saved.scenarioFile)}`);
      }
      io.out(`report: ${path.relative(process.cwd(), r.result.dir) || r.result.dir}/report.html (also ${r.divergences ? 'replay.md, replay.json, capture/' : 'replay.md'})`);
      return v.pass ? 0 : 1;
    } catch (err) {
      if (err instanceof ReplayError || err instanceof CaptureReadError || err instanceof RunSetupError || err instanceof EnvUnavailableError || err instanceof RedisNotInstalledError) {
        io.err(`imstorm replay: ${err.message}`);
        return EXIT_USAGE;
      }
      if (err instanceof RunAbortedError) {
        io.out(`replay: ERROR — ${err.message}`);
        return EXIT_USAGE;
      }
      if (err instanceof Error && /^(no recorded device|the capture in|--from)/.test(err.message)) {
        io.err(`imstorm replay: ${err.message}`);
        return EXIT_USAGE;
      }
      throw err;
    }
  },
};
