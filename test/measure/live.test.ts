// The server sampler and the autocannon runner against a real Redis and a real server
// node, plus targets that refuse or never answer (the sampler must record gaps, not hang).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imRoutes, runHttpLoad, runRoute } from '../../harness/measure/http-load.ts';
import { NODE_SERIES, REDIS_SERIES, ServerSampler } from '../../harness/measure/sampler.ts';
import { leakSample } from '../../harness/scenario/leak-samples.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { token } from '../helpers/tokens.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port that refuses connections (bound, then closed). */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An HTTP server that accepts requests and never answers (a paused process, from the outside). */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer(() => {
    // never respond
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 1 });
});
afterAll(async () => {
  await cluster?.cleanup();
});

describe('ServerSampler', () => {
  it('samples a real node and Redis every interval, into aligned columns', async () => {
    const node = cluster.nodes[0]!;
    const sampler = new ServerSampler({ nodes: [{ id: 'n1', url: node.url }], redisUrl: cluster.redis.url, intervalMs: 250 }).start();
    const a = cluster.track(await connectAs(node, 'alice', 'd1'));
    cluster.track(await connectAs(node, 'bob', 'd1'));
    for (let i = 0; i < 5; i++) await a.request({ t: 'send', conv: 'dm:alice:bob', cmid: `s-${i}`, body: 'hi' });
    await sleep(900);
    const samples = await sampler.stop();
    const n1 = samples.targets.find((t) => t.target === 'n1')!;
    const redis = samples.targets.find((t) => t.kind === 'redis')!;
    expect(n1.t.length).toBeGreaterThanOrEqual(4);
    expect(n1.gaps).toEqual([]);
    for (const col of Object.values(n1.values)) expect(col).toHaveLength(n1.t.length);
    for (const def of NODE_SERIES) expect(Object.keys(n1.values)).toContain(def.key);
    expect(Math.max(...(n1.values['connections']!.filter((v) => v !== null) as number[]))).toBe(2);
    expect(n1.values['rssBytes']!.at(-1)).toBeGreaterThan(10 * 1024 * 1024);
    expect(n1.values['heapUsedBytes']!.at(-1)).toBeGreaterThan(1024 * 1024);
    expect(n1.values['openFds']!.at(-1)).toBeGreaterThan(10);
    expect(n1.values['eventLoopLagMs']!.at(-1)).toBeGreaterThanOrEqual(0);
    // the longest delay of the last 2 s includes the 10 ms sampling period: a number from every scrape
    for (const v of n1.values['eventLoopDelayMaxMs']!) expect(v).toBeGreaterThanOrEqual(10);
    expect(n1.values['activeHandles.TCPServerWrap']!.at(-1)).toBe(1);
    // counters become rates; their increase over the run is kept
    expect(n1.values['framesInPerSec']![0]).toBeNull();
    expect(n1.totals['sendsPerSec']).toBe(5);
    expect(redis.gaps).toEqual([]);
    for (const def of REDIS_SERIES) expect(redis.values[def.key]!.at(-1)).toBeGreaterThan(0);
  });

  it('records gaps for refused and unanswered scrapes and stops promptly', async () => {
    const hole = await blackHole();
    const refused = await refusedPort();
    try {
      const sampler = new ServerSampler({
        nodes: [
          { id: 'up', url: cluster.nodes[0]!.url },
          { id: 'refused', url: `http://127.0.0.1:${refused}` },
          { id: 'paused', url: hole.url },
        ],
        redisUrl: `redis://127.0.0.1:${refused}`,
        intervalMs: 300,
        timeoutMs: 200,
      }).start();
      await sleep(1000);
      const t0 = Date.now();
      const samples = await sampler.stop();
      expect(Date.now() - t0).toBeLessThan(1000); // bounded by the scrape timeout (200 ms), not hung
      const by = (id: string) => samples.targets.find((t) => t.target === id)!;
      expect(by('up').gaps).toEqual([]);
      expect(by('refused').gaps.length).toBeGreaterThanOrEqual(3);
      expect(by('refused').gaps[0]!.error).toMatch(/ECONNREFUSED/);
      expect(by('refused').values['rssBytes']!.every((v) => v === null)).toBe(true);
      expect(by('paused').gaps.length).toBeGreaterThanOrEqual(3);
      expect(by('paused').gaps[0]!.error).toMatch(/timeout after 200 ms/);
      expect(by('redis').gaps.length).toBeGreaterThanOrEqual(3);
      // every target has one row per tick, good or not
      expect(by('refused').t.length).toBe(by('up').t.length);
    } finally {
      await hole.close();
    }
  });

  it('sees a node come back after a restart (counter reset handled)', async () => {
    const node = await cluster.addNode();
    const sampler = new ServerSampler({ nodes: () => [{ id: 'r', url: node.url }], intervalMs: 200, timeoutMs: 150 }).start();
    const c = cluster.track(await connectAs(node, 'carol', 'd1'));
    for (let i = 0; i < 3; i++) await c.request({ t: 'send', conv: 'dm:carol:dave', cmid: `r-${i}`, body: 'x' });
    await sleep(500);
    await node.kill();
    await sleep(500);
    await node.restart();
    await sleep(600);
    const r = (await sampler.stop()).targets[0]!;
    expect(r.gaps.length).toBeGreaterThanOrEqual(1);
    expect(r.values['rssBytes']!.at(-1)).toBeGreaterThan(0);
    expect(r.totals['sendsPerSec']).toBe(3);
    expect(r.values['sendsPerSec']!.every((v) => v === null || v >= 0)).toBe(true);
  });

  it('scrapes a node with ADMIN_PORT and METRICS_TOKEN on its admin listener (leak samples too)', async () => {
    const node = await cluster.addNode({ ADMIN_PORT: 0, METRICS_TOKEN: 'sampler-metrics-token-0123456789' });
    expect(node.adminUrl).not.toBe(node.url);
    const sampler = new ServerSampler({ nodes: [{ id: 'adm', url: node.adminUrl, metricsToken: node.metricsToken }], intervalMs: 200 }).start();
    cluster.track(await connectAs(node, 'erin', 'd1'));
    await sleep(700);
    const r = (await sampler.stop()).targets[0]!;
    expect(r.gaps).toEqual([]);
    expect(r.values['connections']!.at(-1)).toBe(1);
    const leak = await leakSample({ id: 'adm', url: node.adminUrl });
    expect(leak.connections).toBe(1);
    expect(leak.openFds).toBeGreaterThan(10);
    await node.kill();
  });
});

