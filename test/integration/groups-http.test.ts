// PROTOCOL.md "HTTP": groups, POST /v1/messages, GET /v1/conversations, admin kick,
// unknown routes, /healthz, /readyz, /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { api } from '../helpers/http.ts';
import { dm, uid } from '../helpers/ids.ts';
import { token } from '../helpers/tokens.ts';

const GROUP_MAX = 5;

let cl: Cluster;
let A: NodeHandle;
let B: NodeHandle;

beforeAll(async () => {
  cl = await startCluster({ nodes: 2, env: { GROUP_MAX } });
  A = cl.nodes[0]!;
  B = cl.nodes[1]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

const tok = (sub: string, extra: { dev?: string; adm?: boolean } = {}) => token({ sub, ...extra });

function expectError(res: { status: number; body: unknown; text: string }, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.body, res.text).toMatchObject({ code });
  expect(typeof (res.body as { message?: unknown }).message, res.text).toBe('string');
  expect(res.text).not.toMatch(/\n\s+at /); // never a stack trace
}

async function createGroup(owner: string, members: string[], id = uid('g')) {
  const res = await api(A.url, 'POST', '/v1/groups', { token: await tok(owner), body: { id, members } });
  return { id, res };
}

async function getGroup(node: NodeHandle, sub: string, id: string) {
  return api(node.url, 'GET', `/v1/groups/${id}`, { token: await tok(sub) });
}

describe('groups', () => {
  it('POST /v1/groups: 201 {conv}; the caller becomes owner and member; 409 conflict when the id exists', async () => {
    const o = uid('o');
    const m1 = uid('m');
    const m2 = uid('m');
    const { id, res } = await createGroup(o, [m1, m2]);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({ conv: `g:${id}` });
    const g = await getGroup(B, o, id);
    expect(g.status, g.text).toBe(200);
    expect(g.body).toMatchObject({ id, owner: o, head: 0 });
    expect([...g.body.members].sort()).toEqual([o, m1, m2].sort());

    expectError((await createGroup(o, [], id)).res, 409, 'conflict');
    expectError((await createGroup(uid('x'), [], id)).res, 409, 'conflict');
  });

  it('POST /v1/groups refuses bad input (400), missing or bad tokens (401), more than GROUP_MAX members (413)', async () => {
    const o = uid('o');
    const t = await tok(o);
    expectError(await api(A.url, 'POST', '/v1/groups', { token: t, body: { id: 'bad id!', members: [] } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: t, body: { id: uid('g'), members: 'u2' } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: t, body: { id: uid('g'), members: ['ok', 'not ok!'] } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: t, body: { members: [] } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: t, rawBody: '{"id": "x",' }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/groups', { body: { id: uid('g'), members: [] } }), 401, 'unauthorized');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: await token({ sub: o, expInSec: -5 }), body: { id: uid('g'), members: [] } }), 401, 'unauthorized');
    expectError(await api(A.url, 'POST', '/v1/groups', { token: await token({ sub: o, secret: 'some-other-secret-some-other-secret' }), body: { id: uid('g'), members: [] } }), 401, 'unauthorized');
    // owner + 5 others = 6 > GROUP_MAX
    expectError((await createGroup(o, [uid(), uid(), uid(), uid(), uid()])).res, 413, 'too_large');
    // owner + 4 others = GROUP_MAX is fine
    expect((await createGroup(o, [uid(), uid(), uid(), uid()])).res.status).toBe(201);
  });

  it('GET /v1/groups/{id}: 200 for a member with the head, 403 for a non-member, 404 when there is no such group', async () => {
    const o = uid('o');
    const m = uid('m');
    const { id } = await createGroup(o, [m]);
    const c = await connectAs(A, o);
    for (let i = 1; i <= 3; i++) expect((await c.request({ t: 'send', conv: `g:${id}`, cmid: `c${i}`, body: 'x' })).t).toBe('sent');
    const g = await getGroup(B, m, id);
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ id, owner: o, head: 3 });
    expectError(await getGroup(A, uid('x'), id), 403, 'forbidden');
    expectError(await getGroup(A, o, uid('nog')), 404, 'not_found');
    expectError(await api(A.url, 'GET', `/v1/groups/${id}`), 401, 'unauthorized');
  });

  it('POST /v1/groups/{id}/members: any member adds users (in the order listed); 403 non-member, 404 no group, 413 over GROUP_MAX', async () => {
    const o = uid('o');
    const m = uid('m');
    const { id } = await createGroup(o, [m]);
    const [u1, u2, u3] = [uid('a'), uid('b'), uid('c')];
    const add = await api(B.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(m), body: { users: [u1, u2] } });
    expect(add.status, add.text).toBe(200);
    const g = await getGroup(A, u2, id);
    expect(g.status).toBe(200);
    expect([...g.body.members].sort()).toEqual([o, m, u1, u2].sort());
    // adding someone already in is harmless
    expect((await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(o), body: { users: [m] } })).status).toBe(200);
    expectError(await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(uid('x')), body: { users: [u3] } }), 403, 'forbidden');
    expectError(await api(A.url, 'POST', `/v1/groups/${uid('nog')}/members`, { token: await tok(o), body: { users: [u3] } }), 404, 'not_found');
    expectError(await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(o), body: { users: ['bad user!'] } }), 400, 'bad_request');
    // 4 members + 2 = 6 > GROUP_MAX: refused
    expectError(await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(o), body: { users: [u3, uid('d')] } }), 413, 'too_large');
    expect((await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(o), body: { users: [u3] } })).status).toBe(200);
    expect((await getGroup(A, o, id)).body.members).toHaveLength(GROUP_MAX);
  });

  it('DELETE /v1/groups/{id}/members/{user}: owner or self; 200 for a non-member; owner passes to the earliest-joined; the last leaving keeps the id', async () => {
    const o = uid('o');
    const [a, b, c] = [uid('a'), uid('b'), uid('c')];
    const { id } = await createGroup(o, [a, b, c]);
    const del = async (by: string, user: string, node = A) => api(node.url, 'DELETE', `/v1/groups/${id}/members/${user}`, { token: await tok(by) });
    expectError(await del(a, b), 403, 'forbidden'); // not the owner, not itself
    expect((await getGroup(A, b, id)).status).toBe(200);
    expect((await del(a, a, B)).status).toBe(200); // itself
    expectError(await getGroup(A, a, id), 403, 'forbidden');
    expect((await del(o, uid('x'))).status).toBe(200); // not a member: still 200
    expect((await del(o, o)).status).toBe(200); // the owner leaves: b (earliest-joined remaining) owns it
    let g = await getGroup(B, b, id);
    expect(g.body).toMatchObject({ owner: b });
    expect([...g.body.members].sort()).toEqual([b, c].sort());
    expect((await del(b, c)).status).toBe(200); // the new owner removes c
    g = await getGroup(A, b, id);
    expect(g.body).toMatchObject({ owner: b, members: [b] });
    expect((await del(b, b)).status).toBe(200); // the last member leaves
    expectError(await getGroup(A, b, id), 403, 'forbidden');
    expectError((await createGroup(uid('n'), [], id)).res, 409, 'conflict');
    expectError(await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(b), body: { users: [b] } }), 403, 'forbidden');
    expectError(await api(A.url, 'DELETE', `/v1/groups/${uid('nog')}/members/${o}`, { token: await tok(o) }), 404, 'not_found');
  });

  it('users added in one request join in the order listed (owner succession follows it)', async () => {
    const o = uid('o');
    const [z, y] = [uid('z'), uid('y')];
    const { id } = await createGroup(o, []);
    expect((await api(A.url, 'POST', `/v1/groups/${id}/members`, { token: await tok(o), body: { users: [z, y] } })).status).toBe(200);
    expect((await api(A.url, 'DELETE', `/v1/groups/${id}/members/${o}`, { token: await tok(o) })).status).toBe(200);
    expect((await getGroup(A, y, id)).body).toMatchObject({ owner: z });
  });
});

