// Real redis-server processes for integration tests: harness/env's redis-server process
// with the tests' defaults (127.0.0.1, free port, temp dir, AOF with appendfsync always).
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { findRedisServer, rawRedisCommand, startRedisProcess, REDIS_INSTALL_HINT, type RedisProcessHandle, type RedisProcessOptions } from '../../harness/env/redis-process.ts';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? findRedisServer() ?? '/usr/bin/redis-server';

export type RedisOptions = Omit<RedisProcessOptions, 'bin'>;
export type RedisHandle = RedisProcessHandle;

export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  if (!findRedisServer(REDIS_SERVER)) throw new Error(`redis-server not found at ${REDIS_SERVER}; ${REDIS_INSTALL_HINT}`);
  return startRedisProcess({ ...opts, bin: REDIS_SERVER });
}

/**
 * A redis-server for the whole test file and an ioredis client on it: started before the
 * file's first test, stopped after its last. Read `cmd` inside tests (it is set by then).
 */
export function redisForFile(): { readonly cmd: Redis; readonly redis: RedisHandle } {
  const ctx = {} as { cmd: Redis; redis: RedisHandle };
  beforeAll(async () => {
    ctx.redis = await startRedis();
    ctx.cmd = new Redis(ctx.redis.url);
  }, 60_000);
  afterAll(async () => {
    ctx.cmd?.disconnect();
    await ctx.redis?.cleanup();
  });
  return ctx;
}

/** One raw command to 127.0.0.1:port over a short-lived connection. */
export function rawCommand(port: number, cmd: string[], timeoutMs = 2000): Promise<unknown> {
  return rawRedisCommand(port, cmd, timeoutMs);
}

export interface Watched {
  /** client address → the commands it ran since the watch began, each as its words */
  byAddr: Map<string, string[][]>;
  stop(): void;
}

/** Every command Redis runs, by client address (MONITOR; scripts' inner calls, from "lua", are left out). */
export async function monitor(port: number): Promise<Watched> {
  const byAddr = new Map<string, string[][]>();
  const sock = net.connect(port, '127.0.0.1');
  let rest = '';
  let started!: () => void;
  const ok = new Promise<void>((resolve) => (started = resolve));
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') started();
      // +1733227384.123456 [0 127.0.0.1:53012] "evalsha" "…" "3" "c:{dm:…}:m" …
      const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!m) continue;
      const words = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((w) => w[1]!);
      const list = byAddr.get(m[1]!) ?? [];
      list.push(words);
      byAddr.set(m[1]!, list);
    }
  });
  sock.write('*1\r\n$7\r\nMONITOR\r\n');
  await ok;
  return { byAddr, stop: () => sock.destroy() };
}

/** The addresses of a node's Redis links (named `imstorm-<link>-<nodeId>`: server/store/links.ts). */
export async function linksOf(port: number, nodeId: string): Promise<string[]> {
  const list = String(await rawCommand(port, ['CLIENT', 'LIST']));
  return list.split('\n').filter((l) => new RegExp(String.raw`\bname=imstorm-\w+-${nodeId}\b`).test(l)).map((l) => /\baddr=(\S+)/.exec(l)![1]!);
}
