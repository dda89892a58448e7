// A redis-server child process on 127.0.0.1: free port, its own data dir, AOF on by
// default (so a kill and a restart keep the data), and the process controls the fault
// timeline needs (kill, graceful stop, pause/resume, start again on the same port and dir).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ManagedProcess, SpawnError, type OutputLine } from './child-process.ts';
import { freePort, onExit } from './procs.ts';

/** What to install when redis-server is missing, for every message that says so. */
export const REDIS_INSTALL_HINT = 'install it: apt-get install -y redis-server (Debian/Ubuntu) or brew install redis (macOS)';

export interface RedisProcessOptions {
  /** Path of redis-server; default REDIS_SERVER_BIN, else `redis-server` found on PATH. */
  bin?: string;
  /** `appendonly yes` (default) or `no` (volatile). */
  appendonly?: boolean;
  /** AOF fsync policy; default `always` so a SIGKILL of redis-server loses no acked write. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory; a fresh temp dir when omitted (and then removed by cleanup()). */
  dir?: string;
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** default noeviction (what the server requires). */
  maxmemoryPolicy?: string;
  extraArgs?: string[];
  /** How long to wait for PING after a start; default 10 s. */
  startTimeoutMs?: number;
}

export interface RedisProcessHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly bin: string;
  /** Captured stdout/stderr lines (all incarnations, about the last 2000). */
  readonly logs: readonly OutputLine[];
  readonly running: boolean;
  readonly paused: boolean;
  /** The current child process (undefined before the first start). */
  readonly process: ChildProcess | undefined;
  /** SIGKILL, resolves once the process is gone. */
  kill(): Promise<void>;
  /** Graceful SHUTDOWN (SIGTERM, SIGKILL after 10 s), resolves once the process is gone. */
  stop(): Promise<void>;
  /** Start again on the same port and dir (with AOF the data survives); no-op if running. */
  start(): Promise<void>;
  /** stop() if running, then start(). */
  restart(): Promise<void>;
  /** SIGSTOP: the process holds its sockets but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** One raw command over a short-lived connection, e.g. command('CONFIG', 'GET', 'appendonly'). */
  command(...args: string[]): Promise<unknown>;
  /** Stop (SIGKILL) if running, remove the temp dir if we created it. */
  cleanup(): Promise<void>;
}

/** Thrown when redis-server cannot be found or run; the message says what to install. */
export class RedisNotInstalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisNotInstalledError';
  }
}

/** The redis-server binary to use, or undefined when there is none. */
export function findRedisServer(bin = process.env.REDIS_SERVER_BIN): string | undefined {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (bin) return executable(bin) ? bin : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'redis-server');
    if (executable(candidate)) return candidate;
  }
  // Debian installs it in /usr/bin, Homebrew in /opt/homebrew/bin or /usr/local/bin.
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/opt/homebrew/bin/redis-server']) {
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** `redis-server --version` of `bin`, or undefined when it does not run. */
export function redisServerVersion(bin: string): string | undefined {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (res.status !== 0) return undefined;
  return /v=(\S+)/.exec(res.stdout)?.[1] ?? res.stdout.trim();
}

export async function startRedisProcess(opts: RedisProcessOptions = {}): Promise<RedisProcessHandle> {
  const bin = opts.bin ?? findRedisServer();
  if (!bin) throw new RedisNotInstalledError(`redis-server not found on PATH (or REDIS_SERVER_BIN); ${REDIS_INSTALL_HINT}`);
  const appendonly = opts.appendonly ?? true;
  const host = opts.host ?? '127.0.0.1';
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'imstorm-redis-'));
  const port = opts.port ?? (await freePort());
  const unregister = ownDir ? onExit(() => rmSync(dir, { recursive: true, force: true })) : () => {};
  const args = [
    '--port', String(port),
    '--bind', host,
    '--dir', dir,
    '--appendonly', appendonly ? 'yes' : 'no',
    '--appendfsync', opts.appendfsync ?? 'always',
    '--save', '',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
    '--protected-mode', 'no',
    '--daemonize', 'no',
    ...(opts.extraArgs ?? []),
  ];
  const proc = new ManagedProcess({ name: `redis-server on port ${port}`, maxLines: 2000, toLine: (l) => l });

  async function launch(): Promise<void> {
    proc.start(bin!, args);
    try {
      await proc.waitReady(async () => ((await ping(host, port)) ? true : undefined), {
        before: 'answering PING',
        timeout: 'did not answer PING',
        deadline: Date.now() + startTimeoutMs,
        timeoutMs: startTimeoutMs,
        intervalMs: 30,
      });
    } catch (err) {
      if (err instanceof SpawnError) throw new RedisNotInstalledError(`${err.message} (${REDIS_INSTALL_HINT})`);
      throw err;
    }
  }

  await launch();

  const handle: RedisProcessHandle = {
    url: `redis://${host}:${port}`,
    host,
    port,
    dir,
    bin,
    logs: proc.logs,
    get running() {
      return proc.running;
    },
    get paused() {
      return proc.paused;
    },
    get process() {
      return proc.child;
    },
    kill: () => proc.kill(),
    async stop() {
      await proc.stop(10_000);
    },
    async start() {
      if (proc.running) return;
      await launch();
    },
    async restart() {
      await handle.stop();
      await launch();
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    command(...cmd: string[]) {
      return rawRedisCommand(port, cmd, 2000, host);
    },
    async cleanup() {
      await handle.kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      unregister();
    },
  };
  return handle;
}

export function ping(host: string, port: number): Promise<boolean> {
  return rawRedisCommand(port, ['PING'], 500, host).then(
    (r) => r === 'PONG',
    () => false,
  );
}

/**
 * One command over a short-lived ioredis connection (PING, INFO, CONFIG GET/SET, DBSIZE,
 * GET/SET, …): no retries, no offline queue beyond the connect, no commands of its own
 * (no ready check, no CLIENT SETINFO). Resolves with the reply as ioredis gives it
 * (string, number, array, null); an error reply, a refused connection or no answer
 * within `timeoutMs` (connect included) rejects.
 */
export async function rawRedisCommand(port: number, cmd: string[], timeoutMs = 2000, host = '127.0.0.1'): Promise<unknown> {
  const [name, ...args] = cmd;
  if (!name) throw new Error('rawRedisCommand: no command');
  const redis = new Redis({
    host,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
    disableClientInfo: true,
  });
  // the command's promise carries the failure; a socket error (ECONNREFUSED…) says more than its "Connection is closed."
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError = err));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis command ${name} timed out`)), timeoutMs);
  });
  try {
    return await Promise.race([redis.connect().then(() => redis.call(name, ...args)), timedOut]);
  } catch (err) {
    throw socketError && err instanceof Error && /Connection is closed/.test(err.message) ? socketError : err;
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
