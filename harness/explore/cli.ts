// `imstorm explore`: flags, progress, and what is printed and written at the end.
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { duration, whole } from '../util/cli-flags.ts';
import { EnvUnavailableError } from '../env/environment.ts';
import { RedisNotInstalledError } from '../env/redis-process.ts';
import { GUARANTEES, type Guarantee } from '../model/guarantees.ts';
import { REPO_ROOT } from '../env/paths.ts';
import { EXIT_USAGE, envOf, parseCommandFlags, serverEnvFlag, UsageError, type CliIo, type Subcommand } from '../subcommand.ts';
import { MODEL_USAGE, runModelExplore } from '../protocol-model/cli.ts';
import { explore, type ExploreResult } from './explore.ts';
import { foundName, runnablePath, writeScenarioFile } from './scenario-file.ts';
import { describeCase, devicesOf, FAULT_KINDS, toScenario, type FaultKind } from './space.ts';
import { renderTimeline } from './timeline.ts';

/** What a run is judged on by default: every guarantee of a run without leak samples, bar presence and unseen (timing-bound: opt in). */
export const DEFAULT_GUARANTEES: readonly Guarantee[] = ['lost', 'unexpected', 'duplicate', 'order', 'inflight', 'nodes'];
/** Guarantees a short explored run can judge (leaks, reclaim, answers and residue need phases it does not have). */
const EXPLORABLE: readonly Guarantee[] = ['lost', 'unexpected', 'unseen', 'duplicate', 'order', 'presence', 'inflight', 'nodes'];

const list = <T extends string>(flag: string, allowed: readonly T[]) =>
  z.string().transform((v, ctx) => {
    const items = v.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !allowed.includes(x as T));
    if (bad.length || !items.length) {
      ctx.addIssue({ code: 'custom', message: `${flag}: ${bad.length ? `unknown ${bad.join(', ')}` : 'empty'}; give a comma-separated list of ${allowed.join(', ')}` });
      return z.NEVER;
    }
    return items as T[];
  });

const exploreFlags = z
  .object({
    budget: duration('--budget').prefault('10m'),
    'shrink-budget': duration('--shrink-budget').prefault('10m'),
    runs: whole('--runs', 1, 1_000_000).optional(),
    seed: whole('--seed', 0, 2 ** 31 - 1).optional(),
    path: z.string().regex(/^\d+(:\d+)*$/, '--path is fast-check\'s replay path: numbers joined by colons, e.g. 3:0:2 (printed by an earlier exploration)').optional(),
    guarantees: list('--guarantees', EXPLORABLE).optional(),
    faults: list('--faults', FAULT_KINDS).optional(),
    repeat: whole('--repeat', 1, 20).prefault('3'),
    'min-fails': whole('--min-fails', 1, 20).optional(),
    confirm: whole('--confirm', 0, 100).prefault('10'),
    'min-reproduce': whole('--min-reproduce', 0, 100).optional(),
    env: z.enum(['auto', 'local', 'containers'], { message: '--env must be one of local, containers, auto (explore hurts Redis: not external)' }).default('auto'),
    out: z.string().regex(/\.ts$/, '--out must name a .ts file, e.g. scenarios/found/my-bug.ts').optional(),
    'server-env': serverEnvFlag('TEST_BUGS=skip_dedupe'),
  })
  .refine((f) => f.path === undefined || f.seed !== undefined, { message: '--path needs the --seed it was printed with' })
  .refine((f) => f['min-fails'] === undefined || f['min-fails'] <= f.repeat, { message: '--min-fails must not exceed --repeat (a candidate runs at most --repeat times)' })
  .refine((f) => f['min-reproduce'] === undefined || f['min-reproduce'] <= f.confirm, { message: '--min-reproduce must not exceed --confirm (it counts failing runs out of --confirm re-runs)' });

