// A server node as a child process: `process.execPath server/main.ts` (so signals reach
// the server itself, not a wrapper), configured through the environment (PROTOCOL.md,
// "Configuration"). Nothing test-specific is assumed: callers pass JWT_SECRET, NODE_ENV,
// DEBUG_ROUTES and the rest.
import { spawn, type ChildProcess } from 'node:child_process';
import { httpCall } from '../util/http-call.ts';
import { exited, sleep, track } from './procs.ts';
import { REPO_ROOT, SERVER_ENTRY } from './paths.ts';

export { REPO_ROOT, SERVER_ENTRY };

export interface LogLine {
  /** Parsed JSON object (pino line), or undefined for a non-JSON line. */
  json: Record<string, unknown> | undefined;
  text: string;
  stream: 'stdout' | 'stderr';
  at: number;
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

  let child!: ChildProcess;
  let port = 0;
  let adminPort: number | undefined;
  let adminHost = '127.0.0.1';
  let paused = false;
  const logs: LogLine[] = [];
  const logWaiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  const push = (line: LogLine) => {
    logs.push(line);
    if (logs.length > maxLogLines) logs.splice(0, Math.ceil(maxLogLines / 4));
    for (const w of logWaiters) {
      if (w.pred(line)) {
        logWaiters.delete(w);
        w.resolve(line);
      }
    }
  };

  const tail = (n = 30) => logs.slice(-n).map((l) => `[${l.stream}] ${l.text}`).join('\n');

  async function launch(waitReady: boolean, fixedPort?: number): Promise<void> {
    const launchEnv = { ...env };
    if (fixedPort) launchEnv.PORT = String(fixedPort);
    const c = spawn(process.execPath, [opts.entry ?? SERVER_ENTRY, ...(opts.args ?? [])], {
      cwd: REPO_ROOT,
      env: launchEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(c);
    child = c;
    paused = false;
    const reader = (stream: 'stdout' | 'stderr') => {
      let rest = '';
      return (buf: Buffer) => {
        rest += buf.toString('utf8');
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const text = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (!text.trim()) continue;
          let json: Record<string, unknown> | undefined;
          try {
            const v: unknown = JSON.parse(text);
            if (v && typeof v === 'object' && !Array.isArray(v)) json = v as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          push({ json, text, stream, at: Date.now() });
        }
      };
    };
    c.stdout?.on('data', reader('stdout'));
    c.stderr?.on('data', reader('stderr'));
    c.once('exit', (code, signal) => push({ json: undefined, text: `[process exited: code ${code} signal ${signal}]`, stream: 'stderr', at: Date.now() }));

    const startIdx = logs.length;
    const deadline = Date.now() + timeoutMs;
    // 1. the "listening" line with the bound port
    for (;;) {
      const line = logs.slice(startIdx).find((l) => l.json?.msg === 'listening' && typeof l.json.port === 'number');
      if (line) {
        port = line.json?.port as number;
        adminPort = typeof line.json?.adminPort === 'number' ? line.json.adminPort : undefined;
        const ah = typeof line.json?.adminHost === 'string' ? line.json.adminHost : '127.0.0.1';
        adminHost = ah === '0.0.0.0' || ah === '::' ? '127.0.0.1' : ah;
        break;
      }
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`server ${nodeId} exited (${c.exitCode ?? c.signalCode}) before listening:\n${tail()}`);
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`server ${nodeId} did not log "listening" within ${timeoutMs} ms:\n${tail()}`);
      }
      await sleep(20);
    }
    if (!waitReady) return;
    // 2. GET /readyz 200
    for (;;) {
      try {
        // one request on its own connection: no keep-alive socket left on the node (every
        // socket counts toward its MAX_CONNECTIONS, and leak checks count its fds)
        const res = await httpCall(`http://${host}:${port}/readyz`, { timeoutMs: 1000 });
        if (res.status === 200) return;
      } catch {
        // not answering yet
      }
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`server ${nodeId} exited (${c.exitCode ?? c.signalCode}) before ready:\n${tail()}`);
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`server ${nodeId} not ready (GET /readyz != 200) within ${timeoutMs} ms:\n${tail()}`);
      }
      await sleep(50);
    }
  }

  await launch(opts.waitReady ?? true);

  const isRunning = () => child.exitCode === null && child.signalCode === null;
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
    logs,
    get process() {
      return child;
    },
    get running() {
      return isRunning();
    },
    get paused() {
      return paused && isRunning();
    },
    async kill() {
      if (!isRunning()) return;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async stop(stopTimeoutMs = 30_000) {
      if (!isRunning()) return child.exitCode;
      const c = child;
      const done = exited(c);
      c.kill('SIGTERM');
      if (paused) c.kill('SIGCONT'); // a stopped process acts on SIGTERM only once continued
      const timer = setTimeout(() => c.kill('SIGKILL'), stopTimeoutMs);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
    async restart(o = {}) {
      if (isRunning()) await handle.kill();
      await launch(o.waitReady ?? true, port || undefined);
    },
    async start(o = {}) {
      if (isRunning()) return;
      await launch(o.waitReady ?? true, port || undefined);
    },
    pause() {
      if (!isRunning()) return;
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (isRunning()) child.kill('SIGCONT');
      paused = false;
    },
    waitForLog(pred, waitMs = 10_000) {
      const found = logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          logWaiters.delete(w);
          reject(new Error(`server ${nodeId}: no matching log line within ${waitMs} ms:\n${tail()}`));
        }, waitMs);
        logWaiters.add(w);
      });
    },
    tail,
  };
  return handle;
}
