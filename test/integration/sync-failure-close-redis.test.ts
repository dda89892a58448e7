// PROTOCOL.md, Connect 1, on a real Redis and a real server node: when the store fails during
// the handshake's connect sync (after `welcome`), the client gets `error` `unavailable` and
// the close 1013 (try again later), not a dropped socket (1006); and nothing stored is lost:
// once Redis answers again, the same device reconnects and gets its backlog from its cursor,
// in order, then `synced`. The in-memory version (a backlog read failing with the socket
// full): test/core/sync-failure-close.test.ts.
//
// How the sync, and only the sync, fails. The node reaches Redis through a TCP relay in this
// test's process (harness/util/tcp-relay.ts), with STORE_TIMEOUT_MS 400. The hello's store
// call (presence.open) is answered before the node sends `welcome`; right after `welcome` the
// node starts the sync, which needs at least three Redis round trips one after another (the
// user's conversations and the device's cursors, then the states, then the backlog range).
// The relay is stalled (both directions paused, sockets kept open: a link that stops moving)
// synchronously in the client's handler of `welcome`. Every round trip is forwarded by this
// process's event loop, and `welcome` was written by the node no later than the sync's first
// command, so its handler runs no later than the loop turn that forwards the first reply: the
// sync's second round trip cannot get through. The welcome gets out, the sync's reads time out. Checked, not hoped for: `welcome` arrived, the node logged
// 'connect sync failed' for that connection, and no `conv` or `msg` came before the close.
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type Frame } from '../helpers/client.ts';
import { connectAs } from '../helpers/cluster.ts';
import { dm, range, uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { waitUntil } from '../helpers/procs.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { redisBehindRelay } from '../helpers/relay.ts';
import { token } from '../helpers/tokens.ts';
import { readyzStatus } from '../../harness/util/http-call.ts';
import { keys } from '../../server/store/keys.ts';
import { CloseCode } from '../../server/protocol/codes.ts';

const STORE_TIMEOUT_MS = 400;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  Client.terminateAll();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const readyz = (node: NodeHandle): Promise<number> => readyzStatus(node.url);

/** the device's stored cursor of `conv`, read from Redis directly */
async function storedSeq(redis: RedisHandle, user: string, device: string, conv: string): Promise<number | null> {
  const v = (await redis.command('HGET', keys.cursors(user, device), conv)) as string | null;
  return v ? Number(v.split('|')[1]) : null;
}

/** `welcome`, `synced`, `error`, and `conv`'s own frames, as short words in arrival order */
function transcript(frames: readonly Frame[], conv: string): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f.t === 'welcome' || f.t === 'synced') out.push(f.t);
    else if (f.t === 'error') out.push(`error ${f.code}`);
    else if (f.conv !== conv) out.push(f.t);
    else if (f.t === 'conv') out.push(`conv ${f.cursor}/${f.head}`);
    else if (f.t === 'msg') out.push(`msg ${f.seq}`);
    else if (f.t === 'gap') out.push(`gap ${f.from}-${f.to}`);
    else out.push(f.t);
  }
  return out;
}