const USAGE = [
  'Usage: imstorm explore [--budget 10m] [--runs N] [--seed S] [--path P] [--guarantees lost,order,...]',
  '                       [--repeat K] [--min-fails M] [--confirm N] [--env local|containers] [--out scenarios/found/<name>.ts]',
  '',
  'Property-based chaos: fast-check draws small scenarios (1-3 nodes, 2-50 devices, dm and group',
  'traffic with bursts, churn and resends, cmid styles, acks ahead, presence subscriptions,',
  'membership changes) with a fault schedule (toxics both ways on client and Redis links, link',
  'cuts, node kill/pause/restart, Redis kill/stop/pause/restart, bus drops), runs each for a few',
  'seconds on ONE shared environment, and checks the guarantees after every run. On a violation',
  'it shrinks the case (fewer faults, devices, conversations, shorter windows), prints it as a',
  'timeline, and writes a scenario file that `imstorm run` replays. Exit 0 when nothing was',
  'found, 1 with a counterexample, 2 for usage or environment errors.',
  '',
  'Options:',
  '  --budget T         time to search, e.g. 90s, 10m (default 10m)',
  '  --shrink-budget T  time to shrink a violation (default 10m)',
  '  --runs N           search at most N cases',
  '  --seed S           fast-check seed (default random, printed)',
  '  --path P           replay: start from the case at this fast-check path (needs --seed),',
  '                     shrink it further and write it out',
  `  --guarantees LIST  what counts as a violation (default ${DEFAULT_GUARANTEES.join(',')};`,
  `                     also: ${EXPLORABLE.filter((g) => !DEFAULT_GUARANTEES.includes(g)).join(', ')})`,
  `  --faults LIST      fault kinds to draw from (default all: ${FAULT_KINDS.join(',')})`,
  '  --repeat K         runs of each shrink candidate (default 3)',
  '  --min-fails M      a candidate counts as failing when M of its K runs fail (default 2, or K',
  '                     when K < 2); 1 ("any") lets a timing-bound bug shrink to a case that rarely fails',
  '  --confirm N        re-runs of the final counterexample, to say how often it reproduces (default 10)',
  '  --min-reproduce M  the kept case must fail in M of the --confirm runs (default 80 % of them: 8 of 10;',
  '                     0: no bar). A find below it is passed over (the search goes on, keeping the',
  '                     best), and a shrunk case below it gives way to the next larger one on the',
  '                     shrink chain that meets it',
  '  --env ENV          local, containers or auto (default auto)',
  '  --out FILE         the counterexample scenario (default scenarios/found/found-<guarantee>-<time>.ts)',
  '  --server-env K=V   more server environment, repeatable (e.g. TEST_BUGS=skip_dedupe for a',
  '                     deliberately broken server: server/testing/faulty-stores.ts)',
  '  -h, --help         show this help',
  '',
  'imstorm explore --model runs the model-based protocol test instead (imstorm explore --model --help).',
].join('\n');

const str = { type: 'string' } as const;
const OPTIONS = { budget: str, 'shrink-budget': str, runs: str, seed: str, path: str, guarantees: str, faults: str, repeat: str, 'min-fails': str, confirm: str, 'min-reproduce': str, env: str, out: str, 'server-env': { type: 'string', multiple: true } } as const;

