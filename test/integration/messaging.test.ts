// PROTOCOL.md "Frames from the client/server": send/sent/msg, dedupe, too_large, forbidden,
// ack, read, ordering with senders on two nodes, group join/leave while connected, 4409
// across nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Frame } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { api } from '../helpers/http.ts';
import { dm, range, uid } from '../helpers/ids.ts';
import { checkOrder } from '../helpers/order.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

let cl: Cluster;
let A: NodeHandle;
let B: NodeHandle;

beforeAll(async () => {
  cl = await startCluster({ nodes: 2 });
  A = cl.nodes[0]!;
  B = cl.nodes[1]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

const waitMsg = (c: Client, conv: string, seq: number, timeoutMs = 10_000) =>
  c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === seq, timeoutMs);

async function send(c: Client, conv: string, cmid: string, body = `body of ${cmid}`): Promise<Frame> {
  const r = await c.request({ t: 'send', conv, cmid, body });
  if (r.t !== 'sent') throw new Error(`send ${cmid} answered ${JSON.stringify(r)}`);
  return r;
}

async function convState(node: NodeHandle, sub: string, dev: string | undefined, conv: string) {
  const res = await api(node.url, 'GET', '/v1/conversations', { token: await token({ sub, dev }) });
  expect(res.status).toBe(200);
  return (res.body.convs as Array<Record<string, unknown>>).find((c) => c.conv === conv);
}

async function createGroup(node: NodeHandle, owner: string, members: string[]): Promise<string> {
  const id = uid('g');
  const res = await api(node.url, 'POST', '/v1/groups', { token: await token({ sub: owner }), body: { id, members } });
  expect(res.status, res.text).toBe(201);
  expect(res.body).toEqual({ conv: `g:${id}` });
  return id;
}

describe('send', () => {
  it('answers sent once stored; msg reaches every open connection of every member, the sender\'s own included, on both nodes', async () => {
    const s = uid('s');
    const r = uid('r');
    const x = uid('x');
    const conv = dm(s, r);
    const sA = await connectAs(A, s, 'd1');
    const sB = await connectAs(B, s, 'd2');
    const rA = await connectAs(A, r, 'p');
    const rB = await connectAs(B, r, 'q');
    const outsider = await connectAs(A, x);
    for (const c of [sA, sB, rA, rB, outsider]) await c.waitSynced();

    const sent = await sA.request({ t: 'send', id: 'req-1', conv, cmid: 'm1', body: 'héllo 👋' });
    expect(sent).toMatchObject({ t: 'sent', id: 'req-1', conv, seq: 1, cmid: 'm1', dup: false });
    expect(typeof sent.ts).toBe('number');
    expect(Math.abs(sent.ts - Date.now())).toBeLessThan(10_000);

    for (const c of [sA, sB, rA, rB]) {
      const m = await waitMsg(c, conv, 1);
      expect(m).toMatchObject({ t: 'msg', conv, seq: 1, from: s, cmid: 'm1', body: 'héllo 👋', ts: sent.ts });
    }
    // recipients that were connected before the first dm message: a conv frame just before its first msg
    for (const c of [rA, rB]) {
      const i = c.frames.findIndex((f) => f.t === 'msg' && f.conv === conv);
      const before = c.frames[i - 1];
      expect(before, c.describe()).toMatchObject({ t: 'conv', conv, cursor: 0 });
      expect(typeof before!.epoch).toBe('string');
      expect(typeof before!.head).toBe('number');
    }

    const sent2 = await send(rB, conv, 'reply-1', 'hi back');
    expect(sent2.seq).toBe(2);
    for (const c of [sA, sB, rA, rB]) expect(await waitMsg(c, conv, 2)).toMatchObject({ from: r, cmid: 'reply-1', body: 'hi back' });
    for (const c of [sA, sB, rA, rB]) {
      const { problems } = checkOrder(c.frames);
      expect(problems, c.describe()).toEqual([]);
      expect(c.msgs(conv).map((m) => m.seq)).toEqual([1, 2]);
    }
    // the sending connection gets both `sent` and `msg`
    expect(sA.frames.some((f) => f.t === 'sent' && f.id === 'req-1')).toBe(true);
    expect(outsider.frames.filter((f) => f.t === 'msg')).toEqual([]);
  });

  it('the same cmid from the same sender in the same conversation stores nothing new and answers the first seq with dup:true', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const sA = await connectAs(A, s, 'd1');
    const sB = await connectAs(B, s, 'd2');
    const rA = await connectAs(A, r);
    const first = await send(sA, conv, 'same');
    expect(first).toMatchObject({ seq: 1, dup: false });
    const again = await sA.request({ t: 'send', conv, cmid: 'same', body: 'a different body' });
    expect(again).toMatchObject({ t: 'sent', conv, seq: 1, cmid: 'same', dup: true });
    const viaB = await sB.request({ t: 'send', conv, cmid: 'same', body: 'from the other node' });
    expect(viaB).toMatchObject({ t: 'sent', seq: 1, cmid: 'same', dup: true });
    expect(await send(sA, conv, 'next')).toMatchObject({ seq: 2, dup: false });
    // cmids are per sender: the other member may use the same one
    expect(await send(rA, conv, 'same')).toMatchObject({ seq: 3, dup: false });
    // and per conversation
    const other = dm(s, uid('o'));
    expect(await send(sA, other, 'same')).toMatchObject({ conv: other, seq: 1, dup: false });

    await waitMsg(rA, conv, 3);
    expect(rA.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(rA.msgs(conv)[0]!.body).toBe('body of same');
    const page = await rA.request({ t: 'history', conv });
    expect(page.msgs.map((m: Frame) => [m.seq, m.from, m.cmid])).toEqual([
      [1, s, 'same'],
      [2, s, 'next'],
      [3, r, 'same'],
    ]);
  });

  it('body size is its UTF-8 byte length: MAX_BODY_BYTES is accepted, one byte more is too_large', async () => {
    const s = uid('s');
    const conv = dm(s, uid('r'));
    const c = await connectAs(A, s);
    expect(c.welcome.maxBodyBytes).toBe(16384);
    expect(await send(c, conv, 'exact', 'x'.repeat(16384))).toMatchObject({ seq: 1 });
    expect(await send(c, conv, 'exact-utf8', `${'€'.repeat(5461)}x`)).toMatchObject({ seq: 2 }); // 16383 + 1 bytes
    const tooBig = await c.request({ t: 'send', id: 'big', conv, cmid: 'over', body: '€'.repeat(5462) }); // 16386 bytes, 5462 chars
    expect(tooBig).toMatchObject({ t: 'error', id: 'big', code: 'too_large', retryable: false });
    const tooBig2 = await c.request({ t: 'send', conv, cmid: 'over2', body: 'x'.repeat(16385) });
    expect(tooBig2).toMatchObject({ t: 'error', code: 'too_large' });
    // nothing was stored for them
    expect(await send(c, conv, 'after', 'ok')).toMatchObject({ seq: 3 });
  });

  it('forbidden for a non-member: send, history, ack, read; a group that does not exist is refused', async () => {
    const a = uid('a');
    const b = uid('b');
    const x = uid('x');
    const conv = dm(a, b);
    const ca = await connectAs(A, a);
    await send(ca, conv, 'm1');
    const cx = await connectAs(B, x);
    for (const frame of [
      { t: 'send', conv, cmid: 'intrude', body: 'hi' },
      { t: 'history', conv },
      { t: 'ack', conv, seq: 1 },
      { t: 'read', conv, seq: 1 },
    ]) {
      const reply = await cx.request(frame);
      expect(reply, JSON.stringify(frame)).toMatchObject({ t: 'error', code: 'forbidden', retryable: false });
    }
    const gid = uid('nog');
    const reply = await cx.request({ t: 'send', conv: `g:${gid}`, cmid: 'c1', body: 'x' });
    expect(reply.t).toBe('error');
    expect(['forbidden', 'not_found']).toContain(reply.code);
    expect(reply.retryable).toBe(false);
    const page = await ca.request({ t: 'history', conv });
    expect(page.msgs.map((m: Frame) => m.cmid)).toEqual(['m1']);
  });
});

describe('ack', () => {
  it('answers ok only with an id; the cursor is cumulative, clamped to the head and never goes back', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    for (let i = 1; i <= 3; i++) await send(cs, conv, `m${i}`);
    const cr = await connectAs(B, r, 'dev1');
    await cr.waitSynced();
    expect(cr.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3]);

    // without an id: no reply at all
    const from = cr.received.length;
    cr.send({ t: 'ack', conv, seq: 2 });
    await cr.request({ t: 'ping', id: 'after-ack' });
    expect(cr.received.slice(from).map((r) => r.frame.t)).toEqual(['pong']);
    await waitUntil(async () => (await convState(A, r, 'dev1', conv))?.cursor === 2, { what: 'cursor 2', timeoutMs: 10_000 });

    // above the head: ok, cursor clamped to the head (3)
    expect(await cr.request({ t: 'ack', id: 'ack-high', conv, seq: 1000 })).toEqual({ t: 'ok', id: 'ack-high' });
    const st = await waitUntil(async () => {
      const c = await convState(A, r, 'dev1', conv);
      return c && c.cursor !== 2 ? c : undefined;
    }, { what: 'cursor to move past 2' });
    expect(st).toMatchObject({ conv, head: 3, cursor: 3 });
    expect(typeof st.epoch).toBe('string');

    // backwards: ok, but the cursor stays
    expect(await cr.request({ t: 'ack', id: 'ack-low', conv, seq: 1 })).toEqual({ t: 'ok', id: 'ack-low' });
    cr.close();
    await cr.waitClose();
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      expect((await convState(B, r, 'dev1', conv))?.cursor).toBe(3);
      await sleep(250);
    }
    // the cursor is per device: another device of r still starts at 0
    expect((await convState(A, r, 'dev2', conv))?.cursor).toBe(0);
  });
});

