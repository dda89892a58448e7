// The `bus-drop` fault: one node's pub/sub (bus) connection killed on the Redis side while
// its command link stays up — what a Redis failover, a client-output-buffer limit or a
// proxy restart does to a subscriber. Whatever is published until the node has
// re-subscribed never reaches it; the node must notice and fill from the log
// (DESIGN.md: "The bus is lossy; the log repairs it").
//
// A node names its connections `imstorm-bus-<NODE_ID>` and `imstorm-cmd-<NODE_ID>`
// (CLIENT SETNAME, server/store/links.ts), so the kill picks exactly that node's
// subscriber out of CLIENT LIST TYPE pubsub and kills it by id: CLIENT KILL TYPE pubsub
// alone would drop every node's bus at once.
import { Redis } from 'ioredis';
import { sleep } from './procs.ts';

export interface BusDrop {
  node: string;
  /** Redis client id of the connection killed */
  killedId: string;
  /** when CLIENT KILL answered */
  killedAt: number;
  /** the node's next pub/sub connection, once it re-subscribed (undefined: not within `backWithinMs`) */
  backId?: string;
  backAt?: number;
}

/** The Redis client name of a node's bus connection. */
export const busClientName = (node: string): string => `imstorm-bus-${node}`;

/** `CLIENT LIST` output → one record per line (`id=5 addr=… name=… sub=1 …`). */
export function parseClientList(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
}

async function busClientId(redis: Redis, name: string): Promise<string | undefined> {
  const list = parseClientList(String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')));
  // a connection only counts once it is subscribed (sub=N > 0): before that it misses everything anyway
  return list.find((c) => c.name === name && Number(c.sub ?? '0') > 0)?.id;
}

/**
 * Kills `node`'s subscribed bus connection and waits (up to `backWithinMs`) for the node to
 * subscribe again. Throws when the node has no subscribed bus connection within
 * `findWithinMs` (its bus is down already, or the server does not name its connections).
 */
export async function dropBusConnection(redisUrl: string, node: string, o: { findWithinMs?: number; backWithinMs?: number } = {}): Promise<BusDrop> {
  const name = busClientName(node);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'imstorm-fault-bus-drop' });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const findUntil = Date.now() + (o.findWithinMs ?? 2000);
    let id = await busClientId(redis, name);
    while (id === undefined && Date.now() < findUntil) {
      await sleep(50);
      id = await busClientId(redis, name);
    }
    if (id === undefined) {
      throw new Error(`${node} has no subscribed pub/sub connection named ${name} on Redis (CLIENT LIST TYPE pubsub): its bus link is down already, or the server does not name its connections (CLIENT SETNAME, server/store/links.ts)`);
    }
    const killed = Number(await redis.call('CLIENT', 'KILL', 'ID', id));
    if (killed !== 1) throw new Error(`CLIENT KILL ID ${id} (${name}) killed ${killed} connections`);
    const drop: BusDrop = { node, killedId: id, killedAt: Date.now() };
    const backUntil = drop.killedAt + (o.backWithinMs ?? 10_000);
    while (Date.now() < backUntil) {
      await sleep(25);
      const next = await busClientId(redis, name).catch(() => undefined);
      if (next !== undefined && next !== id) {
        drop.backId = next;
        drop.backAt = Date.now();
        break;
      }
    }
    return drop;
  } finally {
    redis.disconnect();
  }
}
