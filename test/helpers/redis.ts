// Real redis-server processes for integration tests: harness/env's redis-server process
// with the tests' defaults (127.0.0.1, free port, temp dir, AOF with appendfsync always).
import { findRedisServer, rawRedisCommand, startRedisProcess, REDIS_INSTALL_HINT, type RedisProcessHandle, type RedisProcessOptions } from '../../harness/env/redis-process.ts';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? findRedisServer() ?? '/usr/bin/redis-server';

export type RedisOptions = Omit<RedisProcessOptions, 'bin'>;
export type RedisHandle = RedisProcessHandle;

export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  if (!findRedisServer(REDIS_SERVER)) throw new Error(`redis-server not found at ${REDIS_SERVER}; ${REDIS_INSTALL_HINT}`);
  return startRedisProcess({ ...opts, bin: REDIS_SERVER });
}

/** One raw command to 127.0.0.1:port over a short-lived connection. */
export function rawCommand(port: number, cmd: string[], timeoutMs = 2000): Promise<unknown> {
  return rawRedisCommand(port, cmd, timeoutMs);
}
