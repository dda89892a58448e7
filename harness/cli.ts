// imstorm command line. Each subcommand is one entry in SUBCOMMANDS with its
// own flag schema, so `run`, `list`, `env up`, `report`, `compare` and
// `server` slot in beside `toxiproxy` without touching the dispatcher.

import { z } from 'zod';
import { startToxiproxyServer } from './faults/proxy-server.ts';
import { ENV_CHOICES, EnvUnavailableError, leaveSignalsToCaller, startTopology, type EnvChoice, type Topology } from './env/index.ts';
import { benchCommand } from './bench/cli.ts';
import { compareCommand, reportCommand } from './report/cli.ts';
import { listCommand, runCommand, serverCommand } from './scenario/cli.ts';
import { agentCommand } from './fleet/agent-cli.ts';
import { replayCommand } from './replay/cli.ts';
import { exploreCommand } from './explore/cli.ts';
import { envOf, EXIT_USAGE, parseCommandFlags, runSubcommand, serverEnvFlag, UsageError, type CliIo, type Subcommand } from './subcommand.ts';
import { whole } from './util/cli-flags.ts';

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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
  port: whole('--port', 0, 65535),
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
    const parsed = parseCommandFlags(args, { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8474' } }, ToxiproxyFlags);
    if (parsed === 'help') {
      io.out(this.usage);
      return 0;
    }
    const { flags } = parsed;
    const server = await startToxiproxyServer({ host: flags.host, port: flags.port });
    const stopped = untilSignal();
    io.out(`imstorm toxiproxy: API listening on ${server.url}`);
    await stopped;
    await server.close();
    return 0;
  },
};

const EnvUpFlags = z.object({
  env: z.enum(ENV_CHOICES as [EnvChoice, ...EnvChoice[]], { message: `--env must be one of ${ENV_CHOICES.join(', ')}` }),
  nodes: whole('--nodes', 1, 64),
  'redis-image': z.string().optional(),
  'toxiproxy-image': z.string().optional(),
  'redis-url': z.string().optional(),
  'toxiproxy-url': z.string().optional(),
  'jwt-secret': z.string().refine((s) => Buffer.byteLength(s) >= 32, { message: '--jwt-secret must be at least 32 bytes (the server refuses shorter secrets); e.g. `openssl rand -hex 32`' }).optional(),
  'server-env': serverEnvFlag('DEBUG_ROUTES=1'),
  'no-redis-proxy': z.boolean().default(false),
  'no-client-proxy': z.boolean().default(false),
  json: z.boolean().default(false),
});

/** What `env up` prints, for people and (with --json) for programs. */
export function describeTopology(topology: Topology): Record<string, unknown> {
  return {
    env: topology.env.kind,
    description: topology.env.description,
    toxiproxyUrl: topology.toxiproxyUrl,
    redisUrl: topology.redis.url,
    jwtSecret: topology.jwtSecret,
    nodes: topology.nodes.map((n) => ({
      id: n.id,
      directUrl: n.directUrl,
      directWsUrl: n.directWsUrl,
      proxiedUrl: n.proxiedUrl ?? null,
      proxiedWsUrl: n.proxiedWsUrl ?? null,
      redisUrl: n.redisUrl,
      links: [n.clientLink, n.redisLink].filter((l) => l !== undefined).map((l) => ({ target: l.target, proxy: l.proxyName, listen: l.listen, upstream: l.upstream })),
    })),
  };
}