describe('POST /v1/messages', () => {
  it('201 {conv,seq,cmid,ts,dup:false}; a repeat 200 with dup:true; delivered to members on WebSocket; shares dedupe with WebSocket sends', async () => {
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    const cr = await connectAs(B, r);
    await cr.waitSynced();
    const t = await tok(s);
    const first = await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'h1', body: 'via http' } });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ conv, seq: 1, cmid: 'h1', dup: false });
    expect(typeof first.body.ts).toBe('number');
    const again = await api(B.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'h1', body: 'via http' } });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ conv, seq: 1, cmid: 'h1', dup: true });
    expect(await cr.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 1)).toMatchObject({ from: s, cmid: 'h1', body: 'via http', ts: first.body.ts });

    const cs = await connectAs(A, s);
    expect(await cs.request({ t: 'send', conv, cmid: 'h1', body: 'via ws' })).toMatchObject({ t: 'sent', seq: 1, dup: true });
    expect(await cs.request({ t: 'send', conv, cmid: 'w2', body: 'via ws' })).toMatchObject({ t: 'sent', seq: 2, dup: false });
    const viaHttp = await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'w2', body: 'via ws' } });
    expect([viaHttp.status, viaHttp.body?.seq, viaHttp.body?.dup]).toEqual([200, 2, true]);
    await cr.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 2);
    expect(cr.msgs(conv).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('403 for a non-member, 413 over MAX_BODY_BYTES, 400 for bad fields, 401 without a token', async () => {
    const s = uid('s');
    const conv = dm(s, uid('r'));
    const t = await tok(s);
    expectError(await api(A.url, 'POST', '/v1/messages', { token: await tok(uid('x')), body: { conv, cmid: 'c1', body: 'x' } }), 403, 'forbidden');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'c1', body: '€'.repeat(5462) } }), 413, 'too_large');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, body: 'x' } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'has space', body: 'x' } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv: 'nonsense', cmid: 'c1', body: 'x' } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'c1', body: 5 } }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/messages', { token: t, rawBody: 'not json' }), 400, 'bad_request');
    expectError(await api(A.url, 'POST', '/v1/messages', { body: { conv, cmid: 'c1', body: 'x' } }), 401, 'unauthorized');
    // none of that stored anything
    const ok = await api(A.url, 'POST', '/v1/messages', { token: t, body: { conv, cmid: 'c1', body: 'x' } });
    expect([ok.status, ok.body?.seq]).toEqual([201, 1]);
  });
});

