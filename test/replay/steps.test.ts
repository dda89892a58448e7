// The recorded steps a replay drives beyond sends, acks and history (issue 12), through the
// fleet's own pieces on loopback: a SimClient running read marks, HTTP sends and presence
// subscriptions at their times against a minimal protocol server, and MembershipChurn
// making recorded joins and leaves at their times through a node's HTTP API. Fast: no
// Redis, no server process (the integration side is test/replay/incident.test.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MembershipChurn } from '../../harness/fleet/membership-churn.ts';
import { MemoryRecorder } from '../../harness/fleet/recorder.ts';
import { SimClient } from '../../harness/fleet/sim-client.ts';
import type { DevicePlan } from '../../harness/fleet/workload.ts';
import { waitUntil } from '../helpers/procs.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

interface Seen {
  /** frames from the client, per connection (1-based), in order */
  frames: { conn: number; f: Record<string, unknown>; at: number }[];
  requests: { method: string; url: string; auth: string; body: string; at: number }[];
}

/** A server that speaks just enough of PROTOCOL.md: welcome, one conv with two messages, synced; POST /v1/messages answers seq 9. */
async function miniServer(answer: (req: { method: string; url: string; by: string }) => number = () => 200, welcomeDelayMs: (conn: number) => number = () => 0): Promise<{ url: string; http: string; seen: Seen; push: (frame: string) => void }> {
  const seen: Seen = { frames: [], requests: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      const auth = req.headers.authorization ?? '';
      seen.requests.push({ method: req.method!, url: req.url!, auth, body, at: Date.now() });
      if (req.url === '/v1/messages') {
        const b = JSON.parse(body) as { conv: string; cmid: string };
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ conv: b.conv, seq: 9, cmid: b.cmid, ts: Date.now(), dup: false }));
        return;
      }
      const status = answer({ method: req.method!, url: req.url!, by: JSON.parse(Buffer.from(auth.split('.')[1] ?? '', 'base64url').toString() || '{}').sub });
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '{"code":"forbidden","message":"no"}');
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  let conns = 0;
  wss.on('connection', (ws) => {
    const conn = ++conns;
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Record<string, unknown>;
      seen.frames.push({ conn, f, at: Date.now() });
      if (f.t === 'hello') {
        const welcome = () => {
        ws.send(`{"t":"welcome","v":1,"user":"a","device":"d0","conn":"c${conn}","node":"n1","heartbeatMs":30000,"maxBodyBytes":65536}`);
        ws.send('{"t":"conv","conv":"g:g1","epoch":"e1","cursor":0,"head":2}');
        for (const seq of [1, 2]) ws.send(`{"t":"msg","conv":"g:g1","seq":${seq},"from":"b","cmid":"b.${seq}","body":"x","ts":1}`);
        ws.send('{"t":"synced"}');
        };
        const delay = welcomeDelayMs(conn);
        if (delay > 0) setTimeout(welcome, delay);
        else welcome();
      } else if (typeof f.id === 'string') ws.send(`{"t":"ok","id":"${f.id}"}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  /** a frame to every open connection */
  const push = (frame: string) => {
    for (const c of wss.clients) c.send(frame);
  };
  return { url: `ws://127.0.0.1:${port}/ws`, http: `http://127.0.0.1:${port}`, seen, push };
}

it('a recorded device: read marks (never above what it saw), an HTTP send with its token, presence sub/unsub at their times; its first subscriptions only on its first connection', async () => {
  const srv = await miniServer();
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = {
    user: 'a', device: 'd0', convs: ['g:g1'], sendRate: 0, churnRate: 0, seed: 1, node: 1,
    presenceSubs: ['x'],
    script: [
      { op: 'read', at: 50, conv: 'g:g1', seq: 5 },
      { op: 'http-send', at: 100, conv: 'g:g1', cmid: 'h1', bytes: 80 },
      { op: 'presence.sub', at: 150, users: ['y'] },
      { op: 'presence.unsub', at: 200, users: ['x'] },
      { op: 'drop', at: 250, code: 1006 },
      { op: 'connect', at: 300 },
      { op: 'presence.sub', at: 450, users: ['z'] },
    ],
  };
  const c = new SimClient(plan, { url: srv.url, token: async () => 'tok.en.a', recorder, workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 100, attempts: 3, rotate: false }, cmids: 'counter' } });
  closers.push(() => c.stop());
  c.start();
  await c.whenSynced();
  const t0 = Date.now();
  c.startLoad();
  await waitUntil(async () => srv.seen.frames.some((x) => x.f.t === 'presence.sub' && (x.f.users as string[])[0] === 'z'), { timeoutMs: 5000, what: 'the last step' });
  const frames = srv.seen.frames.filter((x) => x.f.t !== 'hello').map((x) => ({ conn: x.conn, ...x.f }));
  expect(frames).toEqual([
    // its first connection subscribes what it held when the window began
    { conn: 1, t: 'presence.sub', users: ['x'], id: expect.any(String) },
    // the read mark of seq 5 clamped to the 2 messages this device holds
    { conn: 1, t: 'read', conv: 'g:g1', seq: 2 },
    { conn: 1, t: 'presence.sub', users: ['y'], id: expect.any(String) },
    { conn: 1, t: 'presence.unsub', users: ['x'], id: expect.any(String) },
    // after the recorded reconnect: no automatic subscription, only the recorded one
    { conn: 2, t: 'presence.sub', users: ['z'], id: expect.any(String) },
  ]);
  const at = (t: string, users?: string) => srv.seen.frames.find((x) => x.f.t === t && (!users || (x.f.users as string[])[0] === users))!.at - t0;
  expect(at('read')).toBeGreaterThanOrEqual(45);
  expect(at('presence.unsub')).toBeGreaterThanOrEqual(195);
  expect(at('presence.sub', 'z')).toBeGreaterThanOrEqual(445);
  // the HTTP send: POST /v1/messages with the device's token, the recorded cmid and size, answered like a `sent`
  const post = srv.seen.requests.find((r) => r.url === '/v1/messages')!;
  expect(post).toMatchObject({ method: 'POST', auth: 'Bearer tok.en.a' });
  expect(post.at - t0).toBeGreaterThanOrEqual(95);
  const body = JSON.parse(post.body) as { conv: string; cmid: string; body: string };
  expect(body).toMatchObject({ conv: 'g:g1', cmid: 'h1' });
  expect(body.body.length).toBe(80);
  expect(recorder.sends()).toEqual([expect.objectContaining({ client: 'a/d0', conn: 'http:1', conv: 'g:g1', cmid: 'h1', outcome: 'sent', seq: 9, attempts: 1 })]);
  expect(recorder.counts.get('replay_reads')).toBe(1);
  expect(recorder.counts.get('replay_read_short')).toBe(1);
});

