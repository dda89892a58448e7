// The TCP relay lives in the harness (harness/util/tcp-relay.ts); tests use it as is.
import { startRelay, type Relay } from '../../harness/util/tcp-relay.ts';
import { startRedis, type RedisHandle } from './redis.ts';

export * from '../../harness/util/tcp-relay.ts';

/** A fresh Redis and a TCP relay in front of it (cut or stall one node's link), both undone through `cleanups`, the test file's afterEach list. */
export async function redisBehindRelay(cleanups: Array<() => Promise<void> | void>): Promise<{ redis: RedisHandle; relay: Relay }> {
  const redis = await startRedis();
  cleanups.push(() => redis.cleanup());
  const relay = await startRelay(redis.port);
  cleanups.push(() => relay.close());
  return { redis, relay };
}
