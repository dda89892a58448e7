// PROTOCOL.md presence: presence.sub / presence.unsub, `presence` frames with a rising v,
// PRESENCE_SUBS_MAX, GET /v1/presence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Frame } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { api } from '../helpers/http.ts';
import { uid } from '../helpers/ids.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';
import { PRESENCE_BATCH } from '../../server/store/batched-states.ts';

const PRESENCE_SUBS_MAX = 5;

let cl: Cluster;
let A: NodeHandle;
let B: NodeHandle;

beforeAll(async () => {
  cl = await startCluster({ nodes: 2, env: { PRESENCE_SUBS_MAX } });
  A = cl.nodes[0]!;
  B = cl.nodes[1]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

const presenceOf = (c: Client, user: string) => c.frames.filter((f) => f.t === 'presence' && f.user === user);

/** The highest-v presence frame held for `user` (what a client keeps). */
function latest(c: Client, user: string): Frame | undefined {
  let best: Frame | undefined;
  for (const f of presenceOf(c, user)) if (!best || f.v > best.v) best = f;
  return best;
}

/** Wait until the highest-v frame for `user` says `status`; returns it. */
async function waitStatus(c: Client, user: string, status: string, timeoutMs = 10_000): Promise<Frame> {
  await c.waitFor(() => latest(c, user)?.status === status, timeoutMs);
  return latest(c, user)!;
}

async function httpPresence(node: NodeHandle, users: string[]) {
  const res = await api(node.url, 'GET', `/v1/presence?users=${users.join(',')}`, { token: await token({ sub: uid('asker') }) });
  expect(res.status, res.text).toBe(200);
  return res.body.users as Record<string, { status: string; v: number; ts: number }>;
}

describe('presence over WebSocket', () => {
  it('sub answers ok then the current state per user, then every change with a rising v; offline on disconnect, across nodes', async () => {
    const u = uid('u');
    const never = uid('n');
    const w = await connectAs(A, uid('w'));
    const from = w.received.length;
    const ok = await w.request({ t: 'presence.sub', id: 'ps1', users: [u, never] });
    expect(ok).toEqual({ t: 'ok', id: 'ps1' });
    const first = await w.waitFor((f) => f.t === 'presence' && f.user === u);
    const firstNever = await w.waitFor((f) => f.t === 'presence' && f.user === never);
    for (const f of [first, firstNever]) {
      expect(f).toMatchObject({ t: 'presence', status: 'offline' });
      expect(typeof f.v).toBe('number');
      expect(typeof f.ts).toBe('number');
    }
    // ok comes before the state frames
    const okIdx = w.received.findIndex((r, i) => i >= from && r.frame.id === 'ps1');
    const stateIdx = w.received.findIndex((r, i) => i >= from && r.frame.t === 'presence');
    expect(okIdx).toBeLessThan(stateIdx);

    const beforeOnline = Date.now();
    const d1 = await connectAs(B, u, 'd1');
    const online = await waitStatus(w, u, 'online');
    expect(online.v).toBeGreaterThan(first.v);
    expect(online.v).toBeGreaterThanOrEqual(beforeOnline - 1000); // at least the Redis time in ms
    expect(online.ts).toBeGreaterThanOrEqual(beforeOnline - 1000);

    const d2 = await connectAs(A, u, 'd2');
    d1.close();
    await d1.waitClose();
    await sleep(1000); // one device is still open: u stays online
    expect(latest(w, u)).toMatchObject({ status: 'online' });
    expect((await httpPresence(B, [u]))[u]).toMatchObject({ status: 'online' });

    d2.close();
    await d2.waitClose();
    const offline = await waitStatus(w, u, 'offline');
    expect(offline.v).toBeGreaterThan(online.v);
    // v never goes back: each status change carries a higher v than the one before it
    const changes = presenceOf(w, u).sort((a, b) => a.v - b.v);
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.v).toBeGreaterThanOrEqual(changes[i - 1]!.v);
    expect(presenceOf(w, never).every((f) => f.status === 'offline')).toBe(true);
  });

  it('a new subscriber gets the current online state', async () => {
    const u = uid('u');
    await connectAs(B, u);
    const w = await connectAs(A, uid('w'));
    await waitUntil(async () => (await httpPresence(A, [u]))[u]?.status === 'online', { what: 'u online' });
    expect((await w.request({ t: 'presence.sub', users: [u] })).t).toBe('ok');
    const f = await waitStatus(w, u, 'online');
    expect(f.v).toBeGreaterThan(0);
  });

  it('presence.unsub answers ok and stops that user\'s frames', async () => {
    const u1 = uid('u');
    const u2 = uid('u');
    const w = await connectAs(A, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [u1, u2] })).t).toBe('ok');
    await w.waitFor((f) => f.t === 'presence' && f.user === u1);
    await w.waitFor((f) => f.t === 'presence' && f.user === u2);
    const un = await w.request({ t: 'presence.unsub', id: 'un1', users: [u1] });
    expect(un).toEqual({ t: 'ok', id: 'un1' });
    const before = presenceOf(w, u1).length;
    await connectAs(B, u1);
    await waitUntil(async () => (await httpPresence(A, [u1]))[u1]?.status === 'online', { what: 'u1 online' });
    await connectAs(B, u2);
    await waitStatus(w, u2, 'online');
    expect(presenceOf(w, u1)).toHaveLength(before);
  });

  it('a replaced device (4409) keeps the user online', async () => {
    const u = uid('u');
    const w = await connectAs(A, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [u] })).t).toBe('ok');
    const old = await connectAs(A, u, 'phone');
    await waitStatus(w, u, 'online');
    const fresh = await connectAs(B, u, 'phone');
    expect((await old.waitClose()).code).toBe(4409);
    await sleep(1500);
    expect(latest(w, u)).toMatchObject({ status: 'online' });
    expect((await httpPresence(A, [u]))[u]).toMatchObject({ status: 'online' });
    fresh.close();
    await waitStatus(w, u, 'offline');
  });

  it(`PRESENCE_SUBS_MAX=${PRESENCE_SUBS_MAX}: a presence.sub that would exceed it is refused whole with too_large`, async () => {
    const w = await connectAs(A, uid('w'));
    const firstThree = [uid('p'), uid('p'), uid('p')];
    const nextThree = [uid('q'), uid('q'), uid('q')];
    expect((await w.request({ t: 'presence.sub', users: firstThree })).t).toBe('ok');
    const refused = await w.request({ t: 'presence.sub', id: 'too-many', users: nextThree });
    expect(refused).toMatchObject({ t: 'error', id: 'too-many', code: 'too_large', retryable: false });
    const refusedAtOnce = await w.request({ t: 'presence.sub', users: [uid(), uid(), uid(), uid(), uid(), uid()] });
    expect(refusedAtOnce).toMatchObject({ t: 'error', code: 'too_large' });
    // none of the refused users is watched: only the first three produce frames
    await connectAs(B, nextThree[0]!);
    await waitUntil(async () => (await httpPresence(A, [nextThree[0]!]))[nextThree[0]!]?.status === 'online', { what: 'online' });
    await connectAs(B, firstThree[0]!);
    await waitStatus(w, firstThree[0]!, 'online');
    expect(presenceOf(w, nextThree[0]!)).toEqual([]);
    // two more fit exactly
    expect((await w.request({ t: 'presence.sub', users: nextThree.slice(0, 2) })).t).toBe('ok');
    await waitStatus(w, nextThree[0]!, 'online');
  });
});

