// PROTOCOL.md "WebSocket": connect, hello/welcome, tokens, auth refresh and expiry,
// ping/pong, bad frames (4400), frame size (1009), heartbeats (4408), replacement (4409).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { dm, uid } from '../helpers/ids.ts';
import { sleep } from '../helpers/procs.ts';
import { token, tokenWithClaims, unsignedToken } from '../helpers/tokens.ts';

const HELLO_TIMEOUT_MS = 1000;
const HEARTBEAT_MS = 1000;

let cl: Cluster;
let node: NodeHandle;

beforeAll(async () => {
  cl = await startCluster({ env: { HELLO_TIMEOUT_MS, HEARTBEAT_MS } });
  node = cl.nodes[0]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

/** A frame that never needs the store and is always answered: proves the connection is usable. */
async function alive(c: Client): Promise<void> {
  const pong = await c.request({ t: 'ping' });
  expect(pong.t).toBe('pong');
}

async function expectRefused(first: string | object, code = 'unauthorized'): Promise<void> {
  const c = await Client.connect(node.wsUrl);
  c.send(first);
  const err = await c.waitFor((f) => f.t === 'error' || f.t === 'welcome');
  expect(err, `first frame ${JSON.stringify(first)}`).toMatchObject({ t: 'error', code, retryable: false });
  expect(typeof err.message).toBe('string');
  const close = await c.waitClose();
  expect(close.code, `first frame ${JSON.stringify(first)}`).toBe(4401);
  expect(c.frames.some((f) => f.t === 'welcome')).toBe(false);
}

describe('hello / welcome', () => {
  it('welcome carries v, user, device, conn, node, heartbeatMs and maxBodyBytes, then one synced', async () => {
    const u = uid();
    const c = await Client.connect(node.wsUrl);
    const w = await c.hello(await token({ sub: u, dev: 'd1' }));
    expect(w).toMatchObject({ t: 'welcome', v: 1, user: u, device: 'd1', node: node.nodeId, heartbeatMs: HEARTBEAT_MS, maxBodyBytes: 16384 });
    expect(typeof w.conn).toBe('string');
    expect(w.conn.length).toBeGreaterThan(0);
    // a new user has no conversation: nothing but `synced`, exactly once
    await c.waitSynced();
    await alive(c);
    expect(c.frames.filter((f) => f.t === 'synced')).toHaveLength(1);
    expect(c.frames.filter((f) => f.t === 'conv' || f.t === 'msg' || f.t === 'gap')).toHaveLength(0);
    expect(c.frames[0]!.t).toBe('welcome');
  });

  it('device defaults to "default"; every connection gets its own conn id', async () => {
    const u = uid();
    const a = await connectAs(node, u);
    const b = await connectAs(node, u, 'other');
    expect(a.welcome.device).toBe('default');
    expect(b.welcome.device).toBe('other');
    expect(a.welcome.conn).not.toBe(b.welcome.conn);
    await alive(a);
    await alive(b);
  });

  it('closes 4401 when hello does not come within HELLO_TIMEOUT_MS', async () => {
    const c = await Client.connect(node.wsUrl);
    const close = await c.waitClose(10_000);
    expect(close.code).toBe(4401);
    const elapsed = close.at - c.openedAt;
    expect(elapsed).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 150);
    expect(elapsed).toBeLessThan(HELLO_TIMEOUT_MS + 4000);
  });

  it('any other first frame: error unauthorized, close 4401', async () => {
    const u = uid();
    await expectRefused({ t: 'ping', id: 'p1' });
    await expectRefused({ t: 'send', id: 's1', conv: dm(u, uid()), cmid: 'c1', body: 'x' });
    await expectRefused({ t: 'auth', id: 'a1', token: await token({ sub: u }) });
    await expectRefused('this is not json');
    await expectRefused({ t: 'hello', v: 1 }); // missing token
  });

  it('rejects expired, unsigned, wrongly signed and malformed tokens: error unauthorized, close 4401', async () => {
    const u = uid();
    const now = Math.floor(Date.now() / 1000);
    const bad: Record<string, string> = {
      expired: await token({ sub: u, expInSec: -30 }),
      wrongSecret: await token({ sub: u, secret: 'not-the-server-secret-0123456789abcdef' }),
      unsigned: unsignedToken(u),
      garbage: 'not-a-jwt',
      threeParts: 'abc.def.ghi',
      noSub: await tokenWithClaims({ exp: now + 3600 }),
      noExp: await tokenWithClaims({ sub: u }),
      badSub: await tokenWithClaims({ sub: 'bad user!', exp: now + 3600 }),
    };
    // a valid token whose payload was swapped for another user's: signature no longer matches
    const good = await token({ sub: u });
    const other = await token({ sub: uid() });
    bad.tamperedPayload = `${good.split('.')[0]}.${other.split('.')[1]}.${good.split('.')[2]}`;
    for (const [name, tok] of Object.entries(bad)) {
      const c = await Client.connect(node.wsUrl);
      c.send({ t: 'hello', v: 1, token: tok });
      const f = await c.waitFor((x) => x.t === 'error' || x.t === 'welcome');
      expect(f, name).toMatchObject({ t: 'error', code: 'unauthorized', retryable: false });
      expect((await c.waitClose()).code, name).toBe(4401);
    }
    // and a token that is not a string
    await expectRefused({ t: 'hello', v: 1, token: 12345 });
  });
});

describe('requests after welcome', () => {
  it('ping answers pong echoing the id with the server time', async () => {
    const c = await connectAs(node, uid());
    const before = Date.now();
    const pong = await c.request({ t: 'ping', id: 'my-ping-1' });
    expect(pong).toMatchObject({ t: 'pong', id: 'my-ping-1' });
    expect(typeof pong.ts).toBe('number');
    expect(Math.abs(pong.ts - before)).toBeLessThan(5000);
  });

  it('unknown t, ill-typed or missing fields, non-JSON and bad ids answer bad_request; the connection stays usable', async () => {
    const u = uid();
    const conv = dm(u, uid());
    const c = await connectAs(node, u);
    await c.waitSynced();
    const withId: Array<Record<string, unknown>> = [
      { t: 'no-such-frame' },
      { t: 'send', conv: 5, cmid: 'c1', body: 'x' },
      { t: 'send', conv, cmid: 'c1' }, // missing body
      { t: 'send', conv, cmid: 'c1', body: 42 },
      { t: 'send', conv, cmid: 'bad cmid with spaces', body: 'x' },
      { t: 'send', conv, cmid: 'c'.repeat(65), body: 'x' },
      { t: 'send', conv: `dm:${u}:${u}`, cmid: 'c1', body: 'x' }, // a dm needs two distinct users
      { t: 'send', conv: 'chan:whatever', cmid: 'c1', body: 'x' },
      { t: 'ack', conv, seq: '7' },
      { t: 'read', conv },
      { t: 'history', conv, limit: 0 },
      { t: 'history', conv, limit: 101 },
      { t: 'history', conv, limit: 2.5 },
      { t: 'history', conv, after: 'x' },
      { t: 'presence.sub', users: 'u2' },
      { t: 'presence.sub', users: ['bad user!'] },
      { t: 'presence.unsub' },
    ];
    for (const frame of withId) {
      const reply = await c.request(frame);
      expect(reply, JSON.stringify(frame)).toMatchObject({ t: 'error', code: 'bad_request', retryable: false });
      await alive(c); // resets the in-a-row count and proves the connection is fine
    }
    // frames whose id cannot be echoed
    const noId: string[] = ['not json at all', '[1,2,3]', '42', 'null', '{"id":"x1"}', '{"t":7,"id":"x2"}', JSON.stringify({ t: 'ping', id: 'x'.repeat(65) }), JSON.stringify({ t: 'ping', id: 17 })];
    for (const raw of noId) {
      const from = c.received.length;
      c.send(raw);
      const f = await c.waitFor((x) => x.t === 'error' || x.t === 'pong', 10_000, from);
      expect(f, raw).toMatchObject({ t: 'error', code: 'bad_request', retryable: false });
      await alive(c);
    }
    expect(c.isOpen).toBe(true);
  });

  it('ten bad frames in a row close 4400; a good frame resets the count; other connections are unaffected', async () => {
    const u = uid();
    const c = await connectAs(node, u, 'd1');
    const other = await connectAs(node, u, 'd2');
    for (let i = 0; i < 9; i++) c.send({ t: 'nope', id: `a${i}` });
    await c.waitFor((f) => f.id === 'a8');
    await alive(c); // the tenth frame is good: the count starts again
    for (let i = 0; i < 9; i++) c.send({ t: 'nope', id: `b${i}` });
    await c.waitFor((f) => f.id === 'b8');
    expect(c.isOpen).toBe(true);
    c.send({ t: 'nope', id: 'b9' }); // ten in a row
    const close = await c.waitClose();
    expect(close.code).toBe(4400);
    expect(c.frames.filter((f) => f.t === 'error' && f.code === 'bad_request').length).toBeGreaterThanOrEqual(18);
    await alive(other);
    expect(other.closed).toBeUndefined();
  });

  it('a frame larger than MAX_FRAME_BYTES closes 1009; a smaller one over MAX_BODY_BYTES answers too_large', async () => {
    const u = uid();
    const conv = dm(u, uid());
    const c = await connectAs(node, u);
    const r = await c.request({ t: 'send', conv, cmid: 'big1', body: 'x'.repeat(60_000) });
    expect(r).toMatchObject({ t: 'error', code: 'too_large', retryable: false });
    c.send({ t: 'send', id: 'big2', conv, cmid: 'big2', body: 'x'.repeat(70_000) });
    const close = await c.waitClose();
    expect(close.code).toBe(1009);
  });
});

describe('heartbeats', () => {
  it('the server sends WebSocket pings about every HEARTBEAT_MS', async () => {
    const c = await connectAs(node, uid());
    let pings = 0;
    c.ws.on('ping', () => pings++);
    await sleep(3.5 * HEARTBEAT_MS);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(c.isOpen).toBe(true);
  });

  it('closes 4408 when no pong or frame arrives for 2×HEARTBEAT_MS', async () => {
    const c = await Client.connect(node.wsUrl, { autoPong: false });
    const helloAt = Date.now();
    await c.hello(await token({ sub: uid() }));
    const close = await c.waitClose(15_000);
    expect(close.code).toBe(4408);
    expect(close.at - helloAt).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS - 200);
    expect(close.at - helloAt).toBeLessThan(2 * HEARTBEAT_MS + 5000);
  });

  it('a node frozen past 2×HEARTBEAT_MS (SIGSTOP, a VM pause, a long GC) gives its clients a full window after it resumes: live ones stay, silent ones close 4408 2×HEARTBEAT_MS later', async () => {
    const live = await connectAs(node, uid());
    await live.waitSynced();
    const silent = await Client.connect(node.wsUrl, { autoPong: false });
    await silent.hello(await token({ sub: uid() }));
    // frozen with no store call in flight: one in flight times out when the node resumes
    // (its timer fires before its reply is read) and the connect sync closes 1013 (README,
    // Known limitations); this test is about the heartbeat
    await silent.waitSynced();
    node.pause();
    await sleep(3 * HEARTBEAT_MS);
    node.resume();
    const resumedAt = Date.now();
    // before the fix the first sweep after SIGCONT ran before the sockets were read and closed both 4408
    const close = await silent.waitClose(15_000);
    expect(close.code).toBe(4408);
    expect(close.at - resumedAt).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS - 300);
    await sleep(HEARTBEAT_MS);
    expect(live.closed).toBeUndefined();
    await alive(live);
    await node.waitForLog((l) => l.json?.msg === 'the node was frozen; every connection gets a full heartbeat window before it is judged', 1000);
  });

  it('inbound frames count as liveness even without pongs; silence then closes 4408', async () => {
    const c = await Client.connect(node.wsUrl, { autoPong: false });
    await c.hello(await token({ sub: uid() }));
    const until = Date.now() + 4 * HEARTBEAT_MS;
    while (Date.now() < until) {
      await c.request({ t: 'ping' });
      await sleep(HEARTBEAT_MS / 3);
    }
    expect(c.isOpen).toBe(true);
    expect((await c.waitClose(15_000)).code).toBe(4408);
  });
});