describe('read', () => {
  it('the user\'s other connections receive read (not the sending one); forward only, clamped to the head', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    for (let i = 1; i <= 3; i++) await send(cs, conv, `m${i}`);
    const p = await connectAs(A, r, 'p');
    const q = await connectAs(B, r, 'q');
    const w = await connectAs(A, r, 'w');
    for (const c of [p, q, w]) await c.waitSynced();

    expect(await p.request({ t: 'read', id: 'rd1', conv, seq: 2 })).toEqual({ t: 'ok', id: 'rd1' });
    for (const c of [q, w]) expect(await c.waitFor((f) => f.t === 'read')).toEqual({ t: 'read', conv, seq: 2 });
    await waitUntil(async () => (await convState(B, r, 'q', conv))?.read === 2, { what: 'read 2 in GET /v1/conversations' });

    expect(await p.request({ t: 'read', id: 'rd2', conv, seq: 1 })).toEqual({ t: 'ok', id: 'rd2' }); // backwards: no effect
    expect(await p.request({ t: 'read', id: 'rd3', conv, seq: 1000 })).toEqual({ t: 'ok', id: 'rd3' }); // clamped to 3
    for (const c of [q, w]) await c.waitFor((f) => f.t === 'read' && f.seq !== 2);
    const st = await waitUntil(async () => {
      const c = await convState(A, r, 'w', conv);
      return c && c.read !== 2 ? c : undefined;
    }, { what: 'read to move past 2' });
    expect(st.read).toBe(3);
    for (const c of [q, w]) expect(c.frames.filter((f) => f.t === 'read').map((f) => f.seq)).toEqual([2, 3]);
    await p.request({ t: 'ping' });
    expect(p.frames.filter((f) => f.t === 'read')).toEqual([]);
  });
});