describe('the store failing during the connect sync (real Redis, a real node)', () => {
  it('answers `error` unavailable and closes 1013 after `welcome`; after Redis is back the device gets its whole backlog from its cursor (PROTOCOL.md Connect 1)', { timeout: 30_000 }, async () => {
    const { redis, relay } = await redisBehindRelay(cleanups);
    const node = await startNode({ redisUrl: relay.url, env: { STORE_TIMEOUT_MS } });
    cleanups.push(() => node.kill());

    const x = uid('x');
    const y = uid('y');
    const conv = dm(x, y);
    const sender = await connectAs(node, x, 'd1');
    const first = await connectAs(node, y, 'd1');
    await Promise.all([sender.waitSynced(), first.waitSynced()]);
    const bodies = new Map<number, string>();
    const send = async (i: number): Promise<void> => {
      const body = `backlog ${i}`;
      const r = await sender.request({ t: 'send', conv, cmid: `m${i}`, body });
      expect(r, `send m${i}`).toMatchObject({ t: 'sent', seq: i, dup: false });
      bodies.set(i, body);
    };

    // y/d1 has 1..3 and acks them: its cursor is 3, stored
    for (const i of range(1, 3)) await send(i);
    await first.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 3);
    expect((await first.request({ t: 'ack', conv, seq: 3 })).t).toBe('ok');
    await waitUntil(async () => (await storedSeq(redis, y, 'd1', conv)) === 3, { timeoutMs: 5000, what: "y/d1's cursor stored at 3" });
    first.close();
    await first.waitClose(5000);

    // its backlog: 4..12 stored (each answered `sent`) while it is away
    const last = 12;
    for (const i of range(4, last)) await send(i);
    sender.close();
    await sender.waitClose(5000);

    // the failing connect: the relay stalls the moment `welcome` is read
    const failing = await Client.connect(node.wsUrl, { ws: { perMessageDeflate: false } });
    let stalledAt = 0;
    // registered after the Client's own listener, so it runs in the same callback that records
    // the frame (ws emits 'message' synchronously as it parses the socket's data)
    failing.ws.on('message', (data: WebSocket.RawData) => {
      if (stalledAt !== 0) return;
      let t: unknown;
      try {
        t = (JSON.parse(data.toString()) as { t?: unknown }).t;
      } catch {
        return; // kept as junk by the Client, and asserted on below
      }
      if (t !== 'welcome') return;
      relay.stall();
      stalledAt = Date.now();
    });
    try {
      failing.send({ t: 'hello', v: 1, token: await token({ sub: y, dev: 'd1' }) });
      const closed = await failing.waitClose(5 * STORE_TIMEOUT_MS + 5000);
      const words = transcript(failing.frames, conv);
      // the hello's store call was answered: `welcome` came, the relay stalled right then
      expect(stalledAt, `the relay stalled at welcome; ${failing.describe()}`).toBeGreaterThan(0);
      const welcome = failing.frames[0]!;
      expect(welcome).toMatchObject({ t: 'welcome', user: y, device: 'd1' });
      // the sync is what failed (gateway.ts: hub.syncOnConnect(conn).catch)
      await node.waitForLog((l) => l.json?.msg === 'connect sync failed' && l.json?.conn === welcome.conn, 5000);
      // PROTOCOL.md, Connect 1: `error` unavailable, then the close 1013; nothing of the
      // backlog and no `synced` (the sync never read it)
      expect({ close: closed.code, frames: words }, failing.describe()).toEqual({ close: CloseCode.tryAgainLater, frames: ['welcome', 'error unavailable'] });
      expect(failing.frames[1]).toMatchObject({ t: 'error', code: 'unavailable', retryable: true });
      // the node waited for the store: its command timed out (STORE_TIMEOUT_MS), or the link
      // probe gave up on the stalled link first (its ping every STORE_TIMEOUT_MS / 2, dropped
      // STORE_TIMEOUT_MS after the last answer: no sooner than STORE_TIMEOUT_MS / 2 after the stall)
      expect(closed.at - stalledAt, 'the close came once the store stopped answering, not at once').toBeGreaterThanOrEqual(STORE_TIMEOUT_MS / 2 - 50);
      expect(failing.junk).toEqual([]);
    } finally {
      relay.restore();
    }

    // Redis answers again: the node is ready (its /readyz pings Redis through the relay). A
    // probe of the stall that gives up on its link does so before a later command on that link
    // is answered (commands are answered in order), so after this 200 no drop is still to come.
    await waitUntil(async () => (await readyz(node)) === 200, { timeoutMs: 10_000, intervalMs: 50, what: 'the node ready again after the relay was restored' });
    // the failed connect moved nothing: the cursor is still 3
    expect(await storedSeq(redis, y, 'd1', conv)).toBe(3);

    const again = await connectAs(node, y, 'd1');
    await again.waitSynced(10_000);
    expect(transcript(again.frames, conv), again.describe()).toEqual(['welcome', `conv 3/${last}`, ...range(4, last).map((s) => `msg ${s}`), 'synced']);
    expect(again.msgs(conv).map((m) => ({ seq: m.seq, from: m.from, cmid: m.cmid, body: m.body }))).toEqual(range(4, last).map((s) => ({ seq: s, from: x, cmid: `m${s}`, body: bodies.get(s) })));
    again.close();
    await again.waitClose(5000);
  });
});