describe('GET /v1/conversations', () => {
  it('lists the caller device\'s conversations with epoch, head, cursor and read', async () => {
    const u = uid('u');
    const p = uid('p');
    const fresh = await api(A.url, 'GET', '/v1/conversations', { token: await tok(u, { dev: 'd1' }) });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual({ convs: [] });

    const conv = dm(u, p);
    const { id } = await createGroup(p, [u]);
    const gconv = `g:${id}`;
    const cp = await connectAs(A, p);
    for (const [c, cmid] of [[conv, 'a'], [conv, 'b'], [gconv, 'c']] as const) {
      expect((await cp.request({ t: 'send', conv: c, cmid, body: 'x' })).t).toBe('sent');
    }
    const res = await api(B.url, 'GET', '/v1/conversations', { token: await tok(u, { dev: 'd1' }) });
    expect(res.status).toBe(200);
    const byConv = new Map((res.body.convs as Array<Record<string, unknown>>).map((c) => [c.conv, c]));
    expect(byConv.get(conv)).toMatchObject({ conv, head: 2, cursor: 0, read: 0 });
    expect(byConv.get(gconv)).toMatchObject({ conv: gconv, head: 1, cursor: 0, read: 0 });
    expect(typeof byConv.get(conv)!.epoch).toBe('string');
    expectError(await api(A.url, 'GET', '/v1/conversations'), 401, 'unauthorized');
  });
});