describe('ordering', () => {
  it('senders on two nodes at once into one group: every connection sees 1..N in order, once', async () => {
    const s1 = uid('s');
    const s2 = uid('s');
    const r1 = uid('r');
    const r2 = uid('r');
    const gid = await createGroup(A, s1, [s2, r1, r2]);
    const conv = `g:${gid}`;
    const c1 = await connectAs(A, s1);
    const c2 = await connectAs(B, s2);
    const cr1 = await connectAs(A, r1);
    const cr2 = await connectAs(B, r2);
    const all = [c1, c2, cr1, cr2];
    for (const c of all) await c.waitSynced();
    const N = 40;
    const fire = (c: Client, tag: string) => Promise.all(range(1, N).map((i) => send(c, conv, `${tag}-${i}`, `${tag} ${i}`)));
    const [sent1, sent2] = await Promise.all([fire(c1, 'a'), fire(c2, 'b')]);
    const bySeq = new Map<number, string>();
    for (const s of [...sent1, ...sent2]) {
      expect(bySeq.has(s.seq), `seq ${s.seq} answered twice`).toBe(false);
      bySeq.set(s.seq, s.cmid);
    }
    expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(range(1, 2 * N));
    // per sender, seqs rise in the order its requests were answered for the same connection
    for (const c of all) {
      await c.waitForCount((f) => f.t === 'msg' && f.conv === conv, 2 * N, 20_000);
      const { problems } = checkOrder(c.frames);
      expect(problems, c.describe()).toEqual([]);
      const msgs = c.msgs(conv);
      expect(msgs.map((m) => m.seq)).toEqual(range(1, 2 * N));
      for (const m of msgs) expect(m.cmid).toBe(bySeq.get(m.seq));
    }
  });
});

