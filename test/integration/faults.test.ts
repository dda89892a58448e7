// PROTOCOL.md "Durability" and "Guarantees" under faults: Redis killed and restarted with
// AOF, a node SIGKILLed, one node's Redis link cut/stalled, a volatile Redis restarted
// empty (new epoch), SIGTERM drain, and refusing / waiting for an unfit Redis.
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type Frame } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { api } from '../helpers/http.ts';
import { dm, range, uid } from '../helpers/ids.ts';
import { checkOrder } from '../helpers/order.ts';
import { freePort, killAll, sleep, waitUntil } from '../helpers/procs.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { redisBehindRelay, type Relay } from '../helpers/relay.ts';
import { token } from '../helpers/tokens.ts';
import { readyzStatus } from '../../harness/util/http-call.ts';
import { startHarness } from '../faults/helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  Client.terminateAll();
  await killAll();
});

async function cluster(opts: Parameters<typeof startCluster>[0]): Promise<Cluster> {
  const cl = await startCluster(opts);
  cleanups.push(() => cl.cleanup());
  return cl;
}

const readyz = (node: NodeHandle): Promise<number> => readyzStatus(node.url, 3000);

const waitReadyz = (node: NodeHandle, status: number, timeoutMs = 20_000) =>
  waitUntil(async () => (await readyz(node)) === status, { what: `${node.nodeId} /readyz ${status}`, timeoutMs, intervalMs: 100 });

const waitMsg = (c: Client, conv: string, seq: number, timeoutMs = 15_000) =>
  c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === seq, timeoutMs);

async function presenceOf(node: NodeHandle, user: string) {
  const res = await api(node.url, 'GET', `/v1/presence?users=${user}`, { token: await token({ sub: uid('asker') }) });
  return res.body?.users?.[user] as { status: string; v: number } | undefined;
}

/** All messages of `conv` through HTTP history, oldest first. */
async function allMessages(node: NodeHandle, sub: string, conv: string): Promise<{ epoch: string; msgs: Frame[] }> {
  const t = await token({ sub });
  const msgs: Frame[] = [];
  let after = 0;
  let epoch = '';
  for (;;) {
    const res = await api(node.url, 'GET', `/v1/conversations/${conv}/messages?after=${after}&limit=100`, { token: t });
    expect(res.status, res.text).toBe(200);
    epoch = res.body.epoch;
    msgs.push(...res.body.msgs);
    if (!res.body.more || res.body.msgs.length === 0) return { epoch, msgs };
    after = res.body.msgs.at(-1).seq;
  }
}

/**
 * Sends cmids one after another, retrying each with the same cmid on unavailable /
 * internal / no answer / a closed connection (reconnecting), as PROTOCOL.md Guarantee 2 allows.
 */
function resilientSender(node: NodeHandle, sub: string, conv: string, cmids: string[]) {
  const results = new Map<string, number>();
  const errors: string[] = [];
  let c: Client | undefined;
  const run = (async () => {
    for (const cmid of cmids) {
      for (;;) {
        try {
          if (!c || !c.isOpen) c = await connectAs(node, sub, 'resilient');
          const r = await c.request({ t: 'send', conv, cmid, body: `resilient ${cmid}` }, 5000);
          if (r.t === 'sent') {
            results.set(cmid, r.seq);
            break;
          }
          errors.push(r.code);
          if (!r.retryable) throw new Error(`non-retryable answer ${JSON.stringify(r)}`);
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('non-retryable')) throw err;
          errors.push('no-answer');
        }
        await sleep(150);
      }
      await sleep(50);
    }
  })();
  return { results, errors, run };
}