describe('auth refresh and token expiry', () => {
  it('closes 4401 at the token exp, without an error frame', async () => {
    const u = uid();
    const c = await Client.connect(node.wsUrl);
    const tok = await token({ sub: u, expInSec: 2 });
    const exp = JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString()).exp as number;
    await c.hello(tok);
    const close = await c.waitClose(15_000);
    expect(close.code).toBe(4401);
    expect(close.at).toBeGreaterThanOrEqual(exp * 1000 - 100);
    expect(close.at).toBeLessThan(exp * 1000 + 4000);
    expect(c.frames.some((f) => f.t === 'error')).toBe(false);
  });

  it('auth with a fresh token (same sub and dev) answers ok and keeps the connection past the old exp', async () => {
    const u = uid();
    const c = await Client.connect(node.wsUrl);
    const tok = await token({ sub: u, dev: 'd1', expInSec: 2 });
    const exp = JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString()).exp as number;
    await c.hello(tok);
    const ok = await c.request({ t: 'auth', id: 'auth-1', token: await token({ sub: u, dev: 'd1', expInSec: 3600 }) });
    expect(ok).toEqual({ t: 'ok', id: 'auth-1' });
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 2500);
    expect(c.closed).toBeUndefined();
    await alive(c);
  });

  it('auth with a bad, missing, other-sub or other-dev token: error unauthorized, close 4401', async () => {
    const cases: Array<[string, (u: string) => Promise<Record<string, unknown>>]> = [
      ['wrong secret', async (u) => ({ token: await token({ sub: u, dev: 'd1', secret: 'wrong-secret-wrong-secret-wrong-secret' }) })],
      ['expired', async (u) => ({ token: await token({ sub: u, dev: 'd1', expInSec: -10 }) })],
      ['missing', async () => ({})],
      ['other sub', async () => ({ token: await token({ sub: uid(), dev: 'd1' }) })],
      ['other dev', async (u) => ({ token: await token({ sub: u, dev: 'd2' }) })],
      ['garbage', async () => ({ token: 'garbage' })],
    ];
    const seen: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [name, make] of cases) {
      const u = uid();
      const c = await connectAs(node, u, 'd1');
      const reply = await c.request({ t: 'auth', id: 'auth-x', ...(await make(u)) });
      const close = await c.waitClose(5000).catch(() => undefined);
      seen[name] = `${reply.t}/${reply.id}/${reply.code}/${reply.retryable} close ${close?.code}`;
      want[name] = 'error/auth-x/unauthorized/false close 4401';
    }
    expect(seen).toEqual(want);
  });
});