describe('group membership while connected', () => {
  it('a join gets a conv frame just before its first msg and messages from the join on; a leave gets nothing after it', async () => {
    const o = uid('o');
    const m = uid('m');
    const j = uid('j');
    const gid = await createGroup(A, o, [m]);
    const conv = `g:${gid}`;
    const co = await connectAs(A, o);
    const cm = await connectAs(B, m);
    const cj = await connectAs(B, j, 'j1');
    const cj2 = await connectAs(A, j, 'j2');
    for (const c of [co, cm, cj, cj2]) await c.waitSynced();
    for (let i = 1; i <= 3; i++) await send(co, conv, `before-${i}`);

    const add = await api(A.url, 'POST', `/v1/groups/${gid}/members`, { token: await token({ sub: o }), body: { users: [j] } });
    expect(add.status, add.text).toBe(200);
    await send(co, conv, 'after-1');
    await send(co, conv, 'after-2');
    for (const c of [cj, cj2]) {
      await waitMsg(c, conv, 5);
      const msgs = c.msgs(conv);
      expect(msgs.map((x) => x.seq), c.describe()).toEqual([4, 5]);
      const i = c.frames.findIndex((f) => f.t === 'msg' && f.conv === conv);
      expect(c.frames[i - 1], c.describe()).toMatchObject({ t: 'conv', conv, cursor: 3 });
      expect(c.frames[i - 1]!.head).toBeGreaterThanOrEqual(3);
    }

    const del = await api(B.url, 'DELETE', `/v1/groups/${gid}/members/${j}`, { token: await token({ sub: o }) });
    expect(del.status, del.text).toBe(200);
    await send(co, conv, 'gone-1');
    await send(co, conv, 'gone-2');
    await waitMsg(cm, conv, 7);
    // barrier: a dm sent after the group messages reached j's connections
    const barrier = dm(o, j);
    await send(co, barrier, 'barrier');
    for (const c of [cj, cj2]) {
      await waitMsg(c, barrier, 1);
      expect(c.msgs(conv).map((x) => x.seq)).toEqual([4, 5]);
    }
    const h = await cj.request({ t: 'history', conv });
    expect(h).toMatchObject({ t: 'error', code: 'forbidden' });
    expect(cm.msgs(conv).map((x) => x.seq)).toEqual(range(1, 7));
  });
});

