// Issue 8 item 2, "Unthrottled, unpaced requests": a client that pipelines requests and
// stops reading must not grow the node's memory or delay other users; every request type
// has a budget; replies are paced by the socket draining. Real redis-server, real nodes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { dm } from '../helpers/ids.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

let cl: Cluster;

beforeAll(async () => {
  cl = await startCluster({ nodes: 0 });
});
afterAll(async () => {
  await cl?.cleanup();
});

function rssBytes(n: NodeHandle): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${n.process.pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function metric(n: NodeHandle, line: RegExp): Promise<number> {
  const text = await (await fetch(`${n.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').at(-1)) : 0;
}

/** A raw WebSocket that completed the handshake and then stopped reading (its socket paused). */
async function nonReader(n: NodeHandle, sub: string): Promise<WebSocket> {
  const ws = new WebSocket(n.wsUrl);
  ws.on('error', () => {});
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  ws.send(JSON.stringify({ t: 'hello', v: 1, token: await token({ sub }) }));
  await new Promise<void>((res) => {
    const onMsg = (d: WebSocket.RawData) => {
      if (String(d).includes('"synced"')) {
        ws.off('message', onMsg);
        res();
      }
    };
    ws.on('message', onMsg);
  });
  ws.pause();
  return ws;
}

/** A bystander's sends, one after another: each send→sent latency, or the error code it got. */
async function bystanderSends(n: NodeHandle, sub: string, count: number): Promise<{ latencies: number[]; errors: string[] }> {
  const c = cl.track(await connectAs(n, sub));
  const latencies: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const r = await c.request({ t: 'send', conv: dm(sub, `${sub}-peer`), cmid: `b${i}`, body: 'hello' }, 10_000);
    latencies.push(performance.now() - t0);
    if (r.t !== 'sent') errors.push(String(r.code));
    await sleep(20);
  }
  c.terminate();
  return { latencies, errors };
}

describe('item 2: a client that pipelines requests and never reads', () => {
  it('history pages are paced by the socket draining: the node stays small, other users stay fast, the reader is cut by the heartbeat', async () => {
    const n = await cl.addNode({ HEARTBEAT_MS: 3000 });
    const seeder = cl.track(await connectAs(n, 'hoarder', 'seed'));
    const conv = dm('hoarder', 'hoarded');
    // 100 messages of 16,000 characters: a page of `limit: 100` is ~1.6 MB
    const body = 'x'.repeat(16_000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => seeder.request({ t: 'send', conv, cmid: `h${i}`, body }, 20_000)));
    seeder.terminate();

    const before = rssBytes(n);
    const ws = await nonReader(n, 'hoarder');
    // 300 pages unpaced would be ~480 MB in the node's memory
    for (let i = 0; i < 300; i++) ws.send(JSON.stringify({ t: 'history', id: `p${i}`, conv, limit: 100 }));
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(n))), 50);
    const sends = await bystanderSends(n, 'bystander', 40);
    await sleep(500);
    clearInterval(sampler);

    expect(sends.errors, 'a bystander\'s sends answered with errors while one client hoarded history').toEqual([]);
    expect(Math.max(...sends.latencies), `bystander send→sent latencies: ${sends.latencies.map(Math.round).join(' ')}`).toBeLessThan(1000);
    expect(peak - before, `node RSS grew from ${before} to ${peak} bytes`).toBeLessThan(100 * 1024 * 1024);
    // the hoarder neither reads nor gets its frames read: the heartbeat (2 × 3 s) cuts it
    await waitUntil(async () => (await metric(n, /^imstorm_closes_total\{code="4408"\}/)) >= 1 || null, { timeoutMs: 10_000, what: 'a 4408 close of the non-reading hoarder' });
    expect(n.running, n.tail()).toBe(true);
    ws.terminate();
  });
});

describe('item 2: WebSocket ping floods', () => {
  it('a client that floods pings and never reads does not grow the node by the pongs it is owed', async () => {
    const n = await cl.addNode({ HEARTBEAT_MS: 3000 });
    const ws = await nonReader(n, 'pinger');
    const before = rssBytes(n);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(n))), 50);
    // 400k pings of 125 bytes (the most a control frame carries): ~50 MB of pongs owed
    const payload = Buffer.alloc(125, 7);
    for (let i = 0; i < 400_000; i++) ws.ping(payload);
    await sleep(3000);
    clearInterval(sampler);
    expect(peak - before, `node RSS grew from ${before} to ${peak} bytes`).toBeLessThan(25 * 1024 * 1024);
    expect(n.running, n.tail()).toBe(true);
    ws.terminate();
  });
});

describe('item 2: per-frame-type budgets hold a connection back instead of letting it flood the store', () => {
  it('`read` marks (a store write and a bus message each) start at most 50 at once and then 20 a second; each is answered once', async () => {
    const n = await cl.addNode();
    const c = cl.track(await connectAs(n, 'marker'));
    const conv = dm('marker', 'marked');
    await c.request({ t: 'send', conv, cmid: 'm0', body: 'x' });
    const t0 = Date.now();
    for (let i = 0; i < 120; i++) c.send({ t: 'read', id: `r${i}`, conv, seq: 1 });
    await sleep(1000);
    const oks = () => c.frames.filter((f) => f.t === 'ok' && String(f.id).startsWith('r')).length;
    const inFirstSecond = oks();
    // 50 at once, 20 more within the second (a little slack for the timer)
    expect(inFirstSecond, 'read marks answered within the first second').toBeLessThanOrEqual(75);
    expect(inFirstSecond).toBeGreaterThanOrEqual(50);
    await c.waitForCount((f) => f.t === 'ok' && String(f.id).startsWith('r'), 120, 10_000);
    const elapsed = Date.now() - t0;
    // (120 - 50) / 20 = 3.5 s at the budget's rate
    expect(elapsed).toBeGreaterThanOrEqual(3000);
    const ids = c.frames.filter((f) => f.t === 'ok' || f.t === 'error').map((f) => f.id);
    expect(new Set(ids).size, 'a request answered twice').toBe(ids.length);
    c.terminate();
  });

  it('`presence.sub` re-reading the same 1000 users over and over is paced at 2000 users a second', async () => {
    const n = await cl.addNode();
    const c = cl.track(await connectAs(n, 'watcher'));
    const users = Array.from({ length: 1000 }, (_, i) => `w${i}`);
    for (let i = 0; i < 10; i++) c.send({ t: 'presence.sub', id: `s${i}`, users });
    await sleep(1000);
    const frames = c.frames.filter((f) => f.t === 'presence').length;
    // unpaced: 10,000 store reads and frames at once; paced: a 2000 burst and 2000 more a second
    expect(frames, 'presence frames within the first second').toBeLessThanOrEqual(4000 + 500);
    await c.waitForCount((f) => f.t === 'ok' && String(f.id).startsWith('s'), 10, 15_000);
    c.terminate();
  });
});
