// A server node as a child process: `process.execPath server/main.ts` (so signals reach
// the server itself, not a wrapper), configured through the environment (PROTOCOL.md,
// "Configuration"). Nothing test-specific is assumed: callers pass JWT_SECRET, DEBUG_ROUTES,
// TEST_BUGS (which starts server/test-main.ts instead) and the rest.
import type { ChildProcess } from 'node:child_process';
import { ManagedProcess, type OutputLine, type ProcessExit } from './child-process.ts';
import { REPO_ROOT, SERVER_ENTRY, SERVER_TEST_ENTRY } from './paths.ts';
import { httpCall } from '../util/http-call.ts';

export { REPO_ROOT, SERVER_ENTRY };
export type { ProcessExit };

export interface LogLine extends OutputLine {
  /** Parsed JSON object (pino line), or undefined for a non-JSON line. */
  json: Record<string, unknown> | undefined;
}

export interface ServerNodeOptions {
  redisUrl: string;
  /** JWT_SECRET of the node (HS256). */
  jwtSecret: string;
  /** Extra environment, over the inherited one and PORT/HOST/REDIS_URL/JWT_SECRET/NODE_ID (`undefined` removes a variable). */
  env?: Record<string, string | number | undefined>;
  /** Command-line flags after the entry script (e.g. ['--heartbeat-ms', '1234']). */
  args?: string[];
  nodeId?: string;
  /** Wait for GET /readyz 200 (default true); when false, resolve as soon as it listens. */
  waitReady?: boolean;
  timeoutMs?: number;
  /** Script to run instead of server/main.ts (used by the helpers' self-test). */
  entry?: string;
  /** Bind address (HOST); default 127.0.0.1. */
  host?: string;
  /** PORT; default 0 (a free one, kept across restarts). */
  port?: number;
  /** Largest number of log lines kept; default 20000. */
  maxLogLines?: number;
}

export interface ServerNodeHandle {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  /** ws://host:port/ws */
  readonly wsUrl: string;
  /** where /metrics and the debug routes are: the ADMIN_PORT listener when the node has one, else `url` */
  readonly adminUrl: string;
  /** METRICS_TOKEN the node was given (send it as `Authorization: Bearer …` to /metrics) */
  readonly metricsToken: string | undefined;
  readonly logs: LogLine[];
  /** every exit so far, each marked expected (kill/stop/restart asked for it) or not, with its last output lines */
  readonly exits: readonly ProcessExit[];
  readonly process: ChildProcess;
  readonly running: boolean;
  readonly paused: boolean;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code (null if it died by a signal). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Start again (same env, same port), waiting for ready unless told otherwise; kills it first if running. */
  restart(opts?: { waitReady?: boolean }): Promise<void>;
  /** Start again after kill() or stop() (same env, same port); no-op while running. */
  start(opts?: { waitReady?: boolean }): Promise<void>;
  /** SIGSTOP (a long GC pause, a zombie): sockets stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Resolves with the first log line (past or future) matching `pred`. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The last lines of output, for error messages. */
  tail(n?: number): string;
}

let nodeCounter = 0;

export async function startServerNode(opts: ServerNodeOptions): Promise<ServerNodeHandle> {
  const nodeId = opts.nodeId ?? `node${++nodeCounter}-${process.pid}`;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const bindHost = opts.host ?? '127.0.0.1';
  // where to dial it: a wildcard bind is reached on loopback
  const host = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  const maxLogLines = opts.maxLogLines ?? 20_000;
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;
  const env: Record<string, string> = {
    ...baseEnv,
    PORT: String(opts.port ?? 0),
    HOST: bindHost,
    REDIS_URL: opts.redisUrl,
    JWT_SECRET: opts.jwtSecret,
    NODE_ID: nodeId,
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = String(v);
  }

  let port = 0;
  let adminPort: number | undefined;
  let adminHost = '127.0.0.1';
  const proc = new ManagedProcess<LogLine>({ name: `server ${nodeId}`, maxLines: maxLogLines, toLine: (l) => ({ ...l, json: jsonObject(l.text) }) });

  async function launch(waitReady: boolean, fixedPort?: number): Promise<void> {
    const launchEnv = { ...env };
    if (fixedPort) launchEnv.PORT = String(fixedPort);
    // A node asked for deliberate bugs runs the test entry; production main.ts refuses TEST_BUGS.
    const entry = opts.entry ?? (launchEnv.TEST_BUGS ? SERVER_TEST_ENTRY : SERVER_ENTRY);
    const startIdx = proc.logs.length;
    proc.start(process.execPath, [entry, ...(opts.args ?? [])], { cwd: REPO_ROOT, env: launchEnv });
    const deadline = Date.now() + timeoutMs;
    // 1. the "listening" line with the bound port
    port = await proc.waitReady(() => {
      const line = proc.logs.slice(startIdx).find((l) => l.json?.msg === 'listening' && typeof l.json.port === 'number');
      if (!line) return undefined;
      adminPort = typeof line.json?.adminPort === 'number' ? line.json.adminPort : undefined;
      const ah = typeof line.json?.adminHost === 'string' ? line.json.adminHost : '127.0.0.1';
      adminHost = ah === '0.0.0.0' || ah === '::' ? '127.0.0.1' : ah;
      return line.json!.port as number;
    }, { before: 'listening', timeout: 'did not log "listening"', deadline, timeoutMs, intervalMs: 20 });
    if (!waitReady) return;
    // 2. GET /readyz 200
    await proc.waitReady(async () => {
      try {
        // one request on its own connection: no keep-alive socket left on the node (every
        // socket counts toward its MAX_CONNECTIONS, and leak checks count its fds)
        const res = await httpCall(`http://${host}:${port}/readyz`, { timeoutMs: 1000 });
        return res.status === 200 ? true : undefined;
      } catch {
        return undefined; // not answering yet
      }
    }, { before: 'ready', timeout: 'not ready (GET /readyz != 200)', deadline, timeoutMs, intervalMs: 50 });
  }

  await launch(opts.waitReady ?? true);

  const handle: ServerNodeHandle = {
    nodeId,
    host,
    get port() {
      return port;
    },
    get url() {
      return `http://${host}:${port}`;
    },
    get wsUrl() {
      return `ws://${host}:${port}/ws`;
    },
    get adminUrl() {
      return adminPort === undefined ? `http://${host}:${port}` : `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${adminPort}`;
    },
    get metricsToken() {
      return env.METRICS_TOKEN;
    },
    logs: proc.logs,
    exits: proc.exits,
    get process() {
      return proc.child!;
    },
    get running() {
      return proc.running;
    },
    get paused() {
      return proc.paused;
    },
    kill: () => proc.kill(),
    stop: (stopTimeoutMs = 30_000) => proc.stop(stopTimeoutMs),
    async restart(o = {}) {
      await proc.kill();
      await launch(o.waitReady ?? true, port || undefined);
    },
    async start(o = {}) {
      if (proc.running) return;
      await launch(o.waitReady ?? true, port || undefined);
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    waitForLog: (pred, waitMs = 10_000) => proc.waitForLine(pred, waitMs),
    tail: (n?: number) => proc.tail(n),
  };
  return handle;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