describe('group membership while a device is offline', () => {
  it('a device offline while its user is removed still gets, at its next connect, what was stored while the user was a member — and nothing after', async () => {
    const o = uid('o');
    const m = uid('m');
    const gid = await createGroup(A, o, [m]);
    const conv = `g:${gid}`;
    const co = await connectAs(A, o);
    const phone = await connectAs(B, m, 'phone');
    await send(co, conv, 'one');
    await waitMsg(phone, conv, 1);
    expect(await phone.request({ t: 'ack', conv, seq: 1 })).toMatchObject({ t: 'ok' });
    phone.close();
    await phone.waitClose();
    await send(co, conv, 'two');
    await send(co, conv, 'three');
    const del = await api(A.url, 'DELETE', `/v1/groups/${gid}/members/${m}`, { token: await token({ sub: o }) });
    expect(del.status, del.text).toBe(200);
    await send(co, conv, 'after-leave');

    // the phone (cursor 1) comes back: seqs 2 and 3, stored while m was a member, and not 4
    const back = await connectAs(B, m, 'phone');
    await back.waitSynced();
    expect(back.frames.find((f) => f.t === 'conv' && f.conv === conv)).toMatchObject({ cursor: 1 });
    expect(back.msgs(conv).map((x) => x.seq)).toEqual([2, 3]);
    // a device that never connected gets all three; one that had everything gets nothing
    const tablet = await connectAs(A, m, 'tablet');
    await tablet.waitSynced();
    expect(tablet.msgs(conv).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(await back.request({ t: 'ack', conv, seq: 3 })).toMatchObject({ t: 'ok' });
    back.close();
    await back.waitClose();
    await send(co, conv, 'later');
    const again = await connectAs(B, m, 'phone');
    await again.waitSynced();
    await sleep(300);
    expect(again.frames.filter((f) => f.conv === conv)).toEqual([]);
    // and the group is not listed as the user's any more
    const convs = await api(A.url, 'GET', '/v1/conversations', { token: await token({ sub: m, dev: 'tablet' }) });
    expect((convs.body.convs as Frame[]).map((c) => c.conv)).not.toContain(conv);
  });
});

describe('device replacement across nodes', () => {
  it('a second connection of the same device on another node closes the first with 4409; only the new one gets messages', async () => {
    const u = uid('u');
    const s = uid('s');
    const conv = dm(s, u);
    const old = await connectAs(A, u, 'phone');
    const fresh = await connectAs(B, u, 'phone');
    expect((await old.waitClose()).code).toBe(4409);
    const cs = await connectAs(A, s);
    await send(cs, conv, 'hello');
    await waitMsg(fresh, conv, 1);
    expect(old.msgs(conv)).toEqual([]);
  });
});

describe('DEDUPE_TTL_MS', () => {
  it('a cmid is remembered for DEDUPE_TTL_MS: a repeat within it is dup, one after it stores a new message', async () => {
    const C = await cl.addNode({ DEDUPE_TTL_MS: 1500 });
    const s = uid('s');
    const conv = dm(s, uid('r'));
    const c = await connectAs(C, s);
    expect(await c.request({ t: 'send', conv, cmid: 'ttl', body: 'x' })).toMatchObject({ t: 'sent', seq: 1, dup: false });
    expect(await c.request({ t: 'send', conv, cmid: 'ttl', body: 'x' })).toMatchObject({ t: 'sent', seq: 1, dup: true });
    await sleep(2500);
    expect(await c.request({ t: 'send', conv, cmid: 'ttl', body: 'x' })).toMatchObject({ t: 'sent', seq: 2, dup: false });
  });
});
