// PROTOCOL.md "Connect" steps 3, 4, 6 and the `history` frame: backlog on connect (conv,
// msgs, gap, synced), cursors per device, BACKLOG_LIMIT gaps filled by history, retention
// (RETENTION_MAX_MSGS, RETENTION_MS) giving trimmed gaps, and the HTTP messages route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Frame } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { api } from '../helpers/http.ts';
import { dm, range, uid } from '../helpers/ids.ts';
import { checkOrder } from '../helpers/order.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

const BACKLOG_LIMIT = 5;

async function send(c: Client, conv: string, cmid: string, body = `body of ${cmid}`): Promise<Frame> {
  const r = await c.request({ t: 'send', conv, cmid, body });
  if (r.t !== 'sent') throw new Error(`send ${cmid} answered ${JSON.stringify(r)}`);
  return r;
}

async function sendMany(c: Client, conv: string, n: number, tag = 'm'): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 1; i <= n; i++) out.push(await send(c, conv, `${tag}${i}`));
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const seqs = (msgs: Array<Record<string, any>>): number[] => msgs.map((m) => m.seq as number);

/** Frames after welcome up to and including synced. */
async function backlog(c: Client): Promise<Frame[]> {
  await c.waitSynced();
  const i = c.frames.findIndex((f) => f.t === 'synced');
  return c.frames.slice(1, i + 1);
}

async function convState(node: NodeHandle, sub: string, dev: string | undefined, conv: string) {
  const res = await api(node.url, 'GET', '/v1/conversations', { token: await token({ sub, dev }) });
  expect(res.status).toBe(200);
  return (res.body.convs as Array<Record<string, unknown>>).find((c) => c.conv === conv);
}

