// `imstorm run`, `imstorm list` and `imstorm server`.
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { scenarios, suites } from '../../scenarios/index.ts';
import { ENV_CHOICES, EnvUnavailableError, containersAvailability, type EnvChoice } from '../env/index.ts';
import { ensureSystemPackages, missingPackages } from '../util/system-deps.ts';
import { RedisNotInstalledError } from '../env/redis-process.ts';
import { REPO_ROOT } from '../env/paths.ts';
import { durationFlag, EXIT_USAGE, parseFlags, UsageError, type CliIo, type Subcommand } from '../subcommand.ts';
import { RunAbortedError, RunSetupError, runScenario, type LiveProgress } from './run.ts';
import type { Scenario } from './define.ts';
import { loadScenarioFile, looksLikeScenarioFile, ScenarioFileError } from './load-file.ts';
import { RemoteAgents } from '../fleet/orchestrator.ts';
import { ControlError } from '../fleet/control-server.ts';
import { LiveMetricsError, LiveMetricsServer, liveMetricsOptions, type LiveMetricsOptions } from '../live/metrics-server.ts';
import { parseTargetFlags, TargetFlagError, type TargetSpec } from '../env/target.ts';

const runFlags = z.object({
  env: z.enum(ENV_CHOICES as [EnvChoice, ...EnvChoice[]], { message: `--env (or IMSTORM_ENV) must be one of ${ENV_CHOICES.join(', ')}` }),
  nodes: z.coerce.number({ message: '--nodes must be a whole number' }).int().min(1).max(64, '--nodes must be 1..64').optional(),
  clients: z.coerce.number({ message: '--clients must be a whole number' }).int().min(2, '--clients must be at least 2').max(1_000_000).optional(),
  duration: durationFlag('--duration').optional(),
  seed: z.coerce.number({ message: '--seed must be a whole number' }).int().min(0).max(2 ** 32 - 1).optional(),
  out: z.string().optional(),
  processes: z.coerce.number().int().min(1).max(64, '--processes must be 1..64').optional(),
  'source-addresses': z.coerce.number().int().min(1).max(1000, '--source-addresses must be 1..1000').optional(),
  'metrics-port': z.string().optional(),
  'metrics-host': z.string().optional(),
  agents: z.coerce.number({ message: '--agents must be a whole number' }).int().min(1).max(1000, '--agents must be 1..1000').optional(),
  'control-listen': z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, '--control-listen takes HOST:PORT (e.g. 0.0.0.0:7400, or 127.0.0.1:0 for a free port)')
    .transform((v) => ({ host: v.slice(0, v.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: Number(v.slice(v.lastIndexOf(':') + 1)) }))
    .refine((v) => v.port <= 65535, '--control-listen: the port must be 0..65535')
    .optional(),
  'control-token': z.string().min(16, '--control-token must have at least 16 bytes (e.g. `openssl rand -hex 16`)').optional(),
  'agents-wait': z.coerce.number({ message: '--agents-wait must be a number of seconds' }).min(1).max(3600, '--agents-wait must be 1..3600 seconds').default(120),
}).superRefine((f, ctx) => {
  if ((f.agents === undefined) !== (f['control-listen'] === undefined)) ctx.addIssue({ code: 'custom', path: ['agents'], message: '--agents N and --control-listen HOST:PORT go together: the run listens there for N `imstorm agent --control …`' });
  if (f.agents !== undefined && f.processes !== undefined) ctx.addIssue({ code: 'custom', path: ['processes'], message: '--processes starts local fleet processes; with --agents the fleet runs on the agents: give one or the other' });
});