describe('admin: DELETE /v1/users/{user}/sessions[/{device}]', () => {
  it('closes one device\'s connections, then all, with 4401; needs adm (403 without, 401 without a token)', async () => {
    const u = uid('u');
    const d1 = await connectAs(A, u, 'd1');
    const d2 = await connectAs(B, u, 'd2');
    const d3 = await connectAs(A, u, 'd3');
    const bystander = await connectAs(A, uid('b'), 'd1');
    const alive = async (c: Client) => expect((await c.request({ t: 'ping' })).t).toBe('pong');

    expectError(await api(B.url, 'DELETE', `/v1/users/${u}/sessions/d1`, { token: await tok(uid('x')) }), 403, 'forbidden');
    expectError(await api(B.url, 'DELETE', `/v1/users/${u}/sessions`, { token: await tok(uid('x'), { adm: false }) }), 403, 'forbidden');
    expectError(await api(B.url, 'DELETE', `/v1/users/${u}/sessions`, { token: await tok(u) }), 403, 'forbidden');
    expectError(await api(B.url, 'DELETE', `/v1/users/${u}/sessions`), 401, 'unauthorized');
    for (const c of [d1, d2, d3]) await alive(c);

    const one = await api(B.url, 'DELETE', `/v1/users/${u}/sessions/d1`, { token: await tok('ops', { adm: true }) });
    expect(one.status, one.text).toBe(200);
    // it answers what it did: the connections it closes, wherever they are
    expect(one.body).toEqual({ user: u, device: 'd1', connections: [d1.welcome.conn] });
    expect((await d1.waitClose()).code).toBe(4401);
    await alive(d2);
    await alive(d3);

    const all = await api(A.url, 'DELETE', `/v1/users/${u}/sessions`, { token: await tok('ops', { adm: true }) });
    expect(all.status, all.text).toBe(200);
    expect([...all.body.connections].sort()).toEqual([d2.welcome.conn, d3.welcome.conn].sort());
    expect((await d2.waitClose()).code).toBe(4401);
    expect((await d3.waitClose()).code).toBe(4401);
    await alive(bystander);
    // the user may connect again afterwards
    await alive(await connectAs(B, u, 'd1'));
  });
});

describe('routes and operations', () => {
  it('an unknown route is 404 {code:"not_found",message}', async () => {
    const t = await tok(uid());
    expectError(await api(A.url, 'GET', '/nope'), 404, 'not_found');
    expectError(await api(A.url, 'GET', '/v1/nope', { token: t }), 404, 'not_found');
    expectError(await api(A.url, 'POST', '/v1/groups/a/b/c/d', { token: t, body: {} }), 404, 'not_found');
  });

  it('GET /healthz 200 {"status":"ok"}; GET /readyz 200', async () => {
    for (const n of [A, B]) {
      const h = await api(n.url, 'GET', '/healthz');
      expect([h.status, h.body]).toEqual([200, { status: 'ok' }]);
      expect((await api(n.url, 'GET', '/readyz')).status).toBe(200);
    }
  });

  it('GET /metrics: Prometheus text with the listed series; errors counted by code', async () => {
    const u = uid();
    const c = await connectAs(A, u);
    expect((await c.request({ t: 'send', conv: dm(u, uid()), cmid: 'm1', body: 'x' })).t).toBe('sent');
    expect(await c.request({ t: 'no-such-frame' })).toMatchObject({ code: 'bad_request' });
    await c.request({ t: 'ack', conv: dm(u, uid()), seq: 1 });
    const res = await api(A.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type') ?? '').toMatch(/^text\/plain/);
    const text = res.text;
    const names = [...new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? /gm)].map((m) => m[1]!))];
    const has = (re: RegExp, what: string) => expect(names.some((n) => re.test(n)), `${what}: no series matching ${re} among ${names.join(' ')}`).toBe(true);
    has(/conn/i, 'connections');
    has(/frame.*in|in.*frame/i, 'frames in');
    has(/frame.*out|out.*frame/i, 'frames out');
    has(/send/i, 'sends');
    has(/deliver/i, 'deliveries');
    has(/ack/i, 'acks');
    has(/error/i, 'errors');
    has(/send.*(latency|duration|seconds).*_bucket$|(latency|duration).*send.*_bucket$/i, 'send latency histogram');
    has(/lag/i, 'event-loop lag');
    has(/fds?$|fds?_|_fd/i, 'open fds');
    has(/handle/i, 'active handles');
    has(/outbound|unsent|buffered/i, 'unsent outbound bytes');
    has(/^process_/, 'process metrics');
    expect(text).toMatch(/error[a-z_]*\{[^}]*code="bad_request"[^}]*\} [1-9]/);
    expect(text).toMatch(/^# TYPE \S+ histogram$/m);
  });
});
