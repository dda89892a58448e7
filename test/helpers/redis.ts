// Real redis-server processes for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, onExit, sleep, track } from './procs.ts';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export interface RedisOptions {
  /** `appendonly yes` (default) or `no` (volatile). */
  appendonly?: boolean;
  /** AOF fsync policy; default `always` so a SIGKILL of redis-server loses no acked write. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory; a fresh temp dir when omitted (and then removed by cleanup()). */
  dir?: string;
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** default noeviction (what the server requires). */
  maxmemoryPolicy?: string;
  extraArgs?: string[];
}

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Captured stdout/stderr lines of the current process. */
  readonly logs: string[];
  readonly running: boolean;
  /** SIGKILL, resolves once the process is gone. */
  kill(): Promise<void>;
  /** Graceful SHUTDOWN (SIGTERM), resolves once the process is gone. */
  stop(): Promise<void>;
  /** Start again on the same port and dir (with AOF the data survives). */
  restart(): Promise<void>;
  /** One raw command over a short-lived connection, e.g. command('CONFIG', 'GET', 'appendonly'). */
  command(...args: string[]): Promise<unknown>;
  /** Stop (SIGKILL) if running, remove the temp dir if we created it. */
  cleanup(): Promise<void>;
}

let checked = false;
function ensureInstalled(): void {
  if (checked) return;
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`redis-server not found at ${REDIS_SERVER}; install it: apt-get install -y redis-server`);
  }
  checked = true;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  ensureInstalled();
  const appendonly = opts.appendonly ?? true;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'imstorm-redis-'));
  const port = opts.port ?? (await freePort());
  const unregister = ownDir ? onExit(() => rmSync(dir, { recursive: true, force: true })) : () => {};
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', appendonly ? 'yes' : 'no',
    '--appendfsync', opts.appendfsync ?? 'always',
    '--save', '',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
    '--protected-mode', 'no',
    '--daemonize', 'no',
    ...(opts.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;
  const logs: string[] = [];

  async function launch(): Promise<void> {
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(c);
    child = c;
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) if (line.trim()) logs.push(line);
      if (logs.length > 2000) logs.splice(0, logs.length - 2000);
    };
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onData);
    let spawnError: Error | undefined;
    c.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${REDIS_SERVER}: ${spawnError.message} (install it: apt-get install -y redis-server)`);
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`redis-server exited (${c.exitCode ?? c.signalCode}) on port ${port}:\n${logs.slice(-20).join('\n')}`);
      }
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${logs.slice(-20).join('\n')}`);
      }
      await sleep(30);
    }
  }

  await launch();

  const isRunning = () => !!child && child.exitCode === null && child.signalCode === null;
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    logs,
    get running() {
      return isRunning();
    },
    async kill() {
      if (!child || !isRunning()) return;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      if (!child || !isRunning()) return;
      const c = child;
      const done = exited(c);
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
    async restart() {
      if (isRunning()) await handle.stop();
      await launch();
    },
    command(...cmd: string[]) {
      return rawCommand(port, cmd);
    },
    async cleanup() {
      await handle.kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      unregister();
    },
  };
  return handle;
}

function ping(port: number): Promise<boolean> {
  return rawCommand(port, ['PING'], 500).then(
    (r) => r === 'PONG',
    () => false,
  );
}

/** Minimal RESP client for one command: enough for PING, INFO, CONFIG GET/SET, DBSIZE. */
export function rawCommand(port: number, cmd: string[], timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis command ${cmd[0]} timed out`));
    }, timeoutMs);
    const finish = (err: Error | null, val?: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(val);
    };
    sock.on('error', (err) => finish(err));
    sock.on('connect', () => {
      let out = `*${cmd.length}\r\n`;
      for (const a of cmd) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      sock.write(out);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseResp(buf, 0);
      if (parsed) finish(parsed.value instanceof Error ? parsed.value : null, parsed.value);
    });
  });
}

function parseResp(buf: Buffer, at: number): { value: unknown; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString('utf8', at + 1, eol);
  switch (type) {
    case '+':
      return { value: line, end: eol + 2 };
    case '-':
      return { value: new Error(line), end: eol + 2 };
    case ':':
      return { value: Number(line), end: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const items: unknown[] = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return { value: new Error(`unexpected RESP type ${type}`), end: buf.length };
  }
}