const RUN_USAGE = [
  'Usage: imstorm run <scenario|suite|./file.ts> [options]',
  '',
  'Brings up Redis, fault proxies and server nodes, drives a client fleet, injects the',
  "scenario's faults, checks the delivery guarantees and writes a report under reports/.",
  'Exit 0 when every threshold and guarantee holds, 1 when one fails, 2 for usage or',
  'environment errors and for a fault step that fails (e.g. a proxy API error).',
  '',
  'Options:',
  `  --env ENV          ${ENV_CHOICES.join('|')} (default IMSTORM_ENV, else auto: containers when a Docker engine answers, else local)`,
  '  --nodes N          server nodes (default: the scenario\'s)',
  '  --clients N        simulated devices (default: the scenario\'s users × devices per user)',
  '  --duration T       load phase length: seconds, or 500ms / 30s / 2m (default: the scenario\'s)',
  '  --seed N           repeat a run: every random choice derives from it (default: the',
  '                     scenario\'s own seed if it has one, else random; printed)',
  '  --out DIR          reports root (default reports/)',
  '  --processes N      fleet processes (default: one per 18,000 devices)',
  '  --source-addresses N  spread connections over 127.0.0.2 … (N addresses; past ~28k per node)',
  '  --metrics-port N   serve live Prometheus metrics at http://127.0.0.1:N/metrics until the',
  '                     report is written (0: a free port, printed; also IMSTORM_METRICS_PORT)',
  '  --metrics-host H   address for --metrics-port (default 127.0.0.1)',
  '  --agents N         run the fleet on N agents (imstorm agent, on this or other machines)',
  '                     instead of local processes; devices are spread over them by capacity',
  '  --control-listen HOST:PORT  where the agents connect (ws://HOST:PORT/control; with --agents)',
  '  --control-token T  their token (default IMSTORM_CONTROL_TOKEN, else a random one, printed)',
  '  --agents-wait S    seconds to wait for the N agents (default 120)',
  '',
  'Against servers the harness did not start (no Redis, no nodes started here):',
  '  --target URLS      their WebSocket URLs, comma-separated (ws://10.0.0.5:8080/ws,…); node-1, …',
  '                     in this order; not with --env or --nodes',
  '  --http URLS        their HTTP base URLs, one per target in the same order (default: each ws URL',
  '                     with http(s) for ws(s) and without its final /ws)',
  '  --jwt-secret S     the deployment\'s JWT_SECRET, to mint tokens here (default JWT_SECRET; the',
  '                     variable is better: a command line is visible to every user of the machine)',
  '  --token-cmd CMD    instead: a command (run with /bin/sh -c, once per user and device, with',
  '                     IMSTORM_USER and IMSTORM_DEVICE set) that prints that device\'s JWT',
  '  --token-cmd-timeout S  deadline of one --token-cmd call (default 10)',
  '  --toxiproxy-url U  a Toxiproxy API whose proxies can reach the targets: client-link faults',
  '                     go through proxies made there (without it, no link faults)',
  '  --metrics-token T  Bearer token for the targets\' /metrics (default IMSTORM_METRICS_TOKEN)',
  '  --skip-unsupported-faults  run a scenario whose fault steps the targets cannot take',
  '                     (process kills, Redis faults, links without a proxy) without them,',
  '                     each listed as not checked; without this flag such a scenario is refused',
  '  -h, --help         show this help',
  '',
  "Run 'imstorm list' for scenarios and suites. A path (with a / or ending in .ts or .js)",
  "runs that file's default export: export default defineScenario({ … }), with",
  "import { defineScenario } from 'imstorm'.",
].join('\n');

function parseRun(args: readonly string[]): { target: string; flags: z.output<typeof runFlags>; metrics: LiveMetricsOptions | null; servers: TargetSpec | undefined } | 'help' {
  const { values, positionals } = parseFlags(
    args,
    {
      // as for `imstorm env up`: IMSTORM_ENV is the default, so a CI job sets the provider once
      env: { type: 'string', default: process.env.IMSTORM_ENV ?? 'auto' },
      nodes: { type: 'string' },
      clients: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      processes: { type: 'string' },
      'source-addresses': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      agents: { type: 'string' },
      'control-listen': { type: 'string' },
      'control-token': { type: 'string' },
      'agents-wait': { type: 'string' },
      target: { type: 'string' },
      http: { type: 'string' },
      'jwt-secret': { type: 'string' },
      'token-cmd': { type: 'string' },
      'token-cmd-timeout': { type: 'string' },
      'toxiproxy-url': { type: 'string' },
      'metrics-token': { type: 'string' },
      'skip-unsupported-faults': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) return 'help';
  // the flags' own problems first, then the target
  const r = runFlags.safeParse(values);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join('; '));
  const flags = r.data;
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one scenario or suite, got ${positionals.join(' ')}` : 'name a scenario or suite (imstorm list shows them)');
  const servers = parseServers(values, args);
  if (servers && flags['source-addresses'] !== undefined && servers.nodes.some((n) => !isLoopback(new URL(n.wsUrl).hostname))) throw new UsageError('--source-addresses spreads connections over 127.0.0.2, …, which reach only servers on this machine: drop it for a --target elsewhere');
  let metrics: LiveMetricsOptions | null;
  try {
    metrics = liveMetricsOptions({ port: flags['metrics-port'], host: flags['metrics-host'] });
  } catch (err) {
    if (err instanceof LiveMetricsError) throw new UsageError(err.message);
    throw err;
  }
  return { target: positionals[0]!, flags, metrics, servers };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';

/** --target and its companions (harness/env/target.ts checks them); undefined without --target. */
function parseServers(values: Record<string, unknown>, args: readonly string[]): TargetSpec | undefined {
  const str = (k: string) => values[k] as string | undefined;
  // --env has a default (IMSTORM_ENV): only an explicit one conflicts
  const given = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  try {
    if (str('target') === undefined) {
      const stray = ['http', 'token-cmd', 'token-cmd-timeout', 'toxiproxy-url', 'metrics-token', 'jwt-secret'].filter((k) => values[k] !== undefined).concat(values['skip-unsupported-faults'] ? ['skip-unsupported-faults'] : []);
      if (stray.length) throw new TargetFlagError(`${stray.map((k) => `--${k}`).join(', ')} only appl${stray.length > 1 ? 'y' : 'ies'} with --target ws://HOST:PORT/ws,… (servers the harness did not start): add --target, or drop ${stray.length > 1 ? 'them' : 'it'}`);
      return undefined;
    }
    return parseTargetFlags({
      target: str('target'),
      http: str('http'),
      jwtSecret: str('jwt-secret'),
      tokenCmd: str('token-cmd'),
      tokenCmdTimeout: str('token-cmd-timeout'),
      toxiproxyUrl: str('toxiproxy-url'),
      metricsToken: str('metrics-token') ?? process.env.IMSTORM_METRICS_TOKEN,
      skipUnsupportedFaults: values['skip-unsupported-faults'] === true,
      envJwtSecret: process.env.JWT_SECRET,
      conflicting: ['--env', '--nodes'].filter(given),
    });
  } catch (err) {
    if (err instanceof TargetFlagError) throw new UsageError(err.message);
    throw err;
  }
}

