import { describe, expect, it, vi } from 'vitest';
import { settle, simCluster, type SimConn } from './sim-node.ts';

const conv = 'dm:ua:ub';

/** One node with ua/d1 and ub/d1 connected, and the dm between them not begun. */
async function twoUsers() {
  const { store, nodes } = simCluster(1, { autoBus: false });
  const n1 = nodes[0]!;
  const a = await n1.connect('ua', 'd1');
  const b = await n1.connect('ub', 'd1');
  const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ua', cmid, bodyJson: '"x"' });
  /** every bus message that arrived, delivered, with the turns each one takes */
  const deliverAll = async () => {
    while (n1.link.deliverNext()) await settle(2);
    await settle(40);
  };
  return { store, n1, a, b, send, deliverAll };
}

const seqs = (c: SimConn) => c.socket.frames.filter((f) => f.t === 'msg' && f.conv === conv).map((f) => (f.t === 'msg' ? f.seq : 0));

/**
 * A dm's first messages must reach every open connection of both users on a node, also
 * when the conversation's channel on that node already exists for one of them only — a
 * resync that read one user's index after the dm began and the other's before (found by
 * the soak scenario: a device connected throughout got a new dm only at its next connect).
 */
describe('a new dm on a node where one side is attached already', () => {
  it('the other side joins the channel at the next message, and gets the first one too', async () => {
    const { n1, a, b, send, deliverAll } = await twoUsers();
    await send('m1');
    // a resync read ua's index after the dm began (and ub's just before): ua is attached, and
    // the channel exists, when the first message comes over the bus
    await n1.hub.attachLater(a.conn, conv, 0);
    await deliverAll();
    await send('m2');
    await deliverAll();
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
    const { store, n1, a, b: b1, send, deliverAll } = await twoUsers();
    const b2 = await n1.connect('ub', 'd2');
    // the reads attachLater makes: a conversation's state, a device's cursor(s), the log
    const reads = [vi.spyOn(store, 'states'), vi.spyOn(store, 'cursorOf'), vi.spyOn(store, 'cursors'), vi.spyOn(store, 'range')];
    const readCalls = () => reads.map((r) => r.mock.calls.length);
    const { epoch } = await send('m1');
    await deliverAll();
    expect(readCalls()).toEqual([0, 0, 0, 0]);
    const frames = (c: SimConn) => c.socket.frames.filter((f) => 'conv' in f && f.conv === conv).map((f) => (f.t === 'conv' ? `conv ${f.epoch === epoch ? 'E' : f.epoch} ${f.cursor}/${f.head}` : f.t === 'msg' ? `msg ${f.seq}` : f.t));
    for (const c of [a, b1, b2]) expect(frames(c)).toEqual(['conv E 0/1', 'msg 1']);
    // the channel goes on live: the next message is a plain push, still without a read
    await send('m2');
    await deliverAll();
    for (const c of [a, b1, b2]) expect(frames(c)).toEqual(['conv E 0/1', 'msg 1', 'msg 2']);
    expect(readCalls()).toEqual([0, 0, 0, 0]);
  });

  it('when the bus lost seq 1, the next message attaches through the store and brings both', async () => {
    const { n1, a, b, send, deliverAll } = await twoUsers();
    await send('m1');
    await send('m2');
    n1.link.dropNext();
    await deliverAll();
    expect(seqs(a)).toEqual([1, 2]);
    expect(seqs(b)).toEqual([1, 2]);
  });
});
