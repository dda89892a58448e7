// One Redis and N server nodes for a test file.
import { startNode, type NodeHandle, type NodeOptions } from './nodes.ts';
import { startRedis, type RedisHandle, type RedisOptions } from './redis.ts';
import { Client } from './client.ts';
import { token } from './tokens.ts';

export interface Cluster {
  redis: RedisHandle;
  nodes: NodeHandle[];
  /** Clients opened through track(); closed by cleanup(). */
  track<C extends Client>(c: C): C;
  /** Start one more node on this Redis. */
  addNode(env?: Record<string, string | number | undefined>, opts?: Partial<NodeOptions>): Promise<NodeHandle>;
  cleanup(): Promise<void>;
}

export async function startCluster(opts: {
  nodes?: number;
  env?: Record<string, string | number>;
  /** per-node extra env, by index */
  nodeEnv?: Array<Record<string, string | number>>;
  redis?: RedisOptions;
} = {}): Promise<Cluster> {
  const redis = await startRedis(opts.redis);
  const clients = new Set<Client>();
  const nodes: NodeHandle[] = [];
  const cluster: Cluster = {
    redis,
    nodes,
    track(c) {
      clients.add(c);
      return c;
    },
    async addNode(env = {}, nodeOpts = {}) {
      const n = await startNode({ redisUrl: redis.url, ...nodeOpts, env: { ...opts.env, ...env } });
      nodes.push(n);
      return n;
    },
    async cleanup() {
      for (const c of clients) c.terminate();
      Client.terminateAll();
      await Promise.all(nodes.map((n) => n.kill()));
      await redis.cleanup();
      // only what this cluster started: a file may run several clusters side by side
    },
  };
  try {
    const count = opts.nodes ?? 1;
    const started = await Promise.all(
      Array.from({ length: count }, (_, i) => startNode({ redisUrl: redis.url, env: { ...opts.env, ...opts.nodeEnv?.[i] } })),
    );
    nodes.push(...started);
  } catch (err) {
    await cluster.cleanup();
    throw err;
  }
  return cluster;
}

/** Open a WebSocket to `node` as (sub, dev) and complete the handshake. */
export async function connectAs(
  node: { wsUrl: string },
  sub: string,
  dev?: string,
  opts: { autoPong?: boolean; expInSec?: number } = {},
): Promise<Client & { welcome: Record<string, unknown> }> {
  const c = await Client.connect(node.wsUrl, { autoPong: opts.autoPong ?? true });
  const welcome = await c.hello(await token({ sub, dev, expInSec: opts.expInSec }));
  return Object.assign(c, { welcome });
}
