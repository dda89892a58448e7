// MAX_SENDS_IN_FLIGHT on a real node with real Redis behind a real Toxiproxy-API proxy (the
// embedded one): with every Redis answer 300 ms late, 20 clients pipelining 5 sends each put
// at most MAX_SENDS_IN_FLIGHT sends at the store at once (imstorm_sends_in_flight, sampled),
// the rest wait in their sockets (imstorm_send_holds_total), and every send is still answered
// `sent` and delivered to its peer in seq order. `POST /v1/messages` counts against the same
// bound: its requests wait for a slot (at most STORE_TIMEOUT_MS, then 503 and nothing stored).
import { afterEach, describe, expect, it } from 'vitest';
import { connectAs } from '../helpers/cluster.ts';
import type { Client, Frame } from '../helpers/client.ts';
import { dm, uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { startRedis } from '../helpers/redis.ts';
import { startHarness } from '../faults/helpers.ts';
import { api } from '../helpers/http.ts';
import { token } from '../helpers/tokens.ts';
import { waitUntil } from '../helpers/procs.ts';

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

/** A node whose Redis is behind the embedded Toxiproxy; `slowRedis(ms)` makes every answer that late (300 ms by default). */
async function nodeBehindProxy(env: Record<string, number>) {
  const redis = await startRedis();
  cleanups.push(() => redis.cleanup());
  const tp = await startHarness();
  cleanups.push(() => tp.close());
  const proxy = await tp.proxy(`127.0.0.1:${redis.port}`);
  const n = await startNode({ redisUrl: `redis://${proxy.listen}`, env });
  cleanups.push(() => n.kill());
  let toxic: { remove(): Promise<unknown> } | undefined;
  const slowRedis = async (latency = 300) => {
    toxic = await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency, jitter: 0 } } as never);
  };
  const fastRedis = () => toxic!.remove();
  return { n, slowRedis, fastRedis };
}

/** Samples imstorm_sends_in_flight every 20 ms until stopped; resolves to the most it saw. */
function samplePeak(n: NodeHandle): () => Promise<number> {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await metric(n, 'imstorm_sends_in_flight'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    sampling = false;
    await sampler;
    return peak;
  };
}

/** The bodies stored in `conv`, read over HTTP as `user`. */
async function stored(n: NodeHandle, user: string, conv: string): Promise<string[]> {
  const res = await api(n.url, 'GET', `/v1/conversations/${encodeURIComponent(conv)}/messages`, { token: await token({ sub: user }) });
  expect(res.status, res.text).toBe(200);
  return (res.body.msgs as Array<{ body: string }>).map((m) => m.body);
}