describe('Redis killed mid-traffic and restarted with its AOF', () => {
  it('answers unavailable while down (readyz 503, hello 1013), recovers by itself; one cmid stores once; seqs continue', async () => {
    const cl = await cluster({ nodes: 2, env: { STORE_TIMEOUT_MS: 1000 } });
    const [A, B] = [cl.nodes[0]!, cl.nodes[1]!];
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s, 'main');
    let cr = await connectAs(B, r);
    for (let i = 1; i <= 5; i++) expect(await cs.request({ t: 'send', conv, cmid: `p${i}`, body: 'x' })).toMatchObject({ t: 'sent', seq: i });
    await waitMsg(cr, conv, 5);

    const traffic = resilientSender(A, s, conv, range(1, 25).map((i) => `l${i}`));
    await waitUntil(() => traffic.results.size >= 3, { what: 'traffic flowing' });

    await cl.redis.kill();
    const probeAt = Date.now();
    const probe = await cs.request({ t: 'send', id: 'probe-1', conv, cmid: 'probe', body: 'during the outage' }, 15_000);
    expect(probe).toMatchObject({ t: 'error', id: 'probe-1', code: 'unavailable', retryable: true });
    expect(Date.now() - probeAt).toBeLessThan(1000 + 4000);

    await waitReadyz(A, 503, 10_000);
    await waitReadyz(B, 503, 10_000);
    const health = await api(A.url, 'GET', '/healthz');
    expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
    const viaHttp = await api(B.url, 'POST', '/v1/messages', { token: await token({ sub: s }), body: { conv, cmid: 'http-down', body: 'x' }, timeoutMs: 15_000 });
    expect(viaHttp.status, viaHttp.text).toBe(503);
    expect(viaHttp.body).toMatchObject({ code: 'unavailable' });
    const late = await Client.connect(B.wsUrl);
    late.send({ t: 'hello', v: 1, token: await token({ sub: uid('late') }) });
    const lateErr = await late.waitFor((f) => f.t === 'error' || f.t === 'welcome', 15_000);
    expect(lateErr).toMatchObject({ t: 'error', code: 'unavailable', retryable: true });
    expect((await late.waitClose()).code).toBe(1013);

    await cl.redis.restart();
    await waitReadyz(A, 200);
    await waitReadyz(B, 200);
    const retried = await waitUntil(async () => {
      const rep = await cs.request({ t: 'send', conv, cmid: 'probe', body: 'during the outage' }, 5000);
      return rep.t === 'sent' ? rep : undefined;
    }, { what: 'probe retry to be stored', timeoutMs: 15_000, intervalMs: 200 });
    const again = await cs.request({ t: 'send', conv, cmid: 'probe', body: 'during the outage' });
    expect(again).toMatchObject({ t: 'sent', seq: retried.seq, dup: true });
    await traffic.run;
    const final = await cs.request({ t: 'send', conv, cmid: 'final', body: 'x' });
    expect(final.t).toBe('sent');

    // every cmid stored exactly once, no hole, seqs continuing from before the outage
    const { msgs } = await allMessages(A, s, conv);
    const head = final.seq as number;
    expect(msgs.map((m) => m.seq)).toEqual(range(1, head));
    const cmids = msgs.map((m) => m.cmid);
    expect(new Set(cmids).size).toBe(cmids.length);
    const expected = ['p1', 'p2', 'p3', 'p4', 'p5', 'probe', 'final', ...range(1, 25).map((i) => `l${i}`)];
    for (const c of expected) expect(cmids, c).toContain(c);
    for (const c of cmids) expect([...expected, 'http-down']).toContain(c); // the 503 one may or may not have taken effect
    for (const [cmid, seq] of traffic.results) expect(msgs[seq - 1]!.cmid).toBe(cmid);
    expect(msgs.slice(0, 5).map((m) => m.cmid)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);

    // the receiver gets everything: live if its connection stayed open, else from its backlog
    if (cr.isOpen) {
      await waitMsg(cr, conv, head, 20_000);
      expect(checkOrder(cr.frames).problems).toEqual([]);
      expect(new Set(cr.msgs(conv).map((m) => m.seq))).toEqual(new Set(range(1, head)));
    } else {
      cr = await connectAs(B, r);
      await cr.waitSynced();
      await waitMsg(cr, conv, head);
      expect(checkOrder(cr.frames).problems).toEqual([]);
    }
  });
});