export const exploreCommand: Subcommand = {
  name: 'explore',
  summary: 'Property-based chaos: search workloads and fault schedules, shrink a violation, save it as a scenario',
  usage: USAGE,
  async run(args, io) {
    if (args.includes('--model')) {
      try {
        return await runModelExplore(args.filter((a) => a !== '--model'), io);
      } catch (err) {
        // its own usage, not the scenario explorer's
        if (!(err instanceof UsageError)) throw err;
        io.err(`imstorm explore --model: ${err.message}\n\n${MODEL_USAGE}`);
        return EXIT_USAGE;
      }
    }
    const parsed = parseCommandFlags(args, OPTIONS, exploreFlags);
    if (parsed === 'help') {
      io.out(USAGE);
      return 0;
    }
    const f = parsed.flags;
    const serverEnv = envOf(f['server-env']);
    const guarantees = f.guarantees ?? DEFAULT_GUARANTEES;
    const seed = f.seed ?? randomInt(0, 2 ** 31 - 1);
    const command = `imstorm explore --seed ${seed}${f.path ? ` --path ${f.path}` : ''} ${args.filter((a, i) => a !== '--seed' && args[i - 1] !== '--seed' && a !== '--path' && args[i - 1] !== '--path').join(' ')}`.trim();
    io.out(`${command}  (repeat this exploration with the same --seed)`);
    const started = Date.now();
    let result: ExploreResult;
    try {
      result = await explore({
        env: f.env,
        serverEnv,
        guarantees,
        budgetMs: f.budget,
        shrinkBudgetMs: f['shrink-budget'],
        seed,
        repeat: f.repeat,
        minFails: f['min-fails'] ?? Math.min(2, f.repeat),
        confirm: f.confirm,
        minReproduce: f['min-reproduce'] ?? Math.ceil(0.8 * f.confirm),
        ...(f.runs !== undefined ? { runs: f.runs } : {}),
        ...(f.path !== undefined ? { path: f.path } : {}),
        ...(f.faults ? { space: { faultKinds: f.faults as FaultKind[] } } : {}),
        log: (l) => io.out(`[explore ${clock(Date.now() - started)}] ${l}`),
      });
    } catch (err) {
      if (err instanceof EnvUnavailableError || err instanceof RedisNotInstalledError) {
        io.err(`imstorm explore: ${err.message}`);
        return EXIT_USAGE;
      }
      throw err;
    }
    io.out('');
    io.out(`${result.searchRuns} case(s) searched in ${(result.searchMs / 1000).toFixed(0)} s (${result.runsPerMinute.toFixed(1)} runs/min); ${result.runs} run(s) in all, ${result.violations} failing, ${result.errors} without a verdict (harness errors)`);
    if (result.notReproduced) {
      io.out(`a run failed, but the case did not fail again in ${f.repeat} re-run(s): ${describeCase(result.notReproduced)}`);
      io.out(`replay it: imstorm explore --seed ${result.seed} --path <the path printed above>`);
    }
    const found = result.found;
    if (!found) {
      io.out(result.notReproduced ? 'no counterexample kept.' : `no violation of ${guarantees.join(', ')} found.`);
      return 0;
    }
    const failure = found.failure;
    const guarantee = failure.failed[0]!;
    const name = f.out ? path.basename(f.out, '.ts').toLowerCase().replace(/[^a-z0-9-]/g, '-') : foundName(guarantee);
    const file = f.out ?? path.join(path.relative(process.cwd(), REPO_ROOT) || '.', 'scenarios', 'found', `${name}.ts`);
    const scenario = toScenario(found.shrunk, { name, serverEnv, presence: guarantees.includes('presence'), description: describeCase(found.shrunk), proves: [`regression: ${guarantee} held for this case once (found by imstorm explore, seed ${found.seed}, path ${found.path})`] });
    io.out('');
    io.out(`COUNTEREXAMPLE (${failure.failed.join(', ')}):`);
    io.out(`  found after ${(found.foundAfterMs / 1000).toFixed(1)} s; shrunk in ${(found.shrinkMs / 1000).toFixed(1)} s (${found.shrinkCandidates} candidates, ${found.shrinkSteps} steps down${found.shrinkInterrupted ? ', stopped by --shrink-budget' : ''})`);
    io.out(`  before: ${devicesOf(found.original)} devices, ${found.original.faults.length} fault(s) — ${describeCase(found.original)}`);
    io.out(`  after:  ${devicesOf(found.shrunk)} devices, ${found.shrunk.faults.length} fault(s) — ${describeCase(found.shrunk)}`);
    io.out(`  reproduces in ${found.reproduced.fails} of ${found.reproduced.runs} re-runs${found.reproduced.errors ? ` (${found.reproduced.errors} more without a verdict)` : ''}${found.walkedBack ? ` (walked back ${found.walkedBack} shrink step(s): the smaller cases failed less often)` : ''}${found.meetsBar ? '' : ' — BELOW --min-reproduce: no case on the shrink chain met it'}`);
    if (found.weakFinds.length) io.out(`  passed over while searching: ${found.weakFinds.length} find(s) below --min-reproduce (${found.weakFinds.map((w) => `${w.fails} of ${w.runs}`).join(', ')})`);
    io.out('');
    for (const l of renderTimeline({ facts: failure.facts, faults: failure.report.faults, planned: failure.scenario.faults, checks: failure.report.checks, guarantees })) io.out(l);
    const written = writeScenarioFile(file, {
      scenario,
      violated: failure.report.checks.filter((c) => !c.ok).flatMap((c) => c.violations.slice(0, 2).map((v) => `${c.guarantee}: ${v.message}`)),
      seed: found.seed,
      path: found.path,
      reproduced: found.reproduced,
      command,
    });
    io.out('');
    io.out(`scenario: ${path.relative(process.cwd(), written)} — replay: npx imstorm run ${runnablePath(written)}`);
    // --faults draws from another arbitrary: the same seed and path name another case without it
    io.out(`fast-check replay: imstorm explore --seed ${found.seed} --path ${found.path}${f['server-env'].map((kv) => ` --server-env ${kv}`).join('')}${f.guarantees ? ` --guarantees ${guarantees.join(',')}` : ''}${f.faults ? ` --faults ${f.faults.join(',')}` : ''}`);
    return 1;
  },
};

const clock = (ms: number): string => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
