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

/**
 * A dm's first message on a node where no channel holds it yet: the open connections of
 * both users there take it live from the bus, with no store read (issue 10: the reads of
 * attachLater — state, cursor, log — were most of a new dm's cost to the node).
 */
describe("a dm's first message on a node with no channel for it", () => {
  it('reaches every open connection of both users, from the bus alone', async () => {
    const { store, nodes } = simCluster(1, { autoBus: false });
    const n1 = nodes[0]!;
    const a = await n1.connect('ua', 'd1');
    const b1 = await n1.connect('ub', 'd1');
    const b2 = await n1.connect('ub', 'd2');
    const reads: string[] = [];
    for (const [seam, name] of [[store, 'states'], [store, 'range'], [store, 'cursorOf'], [store, 'cursors']] as const) {
      const real = (seam as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(seam);
      (seam as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        reads.push(name);
        return real(...args);
      };
    }
    const conv = 'dm:ua:ub';
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ua', cmid, bodyJson: '"x"' });
    const { epoch } = (await send('m1')) as { epoch: string };
    while (n1.link.deliverNext()) await settle(2);
    await settle(20);
    expect(reads).toEqual([]);
    const frames = (c: typeof a) => c.socket.frames.filter((f) => 'conv' in f && f.conv === conv).map((f) => (f.t === 'conv' ? `conv ${f.epoch === epoch ? 'E' : f.epoch} ${f.cursor}/${f.head}` : f.t === 'msg' ? `msg ${f.seq}` : f.t));
    for (const c of [a, b1, b2]) expect(frames(c)).toEqual(['conv E 0/1', 'msg 1']);
    // the channel goes on live: the next message is a plain push, still without a read
    await send('m2');
    while (n1.link.deliverNext()) await settle(2);
    await settle(20);
    for (const c of [a, b1, b2]) expect(frames(c)).toEqual(['conv E 0/1', 'msg 1', 'msg 2']);
    expect(reads).toEqual([]);
  });

  it('when the bus lost seq 1, the next message attaches through the store and brings both', async () => {
    const { store, nodes } = simCluster(1, { autoBus: false });
    const n1 = nodes[0]!;
    const a = await n1.connect('ua', 'd1');
    const b = await n1.connect('ub', 'd1');
    const conv = 'dm:ua:ub';
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ua', cmid, bodyJson: '"x"' });
    await send('m1');
    await send('m2');
    n1.link.dropNext();
    while (n1.link.deliverNext()) await settle(2);
    await settle(40);
    const seqs = (c: typeof a) => c.socket.frames.filter((f) => f.t === 'msg' && f.conv === conv).map((f) => (f.t === 'msg' ? f.seq : 0));
    expect(seqs(a)).toEqual([1, 2]);
    expect(seqs(b)).toEqual([1, 2]);
  });
});
