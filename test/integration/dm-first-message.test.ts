// A dm's first message reaches the connections of its two users on a node with no channel for
// it straight from the bus, with no store read (server/delivery/hub.ts beginDm): on real Redis
// and real sockets, what the node asks Redis about that dm is watched with MONITOR. The
// in-memory version of this (test/core/dm-attach.test.ts) counts the seam's calls; this one
// shows the same on the wire. Before beginDm, each connection attached by reading conv-state,
// its cursor and the log (XRANGE): three commands naming the dm per connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { dm, uid } from '../helpers/ids.ts';
import { sleep } from '../helpers/procs.ts';
import { linksOf, monitor, type Watched } from '../helpers/redis.ts';

describe("a dm's first message on a node with no channel for it", () => {
  let cl: Cluster;
  beforeAll(async () => {
    cl = await startCluster({ nodes: 2 });
  });
  afterAll(async () => {
    await cl?.cleanup();
  });

  it('reaches both users\' connections there with no command naming the dm; a later connection of the same user does read it', async () => {
    const [sending, other] = [cl.nodes[0]!, cl.nodes[1]!];
    const s = uid('s');
    const r = uid('r');
    const conv = dm(s, r);
    // on the other node: two devices of the recipient and one of the sender
    const there = [await connectAs(other, r, 'd0'), await connectAs(other, r, 'd1'), await connectAs(other, s, 'd1')].map((c) => cl.track(c));
    const sender = cl.track(await connectAs(sending, s, 'd0'));
    for (const c of [...there, sender]) await c.waitSynced();
    const addrs = await linksOf(cl.redis.port, other.nodeId);
    expect(addrs.length, `links of ${other.nodeId}`).toBeGreaterThanOrEqual(2);
    // each as its first few words (a script's whole text, sent by EVAL, would bury the rest)
    const naming = (w: Watched) =>
      addrs
        .flatMap((a) => w.byAddr.get(a) ?? [])
        .filter((words) => words.some((x) => x.includes(conv)))
        .map((words) => words.filter((x) => x.length < 80).slice(0, 4).join(' '));

    const watch = await monitor(cl.redis.port);
    try {
      expect(await sender.request({ t: 'send', conv, cmid: 'first', body: 'hello' })).toMatchObject({ t: 'sent', seq: 1 });
      for (const c of there) {
        const conv1 = await c.waitFor((f) => f.t === 'conv' && f.conv === conv);
        expect(conv1).toMatchObject({ cursor: 0, head: 1 });
        await c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 1);
      }
      // the second message too: live on the channel the first one opened
      expect(await sender.request({ t: 'send', conv, cmid: 'second', body: 'again' })).toMatchObject({ t: 'sent', seq: 2 });
      for (const c of there) await c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 2);
      // a command issued by then would have shown in MONITOR before the pushes it fed
      await sleep(100);
      expect(naming(watch), `commands of ${other.nodeId} naming ${conv}`).toEqual([]);

      // the watch does see that node read the dm: a new connection of the recipient there
      // attaches through the store (conv-state, its cursor, the log)
      const later = cl.track(await connectAs(other, r, 'd2'));
      await later.waitSynced();
      expect(later.frames.filter((f) => f.t === 'msg' && f.conv === conv).map((f) => f.seq)).toEqual([1, 2]);
      await sleep(100);
      expect(naming(watch).length, `commands of ${other.nodeId} naming ${conv} after a new connection`).toBeGreaterThan(0);
    } finally {
      watch.stop();
    }
  });
});
