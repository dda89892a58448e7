// The environment + topology suite, run once per provider (local.test.ts, containers.test.ts):
// real redis-server (process or container), a real Toxiproxy API (embedded or in a container),
// real server nodes, real WebSocket/HTTP clients, all on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTopology, liveChildren, type EnvChoice, type EnvKind, type Topology } from '../../harness/env/index.ts';
import { Client } from '../helpers/client.ts';
import { api } from '../helpers/http.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

/** What the tests pass to every node (the harness assumes none of it). */
export const TEST_SERVER_ENV = { DEBUG_ROUTES: '1', LOG_LEVEL: 'warn', STORE_TIMEOUT_MS: '500' };

async function status(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // refused, reset or no answer
  }
}

async function rtt(c: Client, timeoutMs = 5000): Promise<number> {
  const t0 = performance.now();
  const pong = await c.request({ t: 'ping' }, timeoutMs);
  expect(pong.t).toBe('pong');
  return performance.now() - t0;
}

export interface SuiteHooks {
  /** Extra checks after the topology stopped (e.g. no containers left with the run's label). */
  afterStop?: (topology: Topology) => Promise<void>;
}

export function defineTopologySuite(kind: EnvChoice & EnvKind, enabled: boolean, title: string, hooks: SuiteHooks = {}): void {
  describe.skipIf(!enabled)(title, () => {
    let topo: Topology;
    const tok = (sub: string, dev?: string) => token({ sub, dev, secret: topo.jwtSecret });
    /** Connect and wait for `synced`; a 1013 (store unavailable, try again later) is retried as a client must. */
    const open = async (url: string, sub: string, dev?: string) => {
      for (let attempt = 1; ; attempt++) {
        const c = await Client.open(url, await tok(sub, dev));
        try {
          await c.waitSynced(5000);
          return c;
        } catch (err) {
          if (c.closed?.code !== 1013 || attempt >= 5) throw err;
          const node = topo.nodes.find((n) => url === n.directWsUrl || url === n.proxiedWsUrl);
          process.stderr.write(`[${kind}] ${sub} got 1013 on attempt ${attempt}; retrying. ${node?.id} log:\n${node?.process.tail(8)}\n`);
          await sleep(200);
        }
      }
    };

    beforeAll(async () => {
      topo = await startTopology({ nodes: 2, envChoice: kind, serverEnv: TEST_SERVER_ENV });
    }, 120_000);

    afterAll(async () => {
      Client.terminateAll();
      await topo?.stop({ graceMs: 2000 });
    }, 60_000);

    it('starts Redis (AOF on), a Toxiproxy API, and nodes reachable directly and through their client links', async () => {
      expect(topo.env.kind).toBe(kind);
      expect(String(await topo.redis.command('INFO', 'persistence'))).toMatch(/aof_enabled:1/);
      expect(await topo.redis.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await topo.env.toxiproxy.getVersion()).toMatch(/2\./);
      const proxies = Object.keys(await topo.env.toxiproxy.getAll()).sort();
      expect(proxies).toEqual(['client-link-node-1', 'client-link-node-2', 'redis-link-node-1', 'redis-link-node-2']);
      for (const n of topo.nodes) {
        expect(n.directUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(n.proxiedUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(n.proxiedUrl).not.toBe(n.directUrl);
        // the node's REDIS_URL is its own redis-link proxy
        expect(n.redisUrl).toBe(`redis://127.0.0.1:${n.redisLink!.listen.split(':').pop()}`);
        expect(await status(`${n.directUrl}/readyz`)).toBe(200);
        expect(await status(`${n.proxiedUrl}/readyz`)).toBe(200);
        const c = await open(n.proxiedWsUrl!, 'starter');
        expect(c.frames[0]).toMatchObject({ t: 'welcome', node: n.id });
        c.terminate();
      }
    });

    it('latency on a client link delays a client through that link only, until removed', async () => {
      const [n1] = topo.nodes;
      const viaProxy = await open(n1!.proxiedWsUrl!, 'lat-a');
      const direct = await open(n1!.directWsUrl, 'lat-b');
      expect(await rtt(viaProxy)).toBeLessThan(200);
      const toxic = await topo.addToxic('client-link:node-1', { type: 'latency', attributes: { latency: 400, jitter: 0 } });
      // the toxic acts on the live connection
      expect(await rtt(viaProxy)).toBeGreaterThanOrEqual(390);
      expect(await rtt(direct)).toBeLessThan(200);
      await toxic.remove();
      expect(await rtt(viaProxy)).toBeLessThan(200);
      const ev = topo.timeline.find((e) => e.id === toxic.event.id)!;
      expect(ev).toMatchObject({ kind: 'toxic:latency', target: 'client-link:node-1', detail: { stream: 'downstream', attributes: { latency: 400 } } });
      expect(ev.end).toBeGreaterThanOrEqual(ev.start);
      viaProxy.terminate();
      direct.terminate();
    });

    it('a timeout toxic stalls and then closes a proxied client; a disabled link drops and refuses clients', async () => {
      const n1 = topo.nodes[0]!;
      const c = await open(n1.proxiedWsUrl!, 'to-a');
      const toxic = await topo.addToxic('client-link:node-1', { type: 'timeout', stream: 'upstream', attributes: { timeout: 600 } });
      await expect(c.request({ t: 'ping' }, 400)).rejects.toThrow();
      const closed = await c.waitClose(5000);
      expect(closed.code).toBe(1006);
      await toxic.remove();
      const again = await open(n1.proxiedWsUrl!, 'to-a');
      expect(await rtt(again)).toBeLessThan(200);

      await topo.disableLink('client-link:node-1');
      expect((await again.waitClose(5000)).code).toBe(1006);
      await expect(Client.connect(n1.proxiedWsUrl!)).rejects.toThrow();
      expect(await status(`${n1.directUrl}/readyz`)).toBe(200); // the node itself is fine
      await topo.enableLink('client-link:node-1');
      const back = await open(n1.proxiedWsUrl!, 'to-a');
      expect(await rtt(back)).toBeLessThan(200);
      back.terminate();

      const kinds = topo.timeline.filter((e) => e.target === 'client-link:node-1').map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['toxic:timeout', 'link:disable']));
      expect(topo.faults.open()).toEqual([]);
    });

    it("disabling one node's Redis link makes that node unready while the other stays ready", async () => {
      const [n1, n2] = topo.nodes;
      await topo.disableLink('redis-link:node-2');
      await waitUntil(async () => (await status(`${n2!.directUrl}/readyz`)) === 503, { timeoutMs: 10_000, what: 'node-2 unready' });
      expect(await status(`${n1!.directUrl}/readyz`)).toBe(200);
      await topo.enableLink('redis-link:node-2');
      await waitUntil(async () => (await status(`${n2!.directUrl}/readyz`)) === 200, { timeoutMs: 15_000, what: 'node-2 ready again' });
      const ev = topo.timeline.filter((e) => e.target === 'redis-link:node-2');
      expect(ev.map((e) => e.kind)).toEqual(['link:disable']);
      expect(ev[0]!.end).toBeDefined();
    });

    it('a node kill and restart are seen by clients and recorded on the timeline', async () => {
      const n1 = topo.nodes[0]!;
      const c = await open(n1.directWsUrl, 'kill-a');
      const t0 = Date.now();
      await topo.killNode('node-1');
      expect((await c.waitClose(5000)).code).toBe(1006);
      expect(n1.running).toBe(false);
      expect(await status(`${n1.directUrl}/healthz`)).toBe(0);
      expect(await status(`${n1.proxiedUrl}/healthz`)).toBe(0);
      await topo.restartNode('node-1');
      expect(n1.running).toBe(true);
      // same port: direct and proxied URLs work again
      expect(await status(`${n1.directUrl}/readyz`)).toBe(200);
      const c2 = await open(n1.proxiedWsUrl!, 'kill-a');
      expect(c2.frames[0]).toMatchObject({ t: 'welcome', node: 'node-1' });
      c2.terminate();
      const evs = topo.timeline.filter((e) => e.target === 'node-1' && e.start >= t0);
      expect(evs.map((e) => e.kind)).toEqual(['node:kill', 'node:restart']);
      expect(evs.every((e) => e.end !== undefined && e.end >= e.start)).toBe(true);
    });

    it('a paused node answers nothing until resumed', async () => {
      const n2 = topo.nodes[1]!;
      const c = await open(n2.directWsUrl, 'pause-a');
      await topo.pauseNode('node-2');
      expect(n2.paused).toBe(true);
      const pending = c.request({ t: 'ping' }, 10_000);
      const early = await Promise.race([pending.then(() => 'answered'), sleep(500).then(() => 'silent')]);
      expect(early).toBe('silent');
      await topo.resumeNode('node-2');
      expect((await pending).t).toBe('pong');
      c.terminate();
      const ev = topo.timeline.filter((e) => e.target === 'node-2' && e.kind === 'node:pause');
      expect(ev).toHaveLength(1);
      expect(ev[0]!.end).toBeDefined();
    });

    it('Redis stop/start and kill/start: nodes go unready and recover, stored messages survive, all recorded', async () => {
      const n1 = topo.nodes[0]!;
      const conv = 'dm:rs-a:rs-b';
      const first = await api(n1.directUrl, 'POST', '/v1/messages', { token: await tok('rs-a'), body: { conv, cmid: 'c1', body: 'before stop' } });
      expect(first.status).toBe(201);

      await topo.stopRedis();
      await waitUntil(async () => (await status(`${n1.directUrl}/readyz`)) === 503, { timeoutMs: 10_000, what: 'node-1 unready' });
      await topo.startRedis();
      await waitUntil(async () => (await status(`${n1.directUrl}/readyz`)) === 200, { timeoutMs: 15_000, what: 'node-1 ready' });
      const second = await waitUntil(
        async () => {
          const r = await api(n1.directUrl, 'POST', '/v1/messages', { token: await tok('rs-a'), body: { conv, cmid: 'c2', body: 'before kill' } });
          return r.status === 201 ? r : undefined;
        },
        { timeoutMs: 10_000, what: 'a send after the restart' },
      );
      expect(second.body.seq).toBe(2);

      await topo.killRedis();
      expect(await topo.redis.command('PING').catch(() => 'down')).toBe('down');
      await topo.startRedis();
      const page = await waitUntil(
        async () => {
          const r = await api(n1.directUrl, 'GET', `/v1/conversations/${conv}/messages?after=0`, { token: await tok('rs-b') });
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: 15_000, what: 'history after the Redis kill' },
      );
      expect(page.body.msgs.map((m: { body: string }) => m.body)).toEqual(['before stop', 'before kill']);

      const evs = topo.timeline.filter((e) => e.target === 'redis');
      expect(evs.map((e) => e.kind)).toEqual(['redis:stop', 'redis:kill']);
      expect(evs.every((e) => e.end !== undefined && e.end > e.start)).toBe(true);
    });

    it('a paused Redis answers nothing until resumed; heal() clears every open fault', async () => {
      await topo.pauseRedis();
      await expect(topo.redis.command('PING')).rejects.toThrow();
      await topo.addToxic('redis-link:node-1', { type: 'latency', attributes: { latency: 50 } });
      await topo.disableLink('client-link:node-2');
      expect(topo.faults.open().map((e) => e.kind).sort()).toEqual(['link:disable', 'redis:pause', 'toxic:latency']);
      await topo.heal();
      expect(topo.faults.open()).toEqual([]);
      expect(await topo.redis.command('PING')).toBe('PONG');
      const proxies = (await (await fetch(`${topo.toxiproxyUrl}/proxies`)).json()) as Record<string, { enabled: boolean; toxics: unknown[] }>;
      expect(Object.keys(proxies)).toHaveLength(4);
      for (const p of Object.values(proxies)) {
        expect(p.enabled).toBe(true);
        expect(p.toxics).toEqual([]);
      }
      await waitUntil(async () => (await status(`${topo.nodes[1]!.proxiedUrl}/readyz`)) === 200, { what: 'node-2 through its client link' });
    });

    it('big runs proxy a sample of clients and say so', () => {
      const all = topo.clientLinks(10);
      expect(all.proxied).toBe(10);
      expect(all.note).toMatch(/all 10 clients/);
      const plan = topo.clientLinks(100_000, { maxProxied: 1000 });
      expect(plan.proxied).toBe(1000);
      expect(plan.direct).toBe(99_000);
      expect(plan.note).toMatch(/1000 of 100000 clients .* 2000 proxy file descriptors/);
      expect(plan.wsUrl(0)).toBe(topo.nodes[0]!.proxiedWsUrl);
      expect(plan.wsUrl(1)).toBe(topo.nodes[1]!.directWsUrl);
      expect(plan.wsUrl(100)).toBe(topo.nodes[0]!.proxiedWsUrl);
    });

    it('stop() leaves nothing running', async () => {
      const urls = topo.nodes.map((n) => n.directUrl);
      const redisPort = topo.redis.port;
      const toxiproxyUrl = topo.toxiproxyUrl;
      await topo.stop({ graceMs: 2000 });
      expect(liveChildren()).toBe(0);
      for (const u of urls) expect(await status(`${u}/healthz`)).toBe(0);
      expect(await status(`${toxiproxyUrl}/version`)).toBe(0);
      await expect(topo.redis.command('PING')).rejects.toThrow();
      expect(redisPort).toBeGreaterThan(0);
      await hooks.afterStop?.(topo);
    });
  });
}