describe('a node killed with SIGKILL', () => {
  it(`its users go offline within PRESENCE_TTL_MS plus a sweep; messages wait in the backlog; it restarts as a new incarnation`, async () => {
    const PRESENCE_TTL_MS = 3000;
    const cl = await cluster({ nodes: 2, env: { PRESENCE_TTL_MS } });
    const [A, B] = [cl.nodes[0]!, cl.nodes[1]!];
    const u = uid('u');
    const s = uid('s');
    const conv = dm(s, u);
    const w = await connectAs(A, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [u] })).t).toBe('ok');
    const cu = await connectAs(B, u);
    await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'online');
    const onlineV = Math.max(...w.frames.filter((f) => f.t === 'presence' && f.user === u).map((f) => f.v as number));

    const killedAt = Date.now();
    await B.kill();
    const off = await w.waitForReceived((f) => f.t === 'presence' && f.user === u && f.status === 'offline' && f.v > onlineV, PRESENCE_TTL_MS + 8000);
    expect(off.at - killedAt).toBeLessThanOrEqual(PRESENCE_TTL_MS + 1000 + 1000); // TTL + one sweep (+1 s of test slack)
    expect((await cu.waitClose()).code).toBe(1006);
    expect(await presenceOf(A, u)).toMatchObject({ status: 'offline' });

    const cs = await connectAs(A, s);
    for (let i = 1; i <= 3; i++) expect((await cs.request({ t: 'send', conv, cmid: `m${i}`, body: 'x' })).t).toBe('sent');

    await B.restart();
    const back = await connectAs(B, u);
    expect(back.welcome.node).toBe(B.nodeId);
    await back.waitSynced();
    expect(back.frames.find((f) => f.t === 'conv')).toMatchObject({ conv, cursor: 0, head: 3 });
    expect(back.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3]);
    const on = await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'online' && f.v > off.frame.v);
    expect(on.v).toBeGreaterThan(off.frame.v);
  });
});

/** A Redis, node A on it directly, node B through a relay that cuts or stalls B's Redis link (bus and commands). */
async function relayedPair(): Promise<{ redis: RedisHandle; relay: Relay; A: NodeHandle; B: NodeHandle }> {
  const { redis, relay } = await redisBehindRelay(cleanups);
  const env = { STORE_TIMEOUT_MS: 1000 };
  const A = await startNode({ redisUrl: redis.url, env });
  const B = await startNode({ redisUrl: relay.url, env });
  cleanups.push(() => A.kill(), () => B.kill());
  return { redis, relay, A, B };
}

describe("one node's Redis link cut or stalled", () => {
  it('the last message sent meanwhile still arrives live on that node\'s connection, without reconnect', async () => {
    const { A, B, relay } = await relayedPair();
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cr = await connectAs(B, r);
    const cs = await connectAs(A, s);
    expect((await cs.request({ t: 'send', conv, cmid: 'm1', body: 'x' })).t).toBe('sent');
    await waitMsg(cr, conv, 1);

    // cut: B loses Redis; A keeps storing
    relay.cut();
    await waitReadyz(B, 503, 10_000);
    const duringCut = await cr.request({ t: 'send', conv, cmid: 'from-b', body: 'x' }, 15_000);
    expect(duringCut).toMatchObject({ t: 'error', code: 'unavailable', retryable: true });
    let last = 1;
    for (let i = 2; i <= 4; i++) {
      const rep = await cs.request({ t: 'send', conv, cmid: `m${i}`, body: 'x' });
      expect(rep.t).toBe('sent');
      expect(rep.seq).toBeGreaterThan(last);
      last = rep.seq;
    }
    relay.restore();
    await waitReadyz(B, 200);
    await waitMsg(cr, conv, last, 15_000);

    // stall: B's link stops moving but stays open
    relay.stall();
    await waitReadyz(B, 503, 10_000);
    for (let i = 5; i <= 6; i++) {
      const rep = await cs.request({ t: 'send', conv, cmid: `m${i}`, body: 'x' });
      expect(rep.t).toBe('sent');
      expect(rep.seq).toBeGreaterThan(last);
      last = rep.seq;
    }
    await sleep(1500);
    relay.restore();
    await waitMsg(cr, conv, last, 15_000);

    expect(cr.closed).toBeUndefined();
    expect(cr.frames.filter((f) => f.t === 'welcome')).toHaveLength(1);
    expect(checkOrder(cr.frames).problems).toEqual([]);
    expect(cr.msgs(conv).map((m) => m.seq)).toEqual(range(1, last));
    // B stores again (the cmid answered unavailable during the cut may or may not have taken effect)
    await waitReadyz(B, 200);
    const retry = await waitUntil(async () => {
      const rep = await cr.request({ t: 'send', conv, cmid: 'from-b', body: 'x' }, 5000);
      return rep.t === 'sent' ? rep : undefined;
    }, { what: 'B to store again', timeoutMs: 15_000, intervalMs: 200 });
    if (!retry.dup) expect(retry.seq).toBe(last + 1);
    const { msgs } = await allMessages(A, s, conv);
    expect(msgs.map((m) => m.seq)).toEqual(range(1, Math.max(last, retry.seq)));
    expect(msgs.filter((m) => m.cmid === 'from-b')).toHaveLength(1);
  });
});