describe('HTTP load (autocannon)', () => {
  it('drives POST /v1/messages, history and /healthz for a bounded time', async () => {
    const node = cluster.nodes[0]!;
    const tokens = await Promise.all(['hu1', 'hu2', 'hu3'].map((sub) => token({ sub })));
    // every token's user must be a member: dm conversations between hu1 and each other user would differ,
    // so use a group all three are in
    const created = await fetch(`${node.url}/v1/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'ac-team', members: ['hu2', 'hu3'] }),
    });
    expect(created.status).toBe(201);
    const started = Date.now();
    const results = await runHttpLoad({ baseUrl: node.url, token: tokens, routes: imRoutes({ convs: ['g:ac-team'] }), durationSec: 1, connections: 4 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results.map((r) => r.name)).toEqual(['postMessage', 'history', 'healthz']);
    const [post, history, health] = results;
    expect(post!.total).toBeGreaterThan(0);
    // three users' send buckets (50/s, burst 100 each): the rest answer 429
    expect(post!.statusCodes['201']).toBeGreaterThan(0);
    expect(post!.statusCodes['201']).toBeLessThanOrEqual(3 * 160);
    expect(post!.non2xx).toBe(post!.total - (post!.statusCodes['201'] ?? 0) - (post!.statusCodes['200'] ?? 0));
    expect(history!.non2xx).toBe(0);
    expect(history!.statusCodes['200']).toBe(history!.total);
    expect(health!.non2xx).toBe(0);
    expect(health!.rps.mean).toBeGreaterThan(50);
    expect(health!.latency.p99).toBeGreaterThanOrEqual(health!.latency.p50);
    expect(results.every((r) => !r.capped && r.errors === 0)).toBe(true);
  });

  it('with many users, each request uses its token\'s own conversation: no send bucket decides the figures, no history read is forbidden', async () => {
    const node = cluster.nodes[0]!;
    const users = Array.from({ length: 40 }, (_, i) => `hm${i}`);
    const tokens = await Promise.all(users.map((sub) => token({ sub })));
    // each user's own dm: a request carrying another user's token would be answered 403
    const convs = users.map((u, i) => `dm:${u}:hn${i}`);
    const [post, history] = await runHttpLoad({ baseUrl: node.url, token: tokens, routes: imRoutes({ convs }).slice(0, 2), amount: 1200, connections: 4 });
    expect(post!.statusCodes).toEqual({ '201': 1200 });
    expect(history!.statusCodes).toEqual({ '200': 1200 });
  });

  it('stops at the hard cap against a server that never answers', async () => {
    const hole = await blackHole();
    try {
      const started = Date.now();
      const r = await runRoute({ baseUrl: hole.url, routes: [], amount: 1000, connections: 2, timeoutSec: 10, maxSec: 1 }, { name: 'stuck', method: 'GET', path: '/' });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(r.capped).toBe(true);
      expect(r.total).toBe(0);
    } finally {
      await hole.close();
    }
  });
});
