// Leak samples: what a node holds once its clients are gone (fds, heap after GC, handles,
// connections) and the Redis keys gone connections left behind.
import { Redis } from 'ioredis';
import type { GoneKeysSample, ServerSample } from '../checks/samples.ts';
import { httpCall } from '../util/http-call.ts';
import { PromSnapshot } from '../measure/prometheus.ts';

interface GcAnswer {
  heapUsed: number;
  rss?: number;
  openFds: number;
  httpSockets: number;
  connections: number;
  connectionsOpened?: number;
  activeResources: string[];
  storeCommands?: number;
  pendingDeregistrations?: number;
}

async function gcAnswer(node: { id: string; url: string }): Promise<GcAnswer> {
  const gc = await httpCall(`${node.url}/debug/gc`, { method: 'POST' });
  if (gc.status !== 200) throw new Error(`${node.id}: POST /debug/gc answered ${gc.status}; leak checks need DEBUG_ROUTES=1 on the server`);
  return JSON.parse(gc.text) as GcAnswer;
}

function toSample(node: { id: string }, g: GcAnswer): ServerSample {
  const handles: Record<string, number> = {};
  for (const type of g.activeResources) handles[type] = (handles[type] ?? 0) + 1;
  // HTTP sockets of whoever is asking (this request, a sampler's keep-alive) are not the server's leak
  const sockets = g.httpSockets;
  handles.TCPSocketWrap = Math.max(0, (handles.TCPSocketWrap ?? 0) - sockets);
  return {
    at: Date.now(),
    node: node.id,
    connections: g.connections,
    openFds: g.openFds - sockets,
    heapUsedAfterGc: g.heapUsed,
    activeHandles: handles,
    ...(g.connectionsOpened !== undefined ? { connectionsOpened: g.connectionsOpened } : {}),
    ...(g.rss !== undefined ? { rssBytes: g.rss } : {}),
  };
}

/**
 * One leak sample of a node: two full GCs (POST /debug/gc, so the node must run with
 * DEBUG_ROUTES=1), then its gauges from /metrics.
 */
export async function leakSample(node: { id: string; url: string }): Promise<ServerSample> {
  return toSample(node, await gcAnswer(node));
}

/**
 * Waits until the node is idle — no client connected, no Redis command in flight (each
 * holds a timeout timer), no deregistration pending — and its fds hold still over three
 * samples, then returns that sample; bounded by `timeoutMs` (the last sample either way).
 * Leaks are what stays once the work is done, not work still being done.
 */
export async function settledLeakSample(node: { id: string; url: string }, timeoutMs = 30_000): Promise<ServerSample> {
  const until = Date.now() + timeoutMs;
  const seen: GcAnswer[] = [];
  for (;;) {
    seen.push(await gcAnswer(node));
    const last = seen.slice(-3);
    const idle = (g: GcAnswer) => g.connections === 0 && !g.storeCommands && !g.pendingDeregistrations;
    const steady = last.length === 3 && last.every((g) => idle(g) && g.openFds - g.httpSockets === last[0]!.openFds - last[0]!.httpSockets);
    if (steady || Date.now() > until) return toSample(node, seen.at(-1)!);
    await new Promise((r) => setTimeout(r, 400));
  }
}

/**
 * Redis keys that still name connections once every client left: each user's connection
 * registrations (`u:{user}:conns`, pipelined HLEN in batches) and each live node
 * incarnation's registry (`n:{incarnation}:conns`, by SCAN), on its own link.
 */
export async function goneConnectionKeys(redisUrl: string, users: readonly string[]): Promise<GoneKeysSample> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'imstorm-leak-check' });
  await redis.connect();
  try {
    const examples: string[] = [];
    let count = 0;
    for (let i = 0; i < users.length; i += 1000) {
      const p = redis.pipeline();
      const batch = users.slice(i, i + 1000);
      for (const u of batch) p.hlen(`u:{${u}}:conns`);
      const res = (await p.exec()) ?? [];
      res.forEach(([, n], j) => {
        if (Number(n) > 0) {
          count++;
          if (examples.length < 5) examples.push(`u:{${batch[j]}}:conns (${String(n)} entries)`);
        }
      });
    }
    // the node registries: hashes, or sets as servers before 2026-12-06 kept them
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'n:{*}:conns', 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const set = (await redis.type(k)) === 'set';
        const n = set ? await redis.scard(k) : await redis.hlen(k);
        if (n > 0) {
          count++;
          if (examples.length < 5) examples.push(`${k} (${n} ${set ? 'members' : 'entries'})`);
        }
      }
    } while (cursor !== '0');
    return { at: Date.now(), count, examples };
  } finally {
    redis.disconnect();
  }
}

/**
 * A leak sample of a target without debug routes (imstorm run --target): only the
 * open-connection gauge, from /metrics, read once it is 0 (or at `timeoutMs`). Its fds and
 * handles there are sampled by the server at most every 5 s and include the harness's own
 * scrapes, and its heap is not after a GC, so the checker judges only the gauge (`gaugeOnly`).
 */
export async function gaugeLeakSample(node: { id: string; url: string; metricsToken?: string | undefined }, timeoutMs = 30_000): Promise<ServerSample> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await httpCall(`${node.url}/metrics`, { timeoutMs: 3000, ...(node.metricsToken ? { headers: { authorization: `Bearer ${node.metricsToken}` } } : {}) });
    if (res.status !== 200) throw new Error(`${node.id}: GET /metrics answered ${res.status}`);
    const p = new PromSnapshot(res.text);
    const connections = p.value('imstorm_connections');
    if (connections === undefined) throw new Error(`${node.id}: /metrics has no imstorm_connections gauge`);
    if (connections === 0 || Date.now() > until) {
      const opened = p.value('imstorm_connections_opened_total');
      return {
        at: Date.now(),
        node: node.id,
        connections,
        openFds: p.value('imstorm_open_fds') ?? 0,
        heapUsedAfterGc: p.value('nodejs_heap_size_used_bytes') ?? 0,
        activeHandles: p.byLabel('imstorm_active_handles', 'type'),
        ...(opened !== undefined ? { connectionsOpened: opened } : {}),
        gaugeOnly: true,
      };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
