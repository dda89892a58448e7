// Server capture (issue 12) against real nodes and Redis: what a node records with
// CAPTURE_DIR set (connection lifecycle, inbound frames as metadata without tokens or
// bodies, outbound frames by type and seq, HTTP routes and outcomes, Redis link changes,
// node start and stop), that every line is a record of the shared schema, that
// CAPTURE_SAMPLE keeps a user's devices all in or all out, and that nothing is written
// without CAPTURE_DIR.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureFiles } from '../../server/capture/capture.ts';
import { captureRecord, userSampled, type CaptureRecord } from '../../server/capture/schema.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import { uid } from '../helpers/ids.ts';
import { waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-capture-'));
let cl: Cluster;
beforeAll(async () => {
  cl = await startCluster({ nodes: 2, env: { CAPTURE_DIR: dir, STORE_TIMEOUT_MS: 500 }, nodeEnv: [{ NODE_ID: 'cap-1' }, { NODE_ID: 'cap-2', CAPTURE_SAMPLE: 0.5 }] });
});
afterAll(async () => {
  await cl?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function records(node: string): CaptureRecord[] {
  const out: CaptureRecord[] = [];
  for (const f of captureFiles(dir).filter((f) => path.basename(f).startsWith(`${node}-`))) {
    for (const line of readFileSync(f, 'utf8').split('\n')) if (line) out.push(captureRecord.parse(JSON.parse(line)));
  }
  return out;
}

describe('capture', () => {
  it('records a session on a node: lifecycle, frames in and out, HTTP, without tokens or bodies', async () => {
    const [A] = cl.nodes;
    const a = uid('ca');
    const b = uid('cb');
    const gid = uid('cg');
    const created = await api(A!.url, 'POST', '/v1/groups', { token: await token({ sub: a }), body: { id: gid, members: [b] } });
    expect(created.status).toBe(201);
    const conv = `g:${gid}`;
    const ca = cl.track(await connectAs(A!, a, 'd1'));
    const cb = cl.track(await connectAs(A!, b, 'd1'));
    await Promise.all([ca.waitSynced(), cb.waitSynced()]);
    const secretBody = 'a body that must not be captured';
    expect((await ca.request({ t: 'send', conv, cmid: 'c1', body: secretBody })).t).toBe('sent');
    await cb.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 1);
    expect((await cb.request({ t: 'ack', conv, seq: 1 })).t).toBe('ok');
    expect((await cb.request({ t: 'history', conv, after: 0, limit: 10 })).t).toBe('page');
    expect((await cb.request({ t: 'send', conv: 'nonsense', cmid: 'c2', body: 'x' })).t).toBe('error');
    // a read mark, presence subscriptions, an HTTP send, a join and a leave: what the replay drives again
    expect((await cb.request({ t: 'read', id: 'rd1', conv, seq: 1 })).t).toBe('ok');
    expect((await cb.request({ t: 'presence.sub', users: [a] })).t).toBe('ok');
    expect((await cb.request({ t: 'presence.unsub', users: [a] })).t).toBe('ok');
    const httpBody = 'sent over HTTP';
    expect((await api(A!.url, 'POST', '/v1/messages', { token: await token({ sub: a, dev: 'web' }), body: { conv, cmid: 'h1', body: httpBody } })).status).toBe(201);
    const joiner = uid('cj');
    expect((await api(A!.url, 'POST', `/v1/groups/${gid}/members`, { token: await token({ sub: a }), body: { users: [joiner] } })).status).toBe(200);
    expect((await api(A!.url, 'DELETE', `/v1/groups/${gid}/members/${joiner}`, { token: await token({ sub: joiner }) })).status).toBe(200);
    // the same device again: the first connection is replaced
    const cb2 = cl.track(await connectAs(A!, b, 'd1'));
    await cb2.waitSynced();
    ca.close(1000);
    await waitUntil(async () => records('cap-1').some((r) => r.k === 'close' && r.by === 'client'), { timeoutMs: 5000, what: 'the close recorded' });

    const recs = records('cap-1');
    const text = captureFiles(dir).map((f) => readFileSync(f, 'utf8')).join('');
    expect(text).not.toContain(secretBody);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT anywhere
    expect(recs[0]).toMatchObject({ k: 'file', node: 'cap-1', v: 1, sample: 1, bodies: false });
    expect(recs.find((r) => r.k === 'node')).toMatchObject({ event: 'start', node: 'cap-1' });
    const hellos = recs.filter((r) => r.k === 'hello' && (r.user === a || r.user === b));
    expect(hellos.map((h) => h.k === 'hello' && `${h.user}/${h.device}`)).toEqual([`${a}/d1`, `${b}/d1`, `${b}/d1`]);
    const connOf = (i: number) => (hellos[i] as Extract<CaptureRecord, { k: 'hello' }>).conn;
    // an open is written with its hello, timed when the socket opened (the monotonic clock, util/clock.ts): not after its hello, not before the file, its wall time beside it
    const open0 = recs.find((r) => r.k === 'open' && r.conn === connOf(0))!;
    const hello0 = hellos[0]!;
    expect(open0.m).toBeGreaterThanOrEqual(0);
    expect(open0.m).toBeLessThanOrEqual(hello0.m + 1); // a hello may reuse the stamp of its millisecond
    expect(hello0.m - open0.m).toBeLessThan(5_000);
    expect(Math.abs(hello0.w - open0.w - (hello0.m - open0.m))).toBeLessThan(50);
    const send = recs.find((r) => r.k === 'in' && r.t === 'send' && r.conn === connOf(0));
    expect(send).toMatchObject({ conv, cmid: 'c1', bytes: Buffer.byteLength(secretBody), hash: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(send).not.toHaveProperty('body');
    expect(recs.find((r) => r.k === 'out' && r.t === 'sent' && r.conn === connOf(0))).toMatchObject({ conv, seq: 1, cmid: 'c1', dup: false });
    expect(recs.find((r) => r.k === 'out' && r.t === 'msg' && r.conn === connOf(1))).toMatchObject({ conv, seq: 1, via: 'live' });
    expect(recs.find((r) => r.k === 'in' && r.t === 'ack' && r.conn === connOf(1))).toMatchObject({ conv, seq: 1 });
    expect(recs.find((r) => r.k === 'in' && r.t === 'history' && r.conn === connOf(1))).toMatchObject({ conv, after: 0, limit: 10 });
    expect(recs.find((r) => r.k === 'out' && r.t === 'page' && r.conn === connOf(1))).toMatchObject({ conv, n: 1 });
    expect(recs.find((r) => r.k === 'in' && r.t === 'bad' && r.conn === connOf(1))).toBeDefined();
    expect(recs.find((r) => r.k === 'out' && r.t === 'error' && r.conn === connOf(1))).toMatchObject({ code: 'bad_request' });
    expect(recs.find((r) => r.k === 'replace' && r.conn === connOf(2))).toMatchObject({ replaced: [connOf(1)] });
    expect(recs.find((r) => r.k === 'close' && r.conn === connOf(1))).toMatchObject({ code: 4409, by: 'server' });
    expect(recs.find((r) => r.k === 'close' && r.conn === connOf(0))).toMatchObject({ code: 1000, by: 'client' });
    expect(recs.find((r) => r.k === 'http' && r.route === 'POST /v1/groups')).toMatchObject({ status: 201, user: a, group: gid, users: [b] });
    expect(recs.find((r) => r.k === 'in' && r.t === 'read' && r.conn === connOf(1))).toMatchObject({ conv, seq: 1, id: 'rd1' });
    expect(recs.filter((r) => r.k === 'in' && r.t.startsWith('presence') && r.conn === connOf(1)).map((r) => r.k === 'in' && [r.t, r.users])).toEqual([['presence.sub', [a]], ['presence.unsub', [a]]]);
    // the HTTP send by its conv, cmid, size and the token's device (the body itself never)
    expect(recs.find((r) => r.k === 'http' && r.route === 'POST /v1/messages')).toMatchObject({ status: 201, user: a, device: 'web', conv, cmid: 'h1', bytes: Buffer.byteLength(httpBody) });
    expect(text).not.toContain(httpBody);
    expect(recs.find((r) => r.k === 'http' && r.route === 'POST /v1/groups/:group/members')).toMatchObject({ status: 200, user: a, group: gid, users: [joiner] });
    expect(recs.find((r) => r.k === 'http' && r.route === 'DELETE /v1/groups/:group/members/:user')).toMatchObject({ status: 200, user: joiner, group: gid, users: [joiner] });
    expect(recs.find((r) => r.k === 'redis' && r.link === 'cmd')).toMatchObject({ state: 'up' });
    // monotonic time never goes back within a file, wall time is near now
    const ms = recs.filter((r) => r.k !== 'open').map((r) => r.m);
    expect(ms).toEqual([...ms].sort((x, y) => x - y));
    expect(Math.abs(recs.at(-1)!.w - Date.now())).toBeLessThan(10_000);
  });

  it('CAPTURE_SAMPLE=0.5: a user is recorded on every device or on none, by the hash of its id', async () => {
    const B = cl.nodes[1]!;
    // ids that differ only in their last characters, as a fleet's do: the hash must still split them
    const many = Array.from({ length: 2000 }, (_, i) => `smp${i}`);
    const share = many.filter((u) => userSampled(u, 0.5)).length / many.length;
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
    expect(many.filter((u) => userSampled(u, 0.1)).length / many.length).toBeCloseTo(0.1, 1);
    const prefix = 'capsmp';
    const users = Array.from({ length: 12 }, (_, i) => `${prefix}u${i}`);
    for (const u of users) for (const d of ['d1', 'd2']) cl.track(await connectAs(B, u, d));
    await waitUntil(async () => records('cap-2').filter((r) => r.k === 'hello').length >= users.filter((u) => userSampled(u, 0.5)).length * 2, { timeoutMs: 5000, what: 'hellos written' });
    const seen = records('cap-2').filter((r): r is Extract<CaptureRecord, { k: 'hello' }> => r.k === 'hello');
    for (const u of users) expect(seen.filter((h) => h.user === u).length, u).toBe(userSampled(u, 0.5) ? 2 : 0);
    // the hash splits these users both ways (a sample of 12 at 0.5 that took all or none would say nothing)
    expect(users.some((u) => userSampled(u, 0.5)) && users.some((u) => !userSampled(u, 0.5))).toBe(true);
  });

  it('a presence sweep that takes a killed node\'s connections offline is recorded by the node that swept', async () => {
    // a short lease: the killed node's connections are swept about a second after it dies
    const victim = await cl.addNode({ NODE_ID: 'cap-v', PRESENCE_TTL_MS: 1000 });
    const u = uid('cv');
    await cl.track(await connectAs(victim, u, 'd1')).waitSynced();
    await waitUntil(async () => records('cap-v').some((r) => r.k === 'hello'), { timeoutMs: 5000, what: 'the victim\'s capture written' });
    const inc = records('cap-v').find((r) => r.k === 'file');
    await victim.kill();
    await waitUntil(async () => [...records('cap-1'), ...records('cap-2')].some((r) => r.k === 'sweep'), { timeoutMs: 10_000, what: 'a sweep recorded' });
    const sweeps = [...records('cap-1'), ...records('cap-2')].filter((r) => r.k === 'sweep');
    // one node claims the dead incarnation and records it once
    expect(sweeps).toEqual([expect.objectContaining({ incarnation: inc?.k === 'file' ? inc.incarnation : '?', connections: 1 })]);
  });

  it('node stop is recorded with its signal; a node without CAPTURE_DIR writes nothing', async () => {
    const plain = await cl.addNode({ CAPTURE_DIR: undefined, NODE_ID: 'plain-1' });
    cl.track(await connectAs(plain, uid('cp'), 'd1'));
    expect(await cl.nodes[0]!.stop()).toBe(0);
    const stop = records('cap-1').find((r) => r.k === 'node' && r.event === 'stop');
    expect(stop).toMatchObject({ signal: 'SIGTERM' });
    expect(readdirSync(dir).filter((f) => f.startsWith('plain-1'))).toEqual([]);
  });
});