/** "a, b ×16, c": repeats counted, in first-seen order (16 fuzz sessions are one entry). */
function countedList(items: readonly string[]): string {
  const n = new Map<string, number>();
  for (const x of items) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].map(([x, k]) => (k > 1 ? `${x} ×${k}` : x)).join(', ');
}

/** A live line on a terminal (redrawn), a plain line every 5 s elsewhere (CI logs). */
function progressPrinter(io: CliIo): { onProgress: (p: LiveProgress) => void; done: () => void } {
  const tty = process.stdout.isTTY === true;
  let last: { at: number; sent: number; delivered: number } | null = null;
  let lastPlain = 0;
  return {
    onProgress(p) {
      const f = p.fleet;
      if (!f) return;
      const sent = f.counts.sent ?? 0;
      const delivered = f.counts.delivered ?? 0;
      const dt = last ? (f.at - last.at) / 1000 : 0;
      // a storm's new fleet counts from 0 again: no negative rates across the change
      const rate = (now: number, before: number | undefined) => (last && dt > 0 && now >= (before ?? 0) ? Math.round((now - (before ?? 0)) / dt) : 0);
      const line = `[${p.phase} ${Math.round(p.phaseElapsedMs / 1000)}s]${p.elapsedMs ? ` load ${Math.round(p.elapsedMs / 1000)}s` : ''}  conns ${f.open}  sent/s ${rate(sent, last?.sent)}  delivered/s ${rate(delivered, last?.delivered)}  p99 send→sent ${f.sentP99 === null ? '–' : `${Math.round(f.sentP99)}ms`}  errors ${f.counts.errors ?? 0}  faults ${p.activeFaults.length ? countedList(p.activeFaults) : 'none'}`;
      last = { at: f.at, sent, delivered };
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else if (f.at - lastPlain >= 5000) {
        lastPlain = f.at;
        io.out(line);
      }
    },
    done() {
      if (tty) process.stdout.write('\r\x1b[2K');
    },
  };
}

