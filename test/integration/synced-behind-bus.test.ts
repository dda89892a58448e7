// PROTOCOL.md, Connect 3, on real Redis and real server processes: a device reconnecting to a
// node whose bus has not yet brought the newest seq of a conversation still gets that seq
// before `synced`. The node's channel for the dm is at the device's cursor (another device of
// the user keeps it there); the store's head is one above. Before b410226 the connect sync's
// replay stopped at the channel's `last` and left the newest seq to the channel's fill, after
// `synced` (welcome, synced, conv, msg). The in-memory version, with a held bus link:
// test/core/synced-order.test.ts, 'a node whose channel is behind the store'.
//
// One REDIS_URL per node means a latency toxic would slow its store reads as much as its bus,
// so node B runs TEST_BUGS=bus_delay (server/testing/faulty-stores.ts): every bus payload
// reaches it BUS_DELAY_MS late while its reads answer at once. The precondition is checked,
// not hoped for: the reconnect's `synced` arrives less than BUS_DELAY_MS after the send began,
// so B's bus cannot have brought the new seq to the channel before the sync ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Frame } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { dm, uid } from '../helpers/ids.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { keys } from '../../server/store/keys.ts';
import { BUS_DELAY_MS } from '../../server/testing/faulty-stores.ts';

let cl: Cluster;
beforeAll(async () => {
  // A as usual; B's bus BUS_DELAY_MS late (STORE_TIMEOUT_MS's default, 2000, stays above it)
  cl = await startCluster({ nodes: 2, nodeEnv: [{}, { TEST_BUGS: 'bus_delay' }] });
});
afterAll(async () => {
  await cl?.cleanup();
});

/** the device's stored cursor of `conv`, read from Redis */
async function storedSeq(user: string, device: string, conv: string): Promise<number | null> {
  const v = (await cl.redis.command('HGET', keys.cursors(user, device), conv)) as string | null;
  return v ? Number(v.split('|')[1]) : null;
}

/** `welcome`, `synced`, and `conv`'s own frames, as short words in arrival order */
function transcript(c: Client, conv: string): string[] {
  const out: string[] = [];
  for (const f of c.frames as Frame[]) {
    if (f.t === 'welcome' || f.t === 'synced') out.push(f.t);
    else if (f.conv !== conv) continue;
    else if (f.t === 'conv') out.push(`conv ${f.cursor}/${f.head}`);
    else if (f.t === 'msg') out.push(`msg ${f.seq}`);
    else if (f.t === 'gap') out.push(`gap ${f.from}-${f.to}`);
  }
  return out;
}

describe("a reconnect to a node whose bus is behind the store (TEST_BUGS=bus_delay on B)", () => {
  it('gets the seq the bus has not brought yet before synced, and nothing of it again after', async () => {
    const [A, B] = [cl.nodes[0]!, cl.nodes[1]!];
    const x = uid('x');
    const y = uid('y');
    const conv = dm(x, y);
    const sender = cl.track(await connectAs(A, x, 'd1'));
    // y's other device keeps B's channel for the dm open, caught up, while d1 reconnects
    const keeper = cl.track(await connectAs(B, y, 'd2'));
    const first = cl.track(await connectAs(B, y, 'd1'));
    for (const c of [sender, keeper, first]) await c.waitSynced();

    const send = async (cmid: string): Promise<number> => {
      const r = await sender.request({ t: 'send', conv, cmid, body: cmid });
      expect(r).toMatchObject({ t: 'sent', dup: false });
      return r.seq as number;
    };
    for (const cmid of ['m1', 'm2', 'm3']) await send(cmid);
    // through B's late bus: the channel's last is 3 on B, and d1 has acked all of it
    for (const c of [keeper, first]) await c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 3);
    expect((await first.request({ t: 'ack', conv, seq: 3 })).t).toBe('ok');
    await waitUntil(async () => (await storedSeq(y, 'd1', conv)) === 3, { timeoutMs: 10_000, what: "y/d1's cursor stored at 3" });

    // seq 4 stored and answered; B's bus brings it no earlier than startedAt + BUS_DELAY_MS
    const startedAt = Date.now();
    const n = await send('m4');
    expect(n).toBe(4);
    first.close();
    await first.waitClose();
    const again = cl.track(await connectAs(B, y, 'd1'));
    const synced = await again.waitForReceived((f) => f.t === 'synced');

    // the precondition, checked: B's sync ended before its bus could have brought seq 4, and
    // B never pushed seq 4 to the closed connection
    expect(synced.at - startedAt, `synced ${synced.at - startedAt} ms after the send began: not inside BUS_DELAY_MS (${BUS_DELAY_MS} ms)`).toBeLessThan(BUS_DELAY_MS);
    expect(first.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3]);

    // past the delay: B's bus has brought seq 4 (the keeper has it), then a live seq 5
    await keeper.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 4);
    await sleep(Math.max(0, startedAt + BUS_DELAY_MS + 300 - Date.now()));
    expect(await send('m5')).toBe(5);
    await again.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 5);
    await keeper.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 5);
    await sleep(200);

    // seq 4 before synced (PROTOCOL.md, Connect 3); after it only the live seq 5
    expect(transcript(again, conv), `the reconnect on B: ${again.describe()}`).toEqual(['welcome', 'conv 3/4', 'msg 4', 'synced', 'msg 5']);
    expect(keeper.msgs(conv).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