it('a recorded ack of a seq the device does not hold yet is written once it does; the next ack step supersedes a wait that never ends', async () => {
  const srv = await miniServer();
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = {
    user: 'a', device: 'd0', convs: ['g:g1'], sendRate: 0, churnRate: 0, seed: 1, node: 1, presenceSubs: [],
    script: [
      // holds 1..2: acked at once
      { op: 'ack', at: 20, conv: 'g:g1', seq: 2 },
      // 4 arrives at ~150 ms: the ack waits for it
      { op: 'ack', at: 50, conv: 'g:g1', seq: 4 },
      // 6 never arrives (5 does): the next ack step writes what is held then, and waits for its own
      { op: 'ack', at: 250, conv: 'g:g1', seq: 6 },
      { op: 'ack', at: 400, conv: 'g:g1', seq: 8 },
    ],
  };
  const c = new SimClient(plan, { url: srv.url, token: async () => 't', recorder, workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 100, attempts: 3, rotate: false }, cmids: 'counter' } });
  closers.push(() => c.stop());
  c.start();
  await c.whenSynced();
  const t0 = Date.now();
  c.startLoad();
  const msg = (seq: number) => `{"t":"msg","conv":"g:g1","seq":${seq},"from":"b","cmid":"b.${seq}","body":"x","ts":1}`;
  await new Promise((r) => setTimeout(r, 150));
  srv.push(msg(3));
  srv.push(msg(4));
  await new Promise((r) => setTimeout(r, 150));
  srv.push(msg(5));
  await waitUntil(async () => srv.seen.frames.filter((x) => x.f.t === 'ack').length >= 3, { timeoutMs: 5000, what: 'three acks' });
  await new Promise((r) => setTimeout(r, 150));
  const acks = srv.seen.frames.filter((x) => x.f.t === 'ack').map((x) => ({ seq: x.f.seq, at: x.at - t0 }));
  expect(acks.map((a) => a.seq)).toEqual([2, 4, 5]);
  expect(acks[1]!.at).toBeGreaterThanOrEqual(145);
  expect(acks[2]!.at).toBeGreaterThanOrEqual(395);
  expect(recorder.counts.get('replay_ack_late')).toBe(1);
  expect(recorder.counts.get('replay_ack_short')).toBe(3);
});