export const runCommand: Subcommand = {
  name: 'run',
  summary: 'Run a scenario or suite against a fresh environment and write a report',
  usage: RUN_USAGE,
  async run(args, io) {
    // bad flags: a UsageError, printed with RUN_USAGE by runSubcommand (exit 2)
    const parsed = parseRun(args);
    if (parsed === 'help') {
      io.out(RUN_USAGE);
      return 0;
    }
    const { target, flags, servers } = parsed;
    let list: Scenario[];
    if (!suites.has(target) && !scenarios.has(target) && looksLikeScenarioFile(target)) {
      try {
        list = [await loadScenarioFile(target)];
      } catch (err) {
        if (!(err instanceof ScenarioFileError)) throw err;
        io.err(`imstorm run: ${err.message}`);
        return EXIT_USAGE;
      }
    } else {
      const names = suites.get(target)?.scenarios ?? (scenarios.has(target) ? [target] : null);
      if (!names) {
        io.err(`imstorm run: no scenario or suite named "${target}", and no file path (a path has a / or ends in .ts or .js); known: ${[...scenarios.keys(), ...suites.keys()].join(', ')}`);
        return EXIT_USAGE;
      }
      list = names.map((n) => scenarios.get(n)!);
    }
    // Nothing done by hand: without Docker, the local environment needs redis-server; install
    // it from Debian's packages when we can, else the environment error says what to install.
    // (a --target run starts no Redis)
    if (!servers && (flags.env === 'local' || (flags.env === 'auto' && missingPackages(['redis']).length && !(await containersAvailability()).ok))) ensureSystemPackages(['redis'], io.err);
    // a scenario file may carry its own seed (a counterexample saved by imstorm explore)
    const seed = flags.seed ?? (list.length === 1 ? list[0]!.seed : undefined) ?? randomInt(0, 2 ** 31);
    io.out(`imstorm run ${target} --seed ${seed}  (repeat this run with the same --seed)`);
    let live: LiveMetricsServer | undefined;
    if (parsed.metrics) {
      try {
        live = await LiveMetricsServer.start(parsed.metrics);
      } catch (err) {
        if (!(err instanceof LiveMetricsError)) throw err;
        io.err(`imstorm run: ${err.message}`);
        return EXIT_USAGE;
      }
      io.out(`live metrics: ${live.url} (Prometheus text; served until the ${list.length > 1 ? 'last ' : ''}report is written; dashboard: docker/grafana/imstorm-dashboard.json)`);
    }
    let agents: RemoteAgents | undefined;
    if (flags.agents !== undefined && flags['control-listen']) {
      const token = flags['control-token'] ?? process.env.IMSTORM_CONTROL_TOKEN ?? randomBytes(16).toString('hex');
      try {
        agents = await RemoteAgents.listen({ ...flags['control-listen'], token, agents: flags.agents, waitMs: flags['agents-wait'] * 1000, log: io.out });
      } catch (err) {
        await live?.close();
        if (!(err instanceof ControlError)) throw err;
        io.err(`imstorm run: ${err.message}`);
        return EXIT_USAGE;
      }
      io.out(`control endpoint: ${agents.url}; start ${flags.agents} agent(s): IMSTORM_CONTROL_TOKEN=${flags['control-token'] || process.env.IMSTORM_CONTROL_TOKEN ? '<the token>' : token} imstorm agent --control ws://<this host>:${new URL(agents.url).port}/control`);
    }
    try {
      return await runList(list, flags, seed, io, live, agents, servers);
    } finally {
      await agents?.close();
      await live?.close();
    }
  },
};

export interface FailedScenario {
  name: string;
  seed: number;
  /** where its summary.md is */
  summary: string;
  /** the verdict's failure lines */
  failures: string[];
}

/**
 * A suite's verdict: one line, then each failed scenario's failures again with the command
 * that repeats it. Repeated because a suite's blocks run to hundreds of lines and a CI log is
 * often read from its tail alone (a CI run of 5efbcfd kept "FAIL: redis-outage" and nothing
 * of why).
 */
export function suiteVerdictLines(total: number, failed: FailedScenario[], aborted: string[], wallMs: number): string[] {
  const passed = total - failed.length - aborted.length;
  const what = [failed.length ? `FAIL: ${failed.map((f) => f.name).join(', ')}` : '', aborted.length ? `ERROR: ${aborted.join(', ')}` : ''].filter(Boolean).join('; ');
  const lines = [`suite: ${passed} of ${total} scenarios PASS${what ? ` (${what})` : ''} in ${formatWall(wallMs)}`];
  for (const f of failed) {
    lines.push(`  ${f.name}: repeat with \`imstorm run ${f.name} --seed ${f.seed}\`; ${f.summary}`);
    for (const line of f.failures) lines.push(`    → ${line}`);
  }
  return lines;
}

