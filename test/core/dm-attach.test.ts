import { describe, expect, it } from 'vitest';
import { settle, simCluster } from './sim-node.ts';

/**
 * A dm's first messages must reach every open connection of both users on a node, also
 * when the conversation's channel on that node already exists for one of them only — a
 * resync that read one user's index after the dm began and the other's before (found by
 * the soak scenario: a device connected throughout got a new dm only at its next connect).
 */
describe('a new dm on a node where one side is attached already', () => {
  it('the other side joins the channel at the next message, and gets the first one too', async () => {
    const { store, nodes } = simCluster(1, { autoBus: false });
    const n1 = nodes[0]!;
    const a = await n1.connect('ua', 'd1');
    const b = await n1.connect('ub', 'd1');
    const conv = 'dm:ua:ub';
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ua', cmid, bodyJson: '"x"' });
    await send('m1');
    // a resync read ua's index after the dm began (and ub's just before): ua is attached, and
    // the channel exists, when the first message comes over the bus
    await n1.hub.attachLater(a.conn, conv, 0);
    while (n1.link.deliverNext()) await settle(2);
    await send('m2');
    while (n1.link.deliverNext()) await settle(2);
    await settle(40);
    const seqs = (c: typeof a) => c.socket.frames.filter((f) => f.t === 'msg' && f.conv === conv).map((f) => (f.t === 'msg' ? f.seq : 0));
    expect(seqs(a)).toEqual([1, 2]);
    expect(seqs(b)).toEqual([1, 2]);
  });
});