it('steps that need a connection, coming while the device is still reconnecting, run once it is synced, in order (not skipped)', async () => {
  // the second connection is welcomed 300 ms after its hello: a reconnect slower than the original's
  const srv = await miniServer(undefined, (conn) => (conn === 2 ? 300 : 0));
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = {
    user: 'a', device: 'd0', convs: ['g:g1'], sendRate: 0, churnRate: 0, seed: 1, node: 1, presenceSubs: [],
    script: [
      { op: 'drop', at: 20, code: 1006 },
      { op: 'connect', at: 50 },
      // the original device was synced by these
      { op: 'presence.sub', at: 80, users: ['x'] },
      { op: 'ack', at: 90, conv: 'g:g1', seq: 2 },
      { op: 'read', at: 100, conv: 'g:g1', seq: 2 },
    ],
  };
  const c = new SimClient(plan, { url: srv.url, token: async () => 't', recorder, workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 100, attempts: 3, rotate: false }, cmids: 'counter' } });
  closers.push(() => c.stop());
  c.start();
  await c.whenSynced();
  c.startLoad();
  await waitUntil(async () => srv.seen.frames.some((x) => x.f.t === 'read'), { timeoutMs: 5000, what: 'the read mark' });
  const second = srv.seen.frames.filter((x) => x.conn === 2 && x.f.t !== 'hello').map((x) => x.f.t);
  expect(second).toEqual(['presence.sub', 'ack', 'read']);
  expect(recorder.counts.get('replay_deferred')).toBe(3);
  expect(recorder.counts.get('replay_presence_skipped')).toBeUndefined();
});

it('MembershipChurn with a recorded script: each change at its time, as the recorded user, through the nodes in turn; a change refused for good is said, not retried', async () => {
  const srv = await miniServer(({ by }) => (by === 'mallory' ? 403 : 200));
  const churn = new MembershipChurn({
    groups: [{ id: 'g1', owner: 'a', members: ['a', 'b'] }],
    users: ['a', 'b', 'c'],
    nodeUrls: () => [srv.http],
    jwtSecret: 'test-secret-test-secret-test-secret',
    ratePerSec: 0,
    seed: 1,
    script: [
      { at: 100, group: 'g1', user: 'c', op: 'join', by: 'a' },
      { at: 250, group: 'g1', user: 'b', op: 'leave', by: 'b' },
      { at: 300, group: 'g1', user: 'a', op: 'leave', by: 'mallory' },
    ],
  });
  const t0 = Date.now();
  churn.start();
  await waitUntil(async () => srv.seen.requests.length === 3, { timeoutMs: 5000, what: 'three requests' });
  const facts = await churn.stop();
  const reqs = srv.seen.requests.map((r) => ({ method: r.method, url: r.url, sub: JSON.parse(Buffer.from(r.auth.split('.')[1]!, 'base64url').toString()).sub, body: r.body }));
  expect(reqs).toEqual([
    { method: 'POST', url: '/v1/groups/g1/members', sub: 'a', body: '{"users":["c"]}' },
    { method: 'DELETE', url: '/v1/groups/g1/members/b', sub: 'b', body: '' },
    { method: 'DELETE', url: '/v1/groups/g1/members/a', sub: 'mallory', body: '' },
  ]);
  expect(srv.seen.requests[0]!.at - t0).toBeGreaterThanOrEqual(95);
  expect(srv.seen.requests[1]!.at - t0).toBeGreaterThanOrEqual(245);
  expect(facts.map((f) => ({ conv: f.conv, user: f.user, op: f.op }))).toEqual([
    { conv: 'g:g1', user: 'c', op: 'join' },
    { conv: 'g:g1', user: 'b', op: 'leave' },
  ]);
  expect(churn.refused).toEqual([expect.stringMatching(/^removing a from group g1 as mallory: HTTP 403/)]);
});