/** Each scenario in turn; the exit code. */
async function runList(list: Scenario[], flags: z.output<typeof runFlags>, seed: number, io: CliIo, live: LiveMetricsServer | undefined, agents: RemoteAgents | undefined, servers: TargetSpec | undefined): Promise<number> {
  {
    const failed: FailedScenario[] = [];
    const aborted: string[] = [];
    const suiteStart = Date.now();
    for (const s of list) {
      const name = s.name;
      const printer = progressPrinter(io);
      try {
        const r = await runScenario(s, {
          env: flags.env,
          seed,
          outRoot: flags.out ? path.resolve(flags.out) : path.join(REPO_ROOT, 'reports'),
          users: flags.clients === undefined ? undefined : Math.max(2, Math.ceil(flags.clients / s.workload.devicesPerUser)),
          nodes: flags.nodes,
          durationMs: flags.duration,
          processes: flags.processes,
          agents,
          sourceAddresses: flags['source-addresses'],
          ...(servers ? { target: servers } : {}),
          log: (l) => {
            printer.done();
            io.out(l);
          },
          onProgress: printer.onProgress,
          live,
        });
        printer.done();
        const v = r.report.verdict;
        io.out('');
        io.out(`${name}: ${v.pass ? 'PASS' : 'FAIL'} — thresholds ${v.thresholds.total - v.thresholds.failed}/${v.thresholds.total}, guarantees ${v.guarantees.total - v.guarantees.failed}/${v.guarantees.total}`);
        for (const c of r.report.checks) io.out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.guarantee.padEnd(9)} ${c.summary}`);
        for (const t of r.report.thresholds) io.out(`  ${t.pass ? 'ok  ' : 'FAIL'} ${t.name} (observed ${t.observed ?? 'nothing'})`);
        for (const line of v.failures) io.out(`  → ${line}`);
        if (r.report.notChecked?.length) {
          io.out(`  not checked in this run (${r.report.notChecked.length}):`);
          for (const line of r.report.notChecked) io.out(`    - ${line}`);
        }
        io.out(`report: ${path.relative(process.cwd(), r.dir) || r.dir}/report.html (also report.json, summary.md, junit.xml)`);
        if (!v.pass) {
          failed.push({ name, seed, summary: `${path.relative(process.cwd(), r.dir) || r.dir}/summary.md`, failures: v.failures });
        }
      } catch (err) {
        printer.done();
        if (err instanceof RunSetupError || err instanceof EnvUnavailableError || err instanceof RedisNotInstalledError || err instanceof ControlError) {
          io.err(`imstorm run: ${err.message}`);
          return EXIT_USAGE;
        }
        if (!(err instanceof RunAbortedError)) throw err;
        // no verdict on the server: said loudly, and the suite goes on with the next scenario
        io.out('');
        io.out(`${name}: ERROR — ${err.message}`);
        aborted.push(name);
      }
    }
    // a suite's verdict in one line at the end: the per-scenario blocks above can run to hundreds of lines
    if (list.length > 1) {
      io.out('');
      for (const line of suiteVerdictLines(list.length, failed, aborted, Date.now() - suiteStart)) io.out(line);
    }
    if (aborted.length) io.err(`imstorm run: ${aborted.join(', ')} could not finish (ERROR above): no verdict on ${aborted.length === 1 ? 'it' : 'them'}`);
    return aborted.length ? EXIT_USAGE : failed.length ? 1 : 0;
  }
}

/** `7 min 56 s`, `49 s` */
function formatWall(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export const listCommand: Subcommand = {
  name: 'list',
  summary: 'List scenarios (with what each proves) and suites',
  usage: 'Usage: imstorm list',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.out(this.usage);
      return 0;
    }
    if (args.length) {
      io.err(`imstorm list: takes no arguments\n\n${this.usage}`);
      return EXIT_USAGE;
    }
    io.out('Scenarios:');
    for (const s of scenarios.values()) {
      io.out(`  ${s.name} — ${s.description}`);
      io.out(`    ${s.topology.nodes} nodes, ${s.workload.users * s.workload.devicesPerUser} devices, ${s.durationMs / 1000} s, ${s.faults.length} faults`);
      for (const p of s.proves) io.out(`    proves: ${p}`);
    }
    io.out('Suites:');
    for (const [name, suite] of suites) io.out(`  ${name} — ${suite.description}: ${suite.scenarios.join(', ')}`);
    return 0;
  },
};

export const serverCommand: Subcommand = {
  name: 'server',
  summary: 'Run one IM server node (same as npm run server; flags per README "Server configuration")',
  usage: 'Usage: JWT_SECRET=<at least 32 bytes> imstorm server [--port N] [--redis-url URL] [--node-id ID] [...every PROTOCOL.md variable as a --kebab-case flag, except secrets: JWT_SECRET / JWT_SECRET_FILE and ADMIN_JWT_SECRET come from the environment]',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.out(this.usage);
      return 0;
    }
    // The server reads its flags from process.argv; it runs in this process and exits by itself.
    process.argv = [process.argv[0]!, path.join(REPO_ROOT, 'server', 'main.ts'), ...args];
    await import('../../server/main.ts');
    return new Promise<number>(() => {});
  },
};