describe('MAX_SENDS_IN_FLIGHT: the node bounds the sends waiting for Redis', () => {
  it(`with Redis answering 300 ms late, ${CLIENTS} clients × ${SENDS_EACH} pipelined sends keep at most ${MAX} at Redis, and every send is answered and delivered in seq order`, { timeout: 60_000 }, async () => {
    const { n, slowRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: MAX });

    const senders: Client[] = [];
    const peers: Client[] = [];
    const names = Array.from({ length: CLIENTS }, () => [uid('s'), uid('p')] as const);
    for (const [s, p] of names) {
      senders.push(await connectAs(n, s));
      peers.push(await connectAs(n, p));
    }
    for (const c of [...senders, ...peers]) await c.waitSynced();
    await slowRedis();

    const peakSeen = samplePeak(n);
    const replies = senders.map((c, i) => {
      const conv = dm(names[i]![0], names[i]![1]);
      for (let j = 0; j < SENDS_EACH; j++) c.send({ t: 'send', id: `s${j}`, conv, cmid: `m${j}`, body: `b${j}` });
      return c.waitForCount((f: Frame) => f.t === 'sent' || f.t === 'error', SENDS_EACH, 30_000);
    });
    const answered = await Promise.all(replies);
    const peak = await peakSeen();

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

  it(`POST /v1/messages waits for a slot too: 40 users sending at once over HTTP keep at most ${MAX} at Redis, every send answered 201 and stored`, { timeout: 60_000 }, async () => {
    // 5 rounds of 8 new dms, each 2 round trips of 300 ms: the last wait about 2.4 s, past the default STORE_TIMEOUT_MS
    const { n, slowRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: MAX, STORE_TIMEOUT_MS: 10_000 });
    const pairs = Array.from({ length: 40 }, () => [uid('h'), uid('p')] as const);
    await slowRedis();
    const peakSeen = samplePeak(n);
    const answers = await Promise.all(
      pairs.map(async ([s, p]) => api(n.url, 'POST', '/v1/messages', { token: await token({ sub: s }), body: { conv: dm(s, p), cmid: 'c1', body: `from ${s}` }, timeoutMs: 30_000 })),
    );
    const peak = await peakSeen();
    // unbounded, all 40 would wait for Redis together
    expect(peak, 'the most sends /metrics saw waiting for Redis').toBe(MAX);
    expect(await metric(n, 'imstorm_send_holds_total')).toBeGreaterThan(0);
    expect(await metric(n, 'imstorm_sends_in_flight')).toBe(0);
    for (const [i, res] of answers.entries()) {
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ conv: dm(pairs[i]![0], pairs[i]![1]), seq: 1, cmid: 'c1', dup: false });
    }
    for (const [s, p] of pairs.slice(0, 5)) expect(await stored(n, s, dm(s, p))).toEqual([`from ${s}`]);
  });

  it('an HTTP send that waited STORE_TIMEOUT_MS for a slot is answered 503 unavailable, stored nothing, and goes through when retried', { timeout: 60_000 }, async () => {
    const { n, slowRedis, fastRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1, STORE_TIMEOUT_MS: 1000 });
    const pairs = Array.from({ length: 12 }, () => [uid('h'), uid('p')] as const);
    const tokens = await Promise.all(pairs.map(([s]) => token({ sub: s })));
    const post = (i: number) => api(n.url, 'POST', '/v1/messages', { token: tokens[i], body: { conv: dm(pairs[i]![0], pairs[i]![1]), cmid: 'c1', body: 'once' }, timeoutMs: 30_000 });
    // 150 ms, so a send that got its slot is answered well within STORE_TIMEOUT_MS (two round
    // trips for a new dm) even on a loaded machine, and only the wait for a slot runs out
    await slowRedis(150);
    // one slot, each send ≥ 300 ms at Redis: about 3 fit in the 1 s wait, the rest run out of it
    const answers = await Promise.all(pairs.map((_, i) => post(i)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((st) => st === 201).length, statuses.join(',')).toBeGreaterThan(0);
    const refused = [...answers.keys()].filter((i) => answers[i]!.status !== 201);
    expect(refused.length, statuses.join(',')).toBeGreaterThan(0);
    for (const i of refused) {
      expect(answers[i]!.status, answers[i]!.text).toBe(503);
      expect(answers[i]!.body).toEqual({ code: 'unavailable', message: "no send slot freed within 1000 ms: all MAX_SENDS_IN_FLIGHT (1) of the node's sends wait for the store; retry later" });
    }
    await fastRedis();
    for (const [i, [s, p]] of pairs.entries()) {
      // a refused send was never started: nothing stored; an answered one is stored once
      expect(await stored(n, s, dm(s, p)), s).toEqual(refused.includes(i) ? [] : ['once']);
    }
    // the client retries with the same cmid (PROTOCOL.md: 503 is retryable): stored once, no duplicate
    for (const i of refused) expect((await post(i)).status).toBe(201);
    for (const i of [...answers.keys()]) expect((await post(i)).body, `retry ${i}`).toMatchObject({ seq: 1, dup: true });
    for (const [s, p] of pairs) expect(await stored(n, s, dm(s, p))).toEqual(['once']);
  });

  it("a 503'd HTTP send gives its bucket's token back: with a burst of one, its retry is stored, not refused 429", { timeout: 60_000 }, async () => {
    const { n, slowRedis, fastRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1, STORE_TIMEOUT_MS: 1000, SEND_RATE: 0.01, SEND_BURST: 1 });
    const [a, b] = [uid('h'), uid('p')];
    const [c, d] = [uid('h'), uid('p')];
    // a's send to a new dm holds the one slot for three answers of 600 ms; c's waits 1 s for it
    await slowRedis(600);
    const first = api(n.url, 'POST', '/v1/messages', { token: await token({ sub: a }), body: { conv: dm(a, b), cmid: 'c1', body: 'first' }, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const tok = await token({ sub: c });
    const refused = await api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(c, d), cmid: 'c1', body: 'retried' }, timeoutMs: 30_000 });
    expect(refused.status, refused.text).toBe(503);
    expect((await first).status).toBe(201);
    await fastRedis();
    // c's only token (0.01/s refills one in 100 s) came back with the 503
    const retry = await api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(c, d), cmid: 'c1', body: 'retried' }, timeoutMs: 30_000 });
    expect(retry.status, retry.text).toBe(201);
    expect(await stored(n, c, dm(c, d))).toEqual(['retried']);
    // and it was one token, not more: the next send is over the bucket
    const over = await api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(c, d), cmid: 'c2', body: 'over' }, timeoutMs: 30_000 });
    expect(over.status, over.text).toBe(429);
  });

  it('an HTTP send whose client hangs up while it waits keeps its token spent: with a burst of one, its next send is refused 429', { timeout: 60_000 }, async () => {
    const { n, slowRedis, fastRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1, SEND_RATE: 0.01, SEND_BURST: 1 });
    const [a, b] = [uid('h'), uid('p')];
    const [c, d] = [uid('h'), uid('p')];
    await slowRedis();
    // a's send holds the one slot (two round trips of 300 ms or more); c's waits, then its client gives up
    const first = api(n.url, 'POST', '/v1/messages', { token: await token({ sub: a }), body: { conv: dm(a, b), cmid: 'c1', body: 'kept' }, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const tok = await token({ sub: c });
    const gaveUp = api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(c, d), cmid: 'c1', body: 'abandoned' }, timeoutMs: 150 }).catch((err: unknown) => err);
    expect(String(await gaveUp)).toMatch(/TimeoutError|aborted/);
    expect((await first).status).toBe(201);
    await fastRedis();
    await waitUntil(async () => (await metric(n, 'imstorm_send_waiting_requests')) === 0, { timeoutMs: 5000, what: 'the abandoned request left the queue' });
    const next = await api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(c, d), cmid: 'c2', body: 'next' }, timeoutMs: 30_000 });
    expect(next.status, next.text).toBe(429);
    expect(await stored(n, c, dm(c, d))).toEqual([]);
  });

  it('an HTTP send whose client hangs up while it waits for a slot leaves the queue and is never stored', { timeout: 60_000 }, async () => {
    const { n, slowRedis, fastRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1 });
    const [a, b] = [uid('h'), uid('p')];
    const [c, d] = [uid('h'), uid('p')];
    await slowRedis();
    // a's send holds the one slot for two round trips of 300 ms; c's waits, then its client gives up
    const first = api(n.url, 'POST', '/v1/messages', { token: await token({ sub: a }), body: { conv: dm(a, b), cmid: 'c1', body: 'kept' }, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const gaveUp = api(n.url, 'POST', '/v1/messages', { token: await token({ sub: c }), body: { conv: dm(c, d), cmid: 'c1', body: 'abandoned' }, timeoutMs: 150 }).catch((err: unknown) => err);
    expect(String(await gaveUp)).toMatch(/TimeoutError|aborted/);
    expect((await first).status).toBe(201);
    await fastRedis();
    expect(await metric(n, 'imstorm_send_waiting_requests')).toBe(0);
    expect(await metric(n, 'imstorm_sends_in_flight')).toBe(0);
    expect(await stored(n, c, dm(c, d))).toEqual([]);
    expect(await stored(n, a, dm(a, b))).toEqual(['kept']);
  });

  it('an HTTP send its bucket refuses is answered 429 at once, not after waiting for a slot', { timeout: 60_000 }, async () => {
    const { n, slowRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1, SEND_RATE: 0.01, SEND_BURST: 1 });
    const [a, b] = [uid('h'), uid('p')];
    const tok = await token({ sub: a });
    await slowRedis();
    // a's first send takes the one slot (two round trips of 300 ms) and its bucket's one token
    const t0 = performance.now();
    const first = api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(a, b), cmid: 'c1', body: 'one' }, timeoutMs: 30_000 }).then((r) => ({ r, ms: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 50));
    const t1 = performance.now();
    const second = await api(n.url, 'POST', '/v1/messages', { token: tok, body: { conv: dm(a, b), cmid: 'c2', body: 'two' }, timeoutMs: 30_000 });
    const secondMs = performance.now() - t1;
    expect(second.status, second.text).toBe(429);
    expect(second.body).toMatchObject({ code: 'rate_limited' });
    const { r, ms: firstMs } = await first;
    expect(r.status).toBe(201);
    // waiting for the slot, it would have been answered about when the first was (≥ 600 ms)
    expect(secondMs, `first took ${Math.round(firstMs)} ms`).toBeLessThan(firstMs / 2);
  });

  it('a client held for a slot when its token runs out is not closed 4401: the `auth` it sent behind its held send is answered once the node reads it', { timeout: 90_000 }, async () => {
    // one slot, every Redis answer 300 ms late: 12 clients' sends (two round trips each, for
    // a new dm) take the slot before e's, so e's turn comes 10–15 s on, past its token's exp;
    // STORE_TIMEOUT_MS 20 s makes its grace (2 × that) far longer than the wait
    const { n, slowRedis } = await nodeBehindProxy({ MAX_SENDS_IN_FLIGHT: 1, STORE_TIMEOUT_MS: 20_000 });
    const others = await Promise.all(Array.from({ length: 12 }, async () => {
      const name = uid('s');
      return { name, c: await connectAs(n, name) };
    }));
    const e = uid('e');
    const ec = await connectAs(n, e, undefined, { expInSec: 3 });
    const expBy = Date.now() + 3000;
    for (const o of others) await o.c.waitSynced();
    await ec.waitSynced();
    await slowRedis();
    for (const o of others) o.c.send({ t: 'send', id: 's1', conv: dm(o.name, uid('p')), cmid: 'c1', body: 'b' });
    await new Promise((r) => setTimeout(r, 100));
    ec.send({ t: 'send', id: 'e1', conv: dm(e, uid('p')), cmid: 'c1', body: 'b' });
    ec.send({ t: 'auth', id: 'r1', token: await token({ sub: e }) });
    // its token ran out a sweep round ago (a round is a second) while the node had not read it
    await waitUntil(() => Date.now() > expBy + 1500, { timeoutMs: 10_000, what: "e's exp and a sweep round past" });
    expect(ec.closed, 'e closed while held').toBeUndefined();
    expect(ec.frames.filter((f) => f.id === 'r1'), 'auth answered before its turn').toEqual([]);
    expect(await metric(n, 'imstorm_send_held_connections')).toBeGreaterThan(0);
    expect(await ec.waitFor((f) => f.id === 'r1', 30_000)).toMatchObject({ t: 'ok', id: 'r1' });
    expect(await ec.waitFor((f) => f.id === 'e1', 30_000)).toMatchObject({ t: 'sent', id: 'e1', seq: 1 });
    // refreshed: the sweeps that follow keep it open
    await new Promise((r) => setTimeout(r, 1500));
    expect(ec.closed).toBeUndefined();
    for (const o of others) o.c.terminate();
    ec.terminate();
  });
});