const envCommand: Subcommand = {
  name: 'env',
  summary: 'env up: bring up Redis, fault proxies and N server nodes until Ctrl-C',
  usage: [
    'Usage: imstorm env up [--env auto|containers|local|external] [--nodes 3] [options]',
    '',
    'Starts Redis and a Toxiproxy API (per --env), then N server nodes, each reaching',
    'Redis through its own proxy (redis-link:<node>) and reachable through another',
    '(client-link:<node>) as well as directly. Prints the node URLs and the Toxiproxy API',
    'URL (drive the links with any Toxiproxy client), then waits; Ctrl-C (or SIGTERM)',
    'stops the nodes and everything the environment started.',
    '',
    'Environments (default IMSTORM_ENV, else auto):',
    '  auto        containers when a Docker engine answers and the images are present or',
    '              pullable, else local',
    '  containers  Redis and Toxiproxy containers through Testcontainers',
    '  local       redis-server from PATH (AOF on) and the embedded Toxiproxy-compatible proxy',
    '  external    REDIS_URL and TOXIPROXY_URL of running services',
    '',
    'Options:',
    '  --env NAME             environment (see above)',
    '  --nodes N              server nodes, 1..64 (default 3)',
    '  --redis-image IMAGE    containers: Redis image (IMSTORM_REDIS_IMAGE, default redis:7-alpine)',
    '  --toxiproxy-image IMG  containers: Toxiproxy image (IMSTORM_TOXIPROXY_IMAGE,',
    '                         default ghcr.io/shopify/toxiproxy:2.12.0)',
    '  --redis-url URL        external: Redis (REDIS_URL)',
    '  --toxiproxy-url URL    external: Toxiproxy API (TOXIPROXY_URL)',
    '  --jwt-secret SECRET    JWT_SECRET of the nodes (default JWT_SECRET, else a random one, printed)',
    '  --server-env K=V       extra server environment, repeatable (e.g. DEBUG_ROUTES=1)',
    '  --no-redis-proxy       nodes reach Redis directly',
    '  --no-client-proxy      no client-link proxies',
    '  --json                 also print one JSON line with every URL',
    '  -h, --help             show this help',
  ].join('\n'),
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === '--help' || verb === '-h') {
      io.out(this.usage);
      return 0;
    }
    if (verb !== 'up') throw new UsageError(verb === undefined ? 'missing action (up)' : `unknown action '${verb}' (expected up)`);
    const parsed = parseCommandFlags(
      rest,
      {
        env: { type: 'string', default: process.env.IMSTORM_ENV ?? 'auto' },
        nodes: { type: 'string', default: '3' },
        'redis-image': { type: 'string' },
        'toxiproxy-image': { type: 'string' },
        'redis-url': { type: 'string' },
        'toxiproxy-url': { type: 'string' },
        'jwt-secret': { type: 'string' },
        'server-env': { type: 'string', multiple: true },
        'no-redis-proxy': { type: 'boolean' },
        'no-client-proxy': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      EnvUpFlags,
    );
    if (parsed === 'help') {
      io.out(this.usage);
      return 0;
    }
    const { flags } = parsed;
    const serverEnv = envOf(flags['server-env']);

    // Ctrl-C: tear down gracefully; a second Ctrl-C exits at once (the exit hook still
    // SIGKILLs the nodes and removes the containers).
    leaveSignalsToCaller();
    let signalled: NodeJS.Signals | undefined;
    let wake: () => void = () => {};
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        io.err(`imstorm env: ${signal} again, exiting now`);
        process.exit(130);
      }
      signalled = signal;
      wake();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let topology: Topology | undefined;
    try {
      try {
        topology = await startTopology({
          nodes: flags.nodes,
          envChoice: flags.env,
          envOptions: {
            ...(flags['redis-image'] ? { redisImage: flags['redis-image'] } : {}),
            ...(flags['toxiproxy-image'] ? { toxiproxyImage: flags['toxiproxy-image'] } : {}),
            ...(flags['redis-url'] ? { redisUrl: flags['redis-url'] } : {}),
            ...(flags['toxiproxy-url'] ? { toxiproxyUrl: flags['toxiproxy-url'] } : {}),
          },
          redisBehindProxy: !flags['no-redis-proxy'],
          clientLinksBehindProxy: !flags['no-client-proxy'],
          serverEnv,
          ...(flags['jwt-secret'] ?? process.env.JWT_SECRET ? { jwtSecret: flags['jwt-secret'] ?? process.env.JWT_SECRET } : {}),
          log: (line) => io.err(`imstorm env: ${line}`),
        });
      } catch (error) {
        if (error instanceof EnvUnavailableError) {
          io.err(`imstorm env: ${error.message}`);
          return 1;
        }
        throw error;
      }
      if (!signalled) {
        const d = describeTopology(topology);
        io.out(`environment: ${topology.env.description}`);
        io.out(`Toxiproxy API: ${topology.toxiproxyUrl}`);
        io.out(`Redis: ${topology.redis.url}${flags['no-redis-proxy'] ? '' : ' (each node through its redis-link proxy)'}`);
        io.out(`JWT secret: ${topology.jwtSecret}`);
        for (const n of topology.nodes) {
          io.out(`${n.id}: direct ${n.directWsUrl}  proxied ${n.proxiedWsUrl ?? '-'}  (http ${n.directUrl}${n.proxiedUrl ? `, ${n.proxiedUrl}` : ''}; REDIS_URL ${n.redisUrl})`);
        }
        io.out(`proxies: ${topology.links.map((l) => `${l.proxyName} ${l.listen} -> ${l.upstream}`).join(', ') || 'none'}`);
        if (flags.json) io.out(JSON.stringify(d));
        io.out('ready; Ctrl-C stops everything');
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (signalled) resolve();
        });
      }
      io.err(`imstorm env: ${signalled ?? 'stop'}: stopping nodes and the environment`);
      return 0;
    } finally {
      if (topology) await topology.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (signalled) io.err('imstorm env: stopped');
    }
  },
};

export const SUBCOMMANDS: readonly Subcommand[] = [runCommand, listCommand, exploreCommand, replayCommand, envCommand, reportCommand, compareCommand, benchCommand, serverCommand, toxiproxyCommand, agentCommand];

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
  return runSubcommand(command, rest, io);
}
