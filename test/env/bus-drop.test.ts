import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busClientName, dropBusConnection, parseClientList } from '../../harness/env/bus-drop.ts';
import { startTopology, type Topology } from '../../harness/env/index.ts';
import { TEST_SERVER_ENV } from './topology-suite.ts';

/**
 * The `bus-drop` fault kills exactly one node's pub/sub connection (named by CLIENT SETNAME
 * imstorm-bus-<node>), leaves its command link and every other node's links alone, and
 * waits until that node has subscribed again. Real redis-server, real nodes behind their
 * Redis-link proxies (the name passes through the proxy).
 */
let topo: Topology;
let redis: Redis;
beforeAll(async () => {
  topo = await startTopology({ nodes: 2, envChoice: 'local', redisBehindProxy: true, clientLinksBehindProxy: false, serverEnv: TEST_SERVER_ENV });
  redis = new Redis(topo.redis.url, { lazyConnect: true });
  await redis.connect();
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await topo?.stop();
});

async function ids(): Promise<Map<string, string>> {
  const list = parseClientList(String(await redis.call('CLIENT', 'LIST')));
  return new Map(list.filter((c) => c.name?.startsWith('imstorm-')).map((c) => [c.name!, c.id!]));
}

it("drops node-2's bus connection alone; node-2 subscribes again and nothing else reconnects", async () => {
  const before = await ids();
  for (const n of ['imstorm-bus-node-1', 'imstorm-bus-node-2', 'imstorm-cmd-node-1', 'imstorm-cmd-node-2']) expect(before.get(n), n).toBeDefined();
  const d = await dropBusConnection(topo.redis.url, 'node-2');
  expect(d.killedId).toBe(before.get(busClientName('node-2')));
  expect(d.backId).toBeDefined();
  expect(d.backAt! - d.killedAt).toBeLessThan(5000);
  const after = await ids();
  expect(after.get('imstorm-bus-node-2')).toBe(d.backId);
  expect(after.get('imstorm-bus-node-2')).not.toBe(before.get('imstorm-bus-node-2'));
  for (const n of ['imstorm-bus-node-1', 'imstorm-cmd-node-1', 'imstorm-cmd-node-2']) expect(after.get(n), `${n} must not have reconnected`).toBe(before.get(n));
}, 30_000);

it('a node with no such connection is a fault-step error naming the node and the connection name', async () => {
  await expect(dropBusConnection(topo.redis.url, 'node-9', { findWithinMs: 200 })).rejects.toThrow(/^node-9 has no subscribed pub\/sub connection named imstorm-bus-node-9 on Redis/);
});