describe(`history and backlog (BACKLOG_LIMIT=${BACKLOG_LIMIT})`, () => {
  let cl: Cluster;
  let A: NodeHandle;
  beforeAll(async () => {
    cl = await startCluster({ env: { BACKLOG_LIMIT } });
    A = cl.nodes[0]!;
  });
  afterAll(async () => {
    await cl?.cleanup();
  });

  it('history: neither, after, before, both; limit bounds; more; page fields', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    const sent = await sendMany(cs, conv, 12);
    const cr = await connectAs(A, r);
    await cr.waitSynced();
    const epoch = cr.frames.find((f) => f.t === 'conv' && f.conv === conv)?.epoch;
    expect(typeof epoch).toBe('string');

    const h = (q: Record<string, unknown>) => cr.request({ t: 'history', conv, ...q });
    const page = await h({ id: 'h-1', limit: 5 });
    expect(page).toMatchObject({ t: 'page', id: 'h-1', conv, epoch, more: true });
    expect(seqs(page.msgs)).toEqual([8, 9, 10, 11, 12]);
    expect(page.msgs[0]).toEqual({ seq: 8, from: s, cmid: 'm8', body: 'body of m8', ts: sent[7]!.ts });

    const cases: Array<[Record<string, unknown>, number[], boolean]> = [
      [{}, range(1, 12), false], // default limit 50
      [{ limit: 1 }, [12], true],
      [{ limit: 100 }, range(1, 12), false],
      [{ after: 3, limit: 4 }, [4, 5, 6, 7], true],
      [{ after: 10, limit: 5 }, [11, 12], false],
      [{ after: 0, limit: 12 }, range(1, 12), false],
      [{ after: 12 }, [], false],
      [{ before: 5, limit: 2 }, [3, 4], true],
      [{ before: 3, limit: 10 }, [1, 2], false],
      [{ before: 1 }, [], false],
      [{ before: 13, limit: 3 }, [10, 11, 12], true],
      [{ after: 2, before: 9, limit: 3 }, [3, 4, 5], true],
      [{ after: 2, before: 9, limit: 10 }, [3, 4, 5, 6, 7, 8], false],
      [{ after: 2, before: 9, limit: 6 }, [3, 4, 5, 6, 7, 8], false],
      [{ after: 4, before: 5 }, [], false],
    ];
    for (const [q, want, more] of cases) {
      const p = await h(q);
      expect(p.t, JSON.stringify(q)).toBe('page');
      expect(seqs(p.msgs), JSON.stringify(q)).toEqual(want);
      expect(p.more, JSON.stringify(q)).toBe(more);
    }
    for (const limit of [0, 101, -1, 1.5, '5', null]) {
      const e = await h({ limit });
      expect(e, `limit ${JSON.stringify(limit)}`).toMatchObject({ t: 'error', code: 'bad_request', retryable: false });
    }
  });

  it('GET /v1/conversations/{conv}/messages: same semantics over HTTP, members only', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 7);
    const tok = await token({ sub: r });
    const get = (q: string) => api(A.url, 'GET', `/v1/conversations/${conv}/messages${q}`, { token: tok });
    const a = await get('?after=2&limit=3');
    expect(a.status, a.text).toBe(200);
    expect(typeof a.body.epoch).toBe('string');
    expect(seqs(a.body.msgs)).toEqual([3, 4, 5]);
    expect(a.body.more).toBe(true);
    expect(a.body.msgs[0]).toMatchObject({ seq: 3, from: s, cmid: 'm3', body: 'body of m3' });
    const b = await get('?before=3');
    expect([seqs(b.body.msgs), b.body.more]).toEqual([[1, 2], false]);
    const c = await get('?after=1&before=7&limit=2');
    expect([seqs(c.body.msgs), c.body.more]).toEqual([[2, 3], true]);
    const d = await get('');
    expect([seqs(d.body.msgs), d.body.more]).toEqual([range(1, 7), false]);
    const e = await get('?limit=3');
    expect([seqs(e.body.msgs), e.body.more]).toEqual([[5, 6, 7], true]);
    // percent-encoded conversation id in the path
    const f = await api(A.url, 'GET', `/v1/conversations/${encodeURIComponent(conv)}/messages?after=6`, { token: tok });
    expect([f.status, seqs(f.body?.msgs ?? [])]).toEqual([200, [7]]);

    const bad = await get('?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'bad_request' });
    expect(typeof bad.body.message).toBe('string');
    const bad2 = await get('?limit=101');
    expect(bad2.status).toBe(400);
    const outsider = await api(A.url, 'GET', `/v1/conversations/${conv}/messages`, { token: await token({ sub: uid('x') }) });
    expect(outsider.status).toBe(403);
    expect(outsider.body).toMatchObject({ code: 'forbidden' });
    const anon = await api(A.url, 'GET', `/v1/conversations/${conv}/messages`);
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ code: 'unauthorized' });
  });

  it('backlog on connect: per conversation a conv frame (epoch, cursor, head) then its msgs in order; synced once after all', async () => {
    const r = uid('r');
    const s1 = uid('s');
    const s2 = uid('s');
    const c1 = await connectAs(A, s1);
    const c2 = await connectAs(A, s2);
    const conv1 = dm(s1, r);
    const conv2 = dm(s2, r);
    await sendMany(c1, conv1, 3, 'a');
    await sendMany(c2, conv2, 2, 'b');
    const gid = uid('g');
    const created = await api(A.url, 'POST', '/v1/groups', { token: await token({ sub: s1 }), body: { id: gid, members: [r] } });
    expect(created.status).toBe(201);
    const gconv = `g:${gid}`;
    await send(c1, gconv, 'g1');

    const cr = await connectAs(A, r);
    const frames = await backlog(cr);
    expect(cr.frames[0]!.t).toBe('welcome');
    expect(frames.at(-1)).toEqual({ t: 'synced' });
    const { problems, convs } = checkOrder(frames);
    expect(problems).toEqual([]);
    const expectConv = (conv: string, head: number) => {
      const t = convs.get(conv);
      expect(t, `${conv} in ${cr.describe(30)}`).toBeDefined();
      expect(t!.convFrames).toHaveLength(1);
      expect(t!.convFrames[0]).toMatchObject({ t: 'conv', conv, cursor: 0, head });
      expect(typeof t!.convFrames[0]!.epoch).toBe('string');
      expect(t!.seqs).toEqual(range(1, head));
      // the conv frame precedes every msg of that conversation
      const ci = frames.indexOf(t!.convFrames[0]!);
      expect(frames.findIndex((f) => f.t === 'msg' && f.conv === conv)).toBe(ci + 1);
    };
    expectConv(conv1, 3);
    expectConv(conv2, 2);
    expectConv(gconv, 1);
    expect(frames.filter((f) => f.t === 'msg')).toHaveLength(6);
    expect(frames[0]!.t).toBe('conv');

    // live after the backlog, and synced only once
    await send(c1, conv1, 'a4');
    expect(await cr.waitFor((f) => f.t === 'msg' && f.conv === conv1 && f.seq === 4)).toMatchObject({ cmid: 'a4' });
    expect(cr.frames.filter((f) => f.t === 'synced')).toHaveLength(1);
    expect(checkOrder(cr.frames).problems).toEqual([]);
  });

  it('resumes from the device cursor; a conversation with nothing to send has no conv frame; each device has its own cursor', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 5);

    let cr = await connectAs(A, r, 'dev1');
    await cr.waitSynced();
    expect(seqs(cr.msgs(conv))).toEqual(range(1, 5));
    expect(await cr.request({ t: 'ack', conv, seq: 2 })).toMatchObject({ t: 'ok' });
    await waitUntil(async () => (await convState(A, r, 'dev1', conv))?.cursor === 2, { what: 'cursor 2' });
    cr.close();
    await cr.waitClose();

    cr = await connectAs(A, r, 'dev1');
    let frames = await backlog(cr);
    expect(frames[0]).toMatchObject({ t: 'conv', conv, cursor: 2, head: 5 });
    expect(seqs(cr.msgs(conv))).toEqual([3, 4, 5]);
    expect(await cr.request({ t: 'ack', conv, seq: 5 })).toMatchObject({ t: 'ok' });
    await waitUntil(async () => (await convState(A, r, 'dev1', conv))?.cursor === 5, { what: 'cursor 5' });
    cr.close();
    await cr.waitClose();

    cr = await connectAs(A, r, 'dev1');
    frames = await backlog(cr);
    expect(frames).toEqual([{ t: 'synced' }]);

    const other = await connectAs(A, r, 'dev2');
    await other.waitSynced();
    expect(seqs(other.msgs(conv))).toEqual(range(1, 5));
    expect(other.frames.find((f) => f.t === 'conv')).toMatchObject({ conv, cursor: 0, head: 5 });
  });

  it('more than BACKLOG_LIMIT: conv, a gap to fetch with history, then the newest BACKLOG_LIMIT msgs', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 12);
    const cr = await connectAs(A, r);
    const frames = await backlog(cr);
    expect(frames.slice(0, 2)).toMatchObject([
      { t: 'conv', conv, cursor: 0, head: 12 },
      { t: 'gap', conv, from: 1, to: 7 },
    ]);
    expect(frames[1]!.trimmed ?? false).toBe(false);
    expect(seqs(cr.msgs(conv))).toEqual([8, 9, 10, 11, 12]);
    expect(checkOrder(frames).problems).toEqual([]);
    const fill = await cr.request({ t: 'history', conv, after: 0, before: 8 });
    expect(seqs(fill.msgs)).toEqual(range(1, 7));
    expect(fill.more).toBe(false);
  });

  it('messages stored while the backlog is sent come after it: no hole, no repeat', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 10, 'pre');
    let stop = false;
    let n = 0;
    const sender = (async () => {
      while (!stop && n < 60) {
        n++;
        await send(cs, conv, `live${n}`);
      }
    })();
    const cr = await connectAs(A, r);
    await cr.waitSynced();
    await sleep(100);
    stop = true;
    await sender;
    const head = 10 + n;
    await cr.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === head, 15_000);
    const { problems, convs } = checkOrder(cr.frames);
    expect(problems, cr.describe(40)).toEqual([]);
    const t = convs.get(conv)!;
    const covered = new Set<number>(t.seqs);
    for (const g of t.gaps) for (let i = g.from; i <= g.to; i++) covered.add(i);
    expect([...covered].sort((a, b) => a - b)).toEqual(range(1, head));
    expect(new Set(t.seqs).size).toBe(t.seqs.length);
  });

  it('a group joined while offline replays from the join point', async () => {
    const o = uid('o');
    const j = uid('j');
    const gid = uid('g');
    const tok = await token({ sub: o });
    expect((await api(A.url, 'POST', '/v1/groups', { token: tok, body: { id: gid, members: [] } })).status).toBe(201);
    const conv = `g:${gid}`;
    const co = await connectAs(A, o);
    await sendMany(co, conv, 3);
    expect((await api(A.url, 'POST', `/v1/groups/${gid}/members`, { token: tok, body: { users: [j] } })).status).toBe(200);
    await send(co, conv, 'm4');
    await send(co, conv, 'm5');
    const cj = await connectAs(A, j);
    const frames = await backlog(cj);
    expect(frames[0]).toMatchObject({ t: 'conv', conv, cursor: 3, head: 5 });
    expect(seqs(cj.msgs(conv))).toEqual([4, 5]);
    expect((await convState(A, j, undefined, conv))).toMatchObject({ head: 5, cursor: 3 });
  });

  // PROTOCOL.md Connect 3: every conv frame and backlog of the connect comes before `synced`.
  // Until 2026-12-04 the second membership's came after it, every time: the replay of the
  // first ends at the leave and starts the next one's attach, which the sync did not wait for.
  it('a device away across a leave and a re-join gets both memberships, each after its conv frame, before synced', async () => {
    const o = uid('o');
    const r = uid('r');
    const gid = uid('g');
    const tok = await token({ sub: o });
    expect((await api(A.url, 'POST', '/v1/groups', { token: tok, body: { id: gid, members: [r] } })).status).toBe(201);
    const conv = `g:${gid}`;
    const co = await connectAs(A, o);
    await send(co, conv, 'owed-1');
    expect((await api(A.url, 'DELETE', `/v1/groups/${gid}/members/${r}`, { token: tok })).status).toBe(200);
    await send(co, conv, 'not-owed-2');
    expect((await api(A.url, 'POST', `/v1/groups/${gid}/members`, { token: tok, body: { users: [r] } })).status).toBe(200);
    await send(co, conv, 'owed-3');
    const cr = await connectAs(A, r);
    await cr.waitSynced();
    // what a late frame would need to arrive
    await sleep(500);
    const seen = cr.frames.filter((f) => f.t === 'synced' || ((f.t === 'conv' || f.t === 'msg') && f.conv === conv)).map((f) => (f.t === 'conv' ? `conv ${f.cursor}/${f.head}` : f.t === 'msg' ? `msg ${f.seq}` : f.t));
    expect(seen).toEqual(['conv 0/3', 'msg 1', 'conv 2/3', 'msg 3', 'synced']);
  });
});

