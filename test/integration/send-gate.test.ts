// MAX_SENDS_IN_FLIGHT on a real node with real Redis behind a real Toxiproxy-API proxy (the
// embedded one): with every Redis answer 300 ms late, 20 clients pipelining 5 sends each put
// at most MAX_SENDS_IN_FLIGHT sends at the store at once (imstorm_sends_in_flight, sampled),
// the rest wait in their sockets (imstorm_send_holds_total), and every send is still answered
// `sent` and delivered to its peer in seq order.
import { afterEach, describe, expect, it } from 'vitest';
import { connectAs } from '../helpers/cluster.ts';
import type { Client, Frame } from '../helpers/client.ts';
import { dm, uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { startRedis } from '../helpers/redis.ts';
import { startHarness } from '../faults/helpers.ts';

const MAX = 8;
const CLIENTS = 20;
const SENDS_EACH = 5;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function metric(n: NodeHandle, name: string): Promise<number> {
  const text = await (await fetch(`${n.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`/metrics has no ${name}`);
  return Number(line.split(' ')[1]);
}

describe('MAX_SENDS_IN_FLIGHT: the node bounds the sends waiting for Redis', () => {
  it(`with Redis answering 300 ms late, ${CLIENTS} clients × ${SENDS_EACH} pipelined sends keep at most ${MAX} at Redis, and every send is answered and delivered in seq order`, { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const tp = await startHarness();
    cleanups.push(() => tp.close());
    const proxy = await tp.proxy(`127.0.0.1:${redis.port}`);
    const n = await startNode({ redisUrl: `redis://${proxy.listen}`, env: { MAX_SENDS_IN_FLIGHT: MAX } });
    cleanups.push(() => n.kill());

    const senders: Client[] = [];
    const peers: Client[] = [];
    const names = Array.from({ length: CLIENTS }, () => [uid('s'), uid('p')] as const);
    for (const [s, p] of names) {
      senders.push(await connectAs(n, s));
      peers.push(await connectAs(n, p));
    }
    for (const c of [...senders, ...peers]) await c.waitSynced();
    await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } } as never);

    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await metric(n, 'imstorm_sends_in_flight'));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const replies = senders.map((c, i) => {
      const conv = dm(names[i]![0], names[i]![1]);
      for (let j = 0; j < SENDS_EACH; j++) c.send({ t: 'send', id: `s${j}`, conv, cmid: `m${j}`, body: `b${j}` });
      return c.waitForCount((f: Frame) => f.t === 'sent' || f.t === 'error', SENDS_EACH, 30_000);
    });
    const answered = await Promise.all(replies);
    sampling = false;
    await sampler;

    // unbounded, all 100 would wait for Redis together (each client may have 32 requests in flight)
    expect(peak, 'the most sends /metrics saw waiting for Redis').toBe(MAX);
    expect(await metric(n, 'imstorm_send_holds_total')).toBeGreaterThan(0);
    expect(await metric(n, 'imstorm_sends_in_flight')).toBe(0);
    expect(await metric(n, 'imstorm_send_held_connections')).toBe(0);
    for (const [i, frames] of answered.entries()) {
      // every send answered `sent`, once, with seqs 1..5. PROTOCOL.md does not order a
      // connection's pipelined sends among themselves: here the dm is new, and a send that
      // finds it not yet indexed takes a second round trip, so a later one may be stored first
      expect(frames.every((f) => f.t === 'sent'), names[i]![0]).toBe(true);
      expect(frames.map((f) => f.cmid).sort(), names[i]![0]).toEqual(Array.from({ length: SENDS_EACH }, (_, j) => `m${j}`));
      expect(frames.map((f) => Number(f.seq)).sort((x, y) => x - y), names[i]![0]).toEqual(Array.from({ length: SENDS_EACH }, (_, j) => j + 1));
      // delivered, in seq order (guarantee 3), each body under the seq its sender was answered
      const conv = dm(names[i]![0], names[i]![1]);
      const got = await peers[i]!.waitForCount((f: Frame) => f.t === 'msg' && f.conv === conv, SENDS_EACH, 30_000);
      const bodyOf = new Map(frames.map((f) => [f.seq, `b${String(f.cmid).slice(1)}`]));
      expect(got.map((f) => [f.seq, f.body])).toEqual([...bodyOf].sort((x, y) => Number(x[0]) - Number(y[0])));
    }
    for (const c of [...senders, ...peers]) c.terminate();
  });
});