describe("a member removed while its node's bus link is down", () => {
  it('gets nothing stored after the removal once the link is back (the lost leave is read from the store), and everything before it', async () => {
    const { A, B, relay } = await relayedPair();
    const [owner, member, stays] = [uid('o'), uid('m'), uid('s')];
    const group = uid('g');
    const conv = `g:${group}`;
    const created = await api(A.url, 'POST', '/v1/groups', { token: await token({ sub: owner }), body: { id: group, members: [member, stays] } });
    expect(created.status, created.text).toBe(201);
    const co = await connectAs(A, owner);
    const cm = await connectAs(B, member);
    const cs = await connectAs(B, stays);
    for (const c of [co, cm, cs]) await c.waitFor((f) => f.t === 'synced');
    expect((await co.request({ t: 'send', conv, cmid: 'before', body: 'x' })).t).toBe('sent');
    await waitMsg(cm, conv, 1);
    await waitMsg(cs, conv, 1);

    // B loses Redis (its bus with it); the owner removes the member through A, then writes
    relay.cut();
    await waitReadyz(B, 503, 10_000);
    const removed = await api(A.url, 'DELETE', `/v1/groups/${group}/members/${member}`, { token: await token({ sub: owner }) });
    expect(removed.body).toMatchObject({ removed: true });
    expect((await co.request({ t: 'send', conv, cmid: 'during', body: 'secret 1' })).seq).toBe(2);
    relay.restore();
    await waitReadyz(B, 200);
    expect((await co.request({ t: 'send', conv, cmid: 'after', body: 'secret 2' })).seq).toBe(3);
    // the member who stays on the same node gets both, live; by then B has resynced
    await waitMsg(cs, conv, 3, 15_000);
    await sleep(300);
    expect(cm.msgs(conv).map((m) => m.seq), cm.describe()).toEqual([1]);
    expect(cs.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(checkOrder(cs.frames).problems).toEqual([]);
  });
});

describe("a device replaced, and a user gone offline, while a node's bus link is down", () => {
  it('once the link is back, that node closes the replaced connection 4409 and its subscribers learn the newer presence', async () => {
    const { A, B, relay } = await relayedPair();
    const [mover, leaver, watcher] = [uid('m'), uid('l'), uid('w')];
    const old = await connectAs(B, mover, 'phone');
    const gone = await connectAs(A, leaver);
    const w = await connectAs(B, watcher);
    for (const c of [old, gone, w]) await c.waitFor((f) => f.t === 'synced');
    w.send({ t: 'presence.sub', id: 's1', users: [leaver] });
    await w.waitFor((f) => f.t === 'presence' && f.user === leaver && f.status === 'online');

    relay.cut();
    await waitReadyz(B, 503, 10_000);
    // the same device connects to A (B misses the 4409 on the bus); the leaver goes offline (B misses it)
    const fresh = await connectAs(A, mover, 'phone');
    await fresh.waitFor((f) => f.t === 'synced');
    gone.terminate();
    await waitUntil(async () => (await presenceOf(A, leaver))?.status === 'offline', { what: 'leaver offline', timeoutMs: 10_000, intervalMs: 100 });
    await sleep(200);
    expect(old.closed).toBeUndefined();
    relay.restore();
    await waitReadyz(B, 200);
    await waitUntil(() => old.closed !== undefined, { what: 'the replaced connection on B to close', timeoutMs: 10_000, intervalMs: 50 });
    expect(old.closed!.code).toBe(4409);
    const off = await w.waitFor((f) => f.t === 'presence' && f.user === leaver && f.status === 'offline', 10_000);
    const on = w.frames.find((f) => f.t === 'presence' && f.user === leaver && f.status === 'online')!;
    expect(off.v).toBeGreaterThan(on.v);
    expect(fresh.closed).toBeUndefined();
  });
});

describe('a node cut from Redis for longer than PRESENCE_TTL_MS', () => {
  it('its users go offline (swept by another node), then online again under a new lease when the link returns; the connection stays open', async () => {
    const { redis, relay } = await redisBehindRelay(cleanups);
    const env = { PRESENCE_TTL_MS: 2000, STORE_TIMEOUT_MS: 500 };
    const A = await startNode({ redisUrl: redis.url, env });
    const B = await startNode({ redisUrl: relay.url, env });
    cleanups.push(() => A.kill(), () => B.kill());
    const u = uid('u');
    const w = await connectAs(A, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [u] })).t).toBe('ok');
    const cu = await connectAs(B, u);
    await cu.waitSynced();
    const on = await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'online');

    relay.cut();
    const off = await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'offline' && f.v > on.v, 10_000);
    relay.restore();
    const back = await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'online' && f.v > off.v, 15_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nnode B:\n${B.tail(30)}`);
    });
    expect(back.v).toBeGreaterThan(off.v);
    // it stays online: no later sweep of the old lease generation takes it away again
    await sleep(3000);
    const last = w.frames.filter((f) => f.t === 'presence' && f.user === u).sort((a, b) => b.v - a.v)[0]!;
    expect(last.status).toBe('online');
    expect(cu.closed).toBeUndefined();
    const p = await api(A.url, 'GET', `/v1/presence?users=${u}`, { token: await token({ sub: uid('q') }) });
    expect(p.body.users[u].status).toBe('online');
  });
});

describe('a volatile Redis (appendonly no, ALLOW_VOLATILE_STORE=1) restarted empty', () => {
  it('announces a new epoch in a conv frame; sends, backlog, history and presence carry on', async () => {
    const cl = await cluster({ nodes: 2, redis: { appendonly: false }, env: { ALLOW_VOLATILE_STORE: 1, STORE_TIMEOUT_MS: 1000 } });
    const [A, B] = [cl.nodes[0]!, cl.nodes[1]!];
    // logged loudly (warn or above)
    await A.waitForLog((l) => typeof l.json?.level === 'number' && (l.json.level as number) >= 40 && /volatile|appendonly|aof|persist/i.test(l.text));

    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const w = await connectAs(A, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [r] })).t).toBe('ok');
    const cs = await connectAs(A, s);
    let cr = await connectAs(B, r, 'd1');
    await w.waitFor((f) => f.t === 'presence' && f.user === r && f.status === 'online');
    const vBefore = Math.max(...w.frames.filter((f) => f.t === 'presence' && f.user === r).map((f) => f.v as number));
    for (let i = 1; i <= 3; i++) expect((await cs.request({ t: 'send', conv, cmid: `old${i}`, body: 'x' })).t).toBe('sent');
    await waitMsg(cr, conv, 3);
    const oldEpoch = cr.frames.find((f) => f.t === 'conv' && f.conv === conv)!.epoch as string;
    expect(await cr.request({ t: 'ack', conv, seq: 3 })).toMatchObject({ t: 'ok' });
    const mark = cr.received.length;

    await cl.redis.kill();
    await waitReadyz(A, 503, 10_000);
    await cl.redis.restart();
    expect(await cl.redis.command('DBSIZE')).toBe(0);
    await waitReadyz(A, 200);
    await waitReadyz(B, 200);

    const first = await waitUntil(async () => {
      const rep = await cs.request({ t: 'send', conv, cmid: 'new1', body: 'after the loss' }, 5000);
      return rep.t === 'sent' ? rep : undefined;
    }, { what: 'a send after the restart', timeoutMs: 15_000, intervalMs: 200 });
    expect(first.seq).toBe(1);

    if (cr.isOpen) {
      // the open connection: a conv frame with the new epoch before the next msg
      const m = await cr.waitFor((f) => f.t === 'msg' && f.conv === conv && f.cmid === 'new1', 15_000, mark);
      expect(m.seq).toBe(1);
      const frames = cr.frames.slice(mark);
      const i = frames.indexOf(m);
      const convFrame = frames.slice(0, i).reverse().find((f) => f.t === 'conv' && f.conv === conv);
      expect(convFrame, cr.describe()).toBeDefined();
      expect(convFrame!.epoch).not.toBe(oldEpoch);
      expect(convFrame!.cursor).toBe(0);
      expect(m.cmid).toBe('new1');
      cr.close();
      await cr.waitClose();
    }
    // a message stored while d1 is away
    expect(await cs.request({ t: 'send', conv, cmid: 'new2', body: 'x' })).toMatchObject({ t: 'sent', seq: 2 });
    // the same device reconnecting: its cursor (3) was taken in the old epoch and counts as 0
    cr = await connectAs(B, r, 'd1');
    await cr.waitSynced();
    const cf = cr.frames.find((f) => f.t === 'conv' && f.conv === conv);
    expect.soft(cf, `reconnect after the epoch change: ${cr.describe()}`).toMatchObject({ cursor: 0, head: 2 });
    expect.soft(cf?.epoch).not.toBe(oldEpoch);
    expect.soft(cr.msgs(conv).map((m) => m.cmid)).toEqual(['new1', 'new2']);
    // a device that never connected before
    const d2 = await connectAs(A, r, 'd2');
    await d2.waitSynced();
    const cf2 = d2.frames.find((f) => f.t === 'conv' && f.conv === conv);
    expect(cf2).toMatchObject({ cursor: 0, head: 2 });
    expect(cf2!.epoch).not.toBe(oldEpoch);
    expect(d2.msgs(conv).map((m) => m.cmid)).toEqual(['new1', 'new2']);
    const page = await d2.request({ t: 'history', conv });
    expect(page).toMatchObject({ t: 'page', epoch: cf2!.epoch });
    expect(page.msgs.map((m: Frame) => m.cmid)).toEqual(['new1', 'new2']);
    expect(await cs.request({ t: 'send', conv, cmid: 'new3', body: 'x' })).toMatchObject({ t: 'sent', seq: 3 });
    expect(await waitMsg(cr, conv, 3)).toMatchObject({ cmid: 'new3' });
    expect(await waitMsg(d2, conv, 3)).toMatchObject({ cmid: 'new3' });

    // presence: r is online again (re-registered) and v never went back
    const p = await waitUntil(async () => {
      const x = await presenceOf(A, r);
      return x?.status === 'online' ? x : undefined;
    }, { what: 'r online after the restart' });
    expect(p.v).toBeGreaterThanOrEqual(vBefore);
    const newest = w.frames.filter((f) => f.t === 'presence' && f.user === r).sort((a, b) => b.v - a.v)[0]!;
    expect(newest.status).toBe('online');
  });
});

describe('SIGTERM', () => {
  it('closes every connection 1001 spread over DRAIN_MS, flushes cursors, deregisters, exits 0', async () => {
    const DRAIN_MS = 2000;
    const cl = await cluster({ nodes: 2, nodeEnv: [{ DRAIN_MS }, {}] });
    const [A, B] = [cl.nodes[0]!, cl.nodes[1]!];
    const users = [uid('u'), uid('u'), uid('u')];
    const s = uid('s');
    const conv = dm(s, users[0]!);
    const w = await connectAs(B, uid('w'));
    expect((await w.request({ t: 'presence.sub', users })).t).toBe('ok');
    const conns = await Promise.all(users.map((u) => connectAs(A, u, 'dev')));
    for (const u of users) await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'online');
    const cs = await connectAs(B, s);
    expect((await cs.request({ t: 'send', conv, cmid: 'a', body: 'x' })).t).toBe('sent');
    expect((await cs.request({ t: 'send', conv, cmid: 'b', body: 'x' })).t).toBe('sent');
    await waitMsg(conns[0]!, conv, 2);
    conns[0]!.send({ t: 'ack', conv, seq: 2 }); // coalesced, not yet flushed
    await conns[0]!.request({ t: 'ping' });

    const t0 = Date.now();
    const code = await A.stop();
    expect(code).toBe(0);
    const closes = await Promise.all(conns.map((c) => c.waitClose()));
    for (const c of closes) expect(c.code).toBe(1001);
    const times = closes.map((c) => c.at - t0).sort((a, b) => a - b);
    expect(times[0]!).toBeLessThan(1000); // the first at once
    expect(times.at(-1)!).toBeLessThan(DRAIN_MS + 2000);
    expect(Date.now() - t0).toBeLessThan(DRAIN_MS + 5000);

    // deregistered: offline now, not after a presence TTL (30 s by default)
    for (const u of users) await w.waitFor((f) => f.t === 'presence' && f.user === u && f.status === 'offline', 5000);
    const res = await api(B.url, 'GET', '/v1/conversations', { token: await token({ sub: users[0]!, dev: 'dev' }) });
    expect(res.body.convs.find((c: Frame) => c.conv === conv)).toMatchObject({ cursor: 2 });
    await expect(fetch(`${A.url}/healthz`)).rejects.toThrow();
  });

  it('with a slow Redis link (every answer 1.2 s late, under STORE_TIMEOUT_MS), 40 connections holding acks exit within DRAIN_MS plus a few STORE_TIMEOUT_MS — flushes batched and in parallel, not one slow round trip per connection (issue 8 item 11)', async () => {
    const DRAIN_MS = 1000;
    const STORE_TIMEOUT_MS = 2000;
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    // the node reaches Redis through a Toxiproxy-API proxy (the embedded one), real toxics
    const tp = await startHarness();
    cleanups.push(() => tp.close());
    const proxy = await tp.proxy(`127.0.0.1:${redis.port}`);
    const A = await startNode({ redisUrl: `redis://${proxy.listen}`, env: { DRAIN_MS, STORE_TIMEOUT_MS } });
    cleanups.push(() => A.kill());
    const s = uid('s');
    const users = Array.from({ length: 40 }, () => uid('u'));
    const conns = await Promise.all(users.map((u) => connectAs(A, u, 'dev')));
    for (const c of conns) await c.waitFor((f) => f.t === 'synced');
    const cs = await connectAs(A, s);
    for (const [i, u] of users.entries()) {
      expect((await cs.request({ t: 'send', conv: dm(s, u), cmid: `m${i}`, body: 'x' })).t).toBe('sent');
      await waitMsg(conns[i]!, dm(s, u), 1);
    }
    await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1200, jitter: 0 } } as never);
    // live channels: the acks need no store read, so each connection holds one unflushed
    for (const [i, c] of conns.entries()) c.send({ t: 'ack', conv: dm(s, users[i]!), seq: 1 });
    await sleep(100);
    const t0 = Date.now();
    const code = await A.stop(60_000);
    const took = Date.now() - t0;
    expect(code, A.tail()).toBe(0);
    // one at a time this would be 40 × 1.2 s
    expect(took, `shutdown took ${took} ms`).toBeLessThan(DRAIN_MS + 2 * STORE_TIMEOUT_MS + 2000);
    // and the acks were written on the way out: every device's cursor is at 1
    const B = await startNode({ redisUrl: redis.url });
    cleanups.push(() => B.kill());
    for (const u of users) {
      const res = await api(B.url, 'GET', '/v1/conversations', { token: await token({ sub: u, dev: 'dev' }) });
      expect(res.body.convs.find((c: Frame) => c.conv === dm(s, u)), u).toMatchObject({ cursor: 1 });
    }
  });

  it('with Redis not answering, still exits 0 within DRAIN_MS plus a few STORE_TIMEOUT_MS — not one store timeout per connection (issue 8 item 11)', async () => {
    const DRAIN_MS = 1000;
    const STORE_TIMEOUT_MS = 500;
    const cl = await cluster({ nodes: 1, env: { DRAIN_MS, STORE_TIMEOUT_MS } });
    const A = cl.nodes[0]!;
    const s = uid('s');
    const users = Array.from({ length: 40 }, () => uid('u'));
    const conns = await Promise.all(users.map((u) => connectAs(A, u)));
    for (const c of conns) await c.waitFor((f) => f.t === 'synced');
    const cs = await connectAs(A, s);
    for (const [i, u] of users.entries()) {
      expect((await cs.request({ t: 'send', conv: dm(s, u), cmid: `m${i}`, body: 'x' })).t).toBe('sent');
      await waitMsg(conns[i]!, dm(s, u), 1);
    }
    // Redis stops answering, then every connection acks (live channels: no store read), so
    // each holds an ack whose flush can only time out — 40 × STORE_TIMEOUT_MS one at a time
    cl.redis.pause();
    try {
      await Promise.all(conns.map((c, i) => c.request({ t: 'ack', id: `a${i}`, conv: dm(s, users[i]!), seq: 1 })));
      const t0 = Date.now();
      const code = await A.stop();
      const took = Date.now() - t0;
      expect(code, A.tail()).toBe(0);
      expect(took).toBeLessThan(DRAIN_MS + 6 * STORE_TIMEOUT_MS + 2000);
      for (const c of conns) expect((await c.waitClose()).code).toBe(1001);
    } finally {
      cl.redis.resume();
    }
  });
});