describe('retention (RETENTION_MAX_MSGS=5, BACKLOG_LIMIT=3, RETENTION_MS=2500)', () => {
  let cl: Cluster;
  let A: NodeHandle;
  beforeAll(async () => {
    cl = await startCluster({ env: { RETENTION_MAX_MSGS: 5, BACKLOG_LIMIT: 3, RETENTION_MS: 2500 } });
    A = cl.nodes[0]!;
  });
  afterAll(async () => {
    await cl?.cleanup();
  });

  it('trimmed gap first, then the fetchable gap, then the backlog; history returns the kept messages only', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 12);
    const cr = await connectAs(A, r);
    const frames = await backlog(cr);
    expect(frames, cr.describe(20)).toMatchObject([
      { t: 'conv', conv, cursor: 0, head: 12 },
      { t: 'gap', conv, from: 1, to: 7, trimmed: true },
      { t: 'gap', conv, from: 8, to: 9 },
      { t: 'msg', conv, seq: 10 },
      { t: 'msg', conv, seq: 11 },
      { t: 'msg', conv, seq: 12 },
      { t: 'synced' },
    ]);
    expect(frames[2]!.trimmed ?? false).toBe(false);
    const all = await cr.request({ t: 'history', conv });
    expect([seqs(all.msgs), all.more]).toEqual([range(8, 12), false]);
    const older = await cr.request({ t: 'history', conv, before: 10 });
    expect([seqs(older.msgs), older.more]).toEqual([[8, 9], false]);
    const first = await cr.request({ t: 'history', conv, after: 0, limit: 2 });
    expect([seqs(first.msgs), first.more]).toEqual([[8, 9], true]);
    expect(await convState(A, r, undefined, conv)).toMatchObject({ head: 12 });
    // the head keeps counting: no seq is reused
    expect(await send(cs, conv, 'm13')).toMatchObject({ seq: 13 });
  });

  it('a retry after retention trimmed the message still answers its first seq with dup (guarantee 2 outlives retention)', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 8, 'keep');
    const page = await cs.request({ t: 'history', conv, after: 0 });
    expect(seqs(page.msgs)).toEqual([4, 5, 6, 7, 8]);
    const retry = await cs.request({ t: 'send', conv, cmid: 'keep1', body: 'again' });
    expect(retry).toMatchObject({ t: 'sent', seq: 1, dup: true });
    expect((await cs.request({ t: 'send', conv, cmid: 'keep9', body: 'new' })).seq).toBe(9);
  });

  it('RETENTION_MS: messages older than it are gone at the latest at the next write (a trimmed gap)', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cs = await connectAs(A, s);
    await sendMany(cs, conv, 2, 'old');
    await sleep(3000);
    await send(cs, conv, 'new1');
    const cr = await connectAs(A, r);
    const frames = await backlog(cr);
    expect(frames, cr.describe(20)).toMatchObject([
      { t: 'conv', conv, cursor: 0, head: 3 },
      { t: 'gap', conv, from: 1, to: 2, trimmed: true },
      { t: 'msg', conv, seq: 3, cmid: 'new1' },
      { t: 'synced' },
    ]);
    const all = await cr.request({ t: 'history', conv });
    expect(seqs(all.msgs)).toEqual([3]);
  });
});