describe('GET /v1/presence', () => {
  it('lists every requested user; one never seen is {"status":"offline","v":0,"ts":0}; agrees with the frames', async () => {
    const u = uid('u');
    const never1 = uid('n');
    const never2 = uid('n');
    const w = await connectAs(B, uid('w'));
    expect((await w.request({ t: 'presence.sub', users: [u] })).t).toBe('ok');
    await connectAs(A, u);
    const seen = await waitStatus(w, u, 'online');
    const users = await httpPresence(A, [u, never1, never2]);
    expect(Object.keys(users).sort()).toEqual([u, never1, never2].sort());
    expect(users[never1]).toEqual({ status: 'offline', v: 0, ts: 0 });
    expect(users[never2]).toEqual({ status: 'offline', v: 0, ts: 0 });
    expect(users[u]).toMatchObject({ status: 'online' });
    expect(users[u]!.v).toBeGreaterThanOrEqual(seen.v);
    expect(users[u]!.ts).toBeGreaterThan(0);
  });

  it('needs a token (401); bad user ids or too many users are refused', async () => {
    const noTok = await api(A.url, 'GET', `/v1/presence?users=${uid()}`);
    expect(noTok.status).toBe(401);
    expect(noTok.body).toMatchObject({ code: 'unauthorized' });
    const t = await token({ sub: uid() });
    const bad = await api(A.url, 'GET', '/v1/presence?users=ok,not%20ok!', { token: t });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'bad_request' });
    const many = Array.from({ length: 1001 }, (_, i) => `m${i}`).join(',');
    const tooMany = await api(A.url, 'GET', `/v1/presence?users=${many}`, { token: t });
    expect([400, 413]).toContain(tooMany.status);
    expect(['bad_request', 'too_large']).toContain(tooMany.body?.code);
    const exactly = Array.from({ length: 1000 }, (_, i) => `m${i}`).join(',');
    const ok = await api(A.url, 'GET', `/v1/presence?users=${exactly}`, { token: t });
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.users)).toHaveLength(1000);
  });
});

describe(`more users than one presence read covers (PRESENCE_BATCH = ${PRESENCE_BATCH})`, () => {
  it('presence.sub and GET /v1/presence of 250 users: each user gets its own state, those online in the first, middle and last batch too', async () => {
    // a node with the default PRESENCE_SUBS_MAX (1000)
    const C = await cl.addNode({ PRESENCE_SUBS_MAX: undefined });
    const users = Array.from({ length: 250 }, () => uid('b'));
    const onlineAt = [0, PRESENCE_BATCH + 37, 249];
    const online = new Set(onlineAt.map((i) => users[i]!));
    for (const u of online) cl.track(await connectAs(A, u));
    // GET reads the 250 in three batches; a state paired with the wrong user shows here
    await waitUntil(async () => Object.values(await httpPresence(C, users)).filter((s) => s.status === 'online').length === online.size, { timeoutMs: 10_000, what: 'the three users online' });
    const got = await httpPresence(C, users);
    expect(Object.keys(got).sort()).toEqual([...users].sort());
    for (const u of users) expect(got[u]!.status, u).toBe(online.has(u) ? 'online' : 'offline');

    const w = cl.track(await connectAs(C, uid('w')));
    expect((await w.request({ t: 'presence.sub', users })).t).toBe('ok');
    await w.waitFor(() => users.every((u) => latest(w, u) !== undefined), 10_000);
    for (const u of users) {
      expect(presenceOf(w, u), u).toHaveLength(1);
      expect(latest(w, u)!.status, u).toBe(online.has(u) ? 'online' : 'offline');
    }
  });
});