describe('device replacement', () => {
  it('a second connection of the same user and device closes the first with 4409 (same node); other devices stay', async () => {
    const u = uid();
    const first = await connectAs(node, u, 'phone');
    const tablet = await connectAs(node, u, 'tablet');
    const second = await connectAs(node, u, 'phone');
    expect((await first.waitClose()).code).toBe(4409);
    await alive(second);
    await alive(tablet);
    expect(second.welcome.device).toBe('phone');
  });
});

describe('configuration', () => {
  it('each variable is also a --kebab-case flag', async () => {
    const n = await startNode({
      redisUrl: cl.redis.url,
      env: { HEARTBEAT_MS: undefined, MAX_BODY_BYTES: undefined, HELLO_TIMEOUT_MS: undefined },
      args: ['--heartbeat-ms', '1234', '--max-body-bytes', '1000'],
    });
    try {
      const c = await connectAs(n, uid());
      expect(c.welcome).toMatchObject({ heartbeatMs: 1234, maxBodyBytes: 1000 });
      const r = await c.request({ t: 'send', conv: dm(c.welcome.user as string, uid()), cmid: 'c1', body: 'x'.repeat(1001) });
      expect(r).toMatchObject({ t: 'error', code: 'too_large' });
    } finally {
      await n.kill();
    }
  });

  it('JWT_SECRET is required: without it the server does not start', async () => {
    let started: NodeHandle | undefined;
    const err = await startNode({ redisUrl: cl.redis.url, env: { JWT_SECRET: undefined }, timeoutMs: 10_000 }).then(
      (n) => {
        started = n;
        return undefined;
      },
      (e: unknown) => e,
    );
    await started?.kill();
    expect(started, 'a node without JWT_SECRET became ready').toBeUndefined();
    expect(String(err)).toMatch(/exited \((?!0\))/);
  });
});