describe('an unfit or unreachable Redis', () => {
  async function expectNeverReady(redisUrl: string, env: Record<string, string | number> = {}): Promise<void> {
    let node: NodeHandle;
    try {
      node = await startNode({ redisUrl, env, waitReady: false, timeoutMs: 10_000 });
    } catch (err) {
      // refusing to start at all is also a refusal
      expect(String(err)).toMatch(/exited \(([1-9]\d*)\)/);
      return;
    }
    cleanups.push(() => node.kill());
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const st = await readyz(node);
      expect(st).not.toBe(200);
      if (!node.running) {
        expect(node.process.exitCode).not.toBe(0);
        return;
      }
      await sleep(200);
    }
    expect(await readyz(node)).toBe(503);
    // and no client gets in
    const c = await Client.connect(node.wsUrl).catch(() => undefined);
    if (c) {
      c.send({ t: 'hello', v: 1, token: await token({ sub: uid() }) });
      const f = await c.waitFor((x) => x.t === 'welcome' || x.t === 'error', 10_000).catch(() => undefined);
      expect(f?.t).not.toBe('welcome');
    }
  }

  it('refuses a Redis without appendonly when ALLOW_VOLATILE_STORE is not set', async () => {
    const redis = await startRedis({ appendonly: false });
    cleanups.push(() => redis.cleanup());
    await expectNeverReady(redis.url);
  });

  it('refuses a Redis whose maxmemory-policy is not noeviction', async () => {
    const redis = await startRedis({ maxmemoryPolicy: 'allkeys-lru' });
    cleanups.push(() => redis.cleanup());
    await expectNeverReady(redis.url);
  });

  it('a Redis whose configuration turns unfit under running nodes makes them unready, saying why — they do not exit — and ready again once fixed', async () => {
    const cl = await cluster({ nodes: 2 });
    const [A, B] = cl.nodes as [NodeHandle, NodeHandle];
    await cl.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    for (const n of [A, B]) await waitReadyz(n, 503, 15_000);
    const res = await fetch(`${A.url}/readyz`);
    expect(await res.json()).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Redis is not fit to run on: .*maxmemory-policy is allkeys-lru/) });
    expect(A.running && B.running).toBe(true);
    await cl.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    for (const n of [A, B]) await waitReadyz(n, 200, 15_000);
  });

  it('waits, not ready, while Redis is unreachable, and becomes ready by itself once it answers', async () => {
    const port = await freePort();
    const node = await startNode({ redisUrl: `redis://127.0.0.1:${port}`, waitReady: false, env: { STORE_TIMEOUT_MS: 1000 } });
    cleanups.push(() => node.kill());
    const h = await api(node.url, 'GET', '/healthz');
    expect([h.status, h.body]).toEqual([200, { status: 'ok' }]);
    expect(await readyz(node)).toBe(503);
    await sleep(1500);
    expect(node.running).toBe(true);
    expect(await readyz(node)).toBe(503);
    const redis = await startRedis({ port });
    cleanups.push(() => redis.cleanup());
    await waitReadyz(node, 200, 20_000);
    const c = await connectAs(node, uid());
    expect((await c.request({ t: 'ping' })).t).toBe('pong');
  });
});
