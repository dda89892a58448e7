// Receipts a connection filed under no epoch (`''`: it was sent no conv frame for the
// conversation, harness/fleet/sim-client.ts) get the epoch in force at its welcome, per
// connection and conversation, or stay as they are (placeUnannounced; review M1, 2026-12-05).
import { describe, expect, it } from 'vitest';
import { indexFacts, UNANNOUNCED } from '../../harness/checks/fact-index.ts';
import type { AckAheadFact, Fact, WindowFact } from '../../harness/model/facts.ts';
import { connect, convFrame, input, recv, send, t } from './build.ts';

const DM = 'dm:u1:u2';
/** u2/d1 on c2 receives `cmid` at `seq` after a conv frame of `epoch` */
const announced = (seq: number, cmid: string, at: number, epoch = 'e1'): Fact[] => [convFrame('u2/d1', 'c2', DM, seq - 1, seq, at, epoch), recv('u2/d1', 'c2', DM, seq, 'u1', cmid, at, 'live', epoch)];
/** u1/d1 on c1, never sent a conv frame of the dm, receives `cmid` at `seq` */
const unannounced = (seq: number, cmid: string, at: number): Fact => recv('u1/d1', 'c1', DM, seq, 'u1', cmid, at, 'live', UNANNOUNCED);
const base = [...connect('u1/d1', 'c1', 0), ...connect('u2/d1', 'c2', 0)];
const epochsOf = (facts: Fact[], storeWipes: number[] = []) => {
  const ix = indexFacts(input(facts, { options: { storeWipes: storeWipes.map(t) } }));
  const c1 = ix.input.facts.filter((f) => f.k === 'recv' && f.conn === 'c1').map((f) => (f as { epoch: string }).epoch);
  return { ix, c1, epochs: [...ix.convs.get(DM)!.epochs.keys()].sort() };
};

describe('fact index: what a connection filed under no epoch', () => {
  it('takes the epoch the other receipts of the same messages name: one message per stored message, and the current epoch a real one', () => {
    const facts = [...base, send('u1/d1', 'c1', DM, 'm1', 1, 0, { epoch: undefined }), ...announced(1, 'm1', 3), unannounced(1, 'm1', 10), unannounced(2, 'm2', 11)];
    const { ix, c1, epochs } = epochsOf(facts);
    // m2 has no other receipt: it goes with the rest of the connection's
    expect(c1).toEqual(['e1', 'e1']);
    expect(epochs).toEqual(['e1']);
    expect(ix.convs.get(DM)!.current).toBe('e1');
    expect([...ix.convs.get(DM)!.epochs.get('e1')!.msgs.get(1)!.receivedBy.keys()]).toEqual(['u2/d1', 'u1/d1']);
    expect(ix.sendEpochs).toEqual([{ epoch: 'e1', source: 'receipt' }]);
    // copies were placed, each with the fact as recorded; the run's facts are untouched
    expect([...ix.recorded.values()]).toEqual([unannounced(1, 'm1', 10), unannounced(2, 'm2', 11)]);
    expect(facts.filter((f) => f.k === 'recv' && f.epoch === UNANNOUNCED)).toHaveLength(2);
  });

  it('leaves them as they are across a store wipe, when the receipts name two epochs, or when no receipt names one and the welcome saw two', () => {
    // e1 first seen at t+3, a wipe at t+5: the receipt at t+10 cannot be e1's
    expect(epochsOf([...base, ...announced(1, 'm1', 3), unannounced(1, 'm1', 10)], [5]).c1).toEqual([UNANNOUNCED]);
    // the connection's receipts name e1 and e2: no one epoch in force
    const two = [...base, ...announced(1, 'm1', 3), ...announced(2, 'm2', 4, 'e2'), unannounced(1, 'm1', 10), unannounced(2, 'm2', 11)];
    expect(epochsOf(two).c1).toEqual([UNANNOUNCED, UNANNOUNCED]);
    // no other receipt of m5, and no epoch seen by c1's welcome (t+1)
    const late = [...base, ...announced(1, 'm1', 3), unannounced(5, 'm5', 10)];
    expect(epochsOf(late).c1).toEqual([UNANNOUNCED]);
    // both e1 and e2 seen by the welcome (t+3): which was in force is not known
    const both = [...announced(1, 'm1', 0), ...announced(2, 'm2', 1, 'e2'), ...connect('u1/d1', 'c1', 2), unannounced(5, 'm5', 10)];
    expect(epochsOf(both).c1).toEqual([UNANNOUNCED]);
    // only e1 seen by the welcome: that one
    const early = [...announced(1, 'm1', 0), ...connect('u1/d1', 'c1', 2), unannounced(5, 'm5', 10)];
    expect(epochsOf(early).c1).toEqual(['e1']);
    // ... unless e1 holds another message at that seq (an epoch change the run was not told of)
    expect(epochsOf([...announced(5, 'm4', 0), ...connect('u1/d1', 'c1', 2), unannounced(5, 'm5', 10)]).c1).toEqual([UNANNOUNCED]);
    // two seen by the welcome, but the device itself last saw e2 there on an earlier connection: e2
    const own = [
      ...announced(1, 'm1', 0),
      ...connect('u1/d1', 'c0', 0),
      convFrame('u1/d1', 'c0', DM, 0, 2, 1, 'e2'),
      recv('u1/d1', 'c0', DM, 2, 'u1', 'm2', 1, 'live', 'e2'),
      ...connect('u1/d1', 'c1', 2),
      unannounced(5, 'm5', 10),
    ];
    expect(epochsOf(own).c1).toEqual(['e2']);
    // a run with nothing filed under no epoch is indexed as recorded, the same facts
    const plain = input([...base, ...announced(1, 'm1', 3)]);
    expect(indexFacts(plain).input).toBe(plain);
  });

  it("places the same connection's acks above what it held and its windows' unacked seqs with its receipts", () => {
    const ahead: AckAheadFact = { k: 'ack_ahead', client: 'u1/d1', conn: 'c1', conv: DM, epoch: UNANNOUNCED, seq: 6, held: 2, at: t(12), until: t(13), answered: true };
    const win: WindowFact = { k: 'window', window: 'w1', fault: 'cut', client: 'u1/d1', conn: 'c1', at: t(20), sends: [], unacked: [{ conv: DM, epoch: UNANNOUNCED, from: 1, to: 2 }, { conv: 'g:other', epoch: UNANNOUNCED, from: 1, to: 1 }] };
    const { ix } = epochsOf([...base, ...announced(1, 'm1', 3), unannounced(1, 'm1', 10), ahead, win]);
    const out = ix.input.facts;
    expect(out.find((f) => f.k === 'ack_ahead')).toEqual({ ...ahead, epoch: 'e1' });
    // seq 1 is the first c1 received; the other conversation had no receipt on c1 to place it by
    expect(out.find((f) => f.k === 'window')).toEqual({ ...win, unacked: [{ conv: DM, epoch: 'e1', from: 1, to: 2 }, { conv: 'g:other', epoch: UNANNOUNCED, from: 1, to: 1 }] });
  });

  it("a window's unacked seqs placed start at the first seq the connection received: those below it were acked on earlier connections (review, case W)", () => {
    // u1/d1 got seqs 1..5 after a conv frame on c0 and acked them; back on c1 caught up (no
    // conv frame), it gets 6 and 7; its view there starts at 0, so a window on c1 records 1..7
    const ack = (conn: string, seq: number, at: number): Fact => ({ k: 'ack', client: 'u1/d1', conn, conv: DM, seq, at: t(at) });
    const win: WindowFact = { k: 'window', window: 'w1', fault: 'cut', client: 'u1/d1', conn: 'c1', at: t(55), sends: [], unacked: [{ conv: DM, epoch: UNANNOUNCED, from: 1, to: 7 }] };
    const facts: Fact[] = [
      ...base,
      ...connect('u1/d1', 'c0', 0),
      convFrame('u1/d1', 'c0', DM, 0, 5, 1),
      ...[1, 2, 3, 4, 5].map((q) => recv('u1/d1', 'c0', DM, q, 'u1', `m${q}`, 1 + q)),
      ack('c0', 5, 8),
      ...connect('u1/d1', 'c1', 20),
      unannounced(6, 'm6', 30),
      unannounced(7, 'm7', 31),
      win,
    ];
    expect(epochsOf(facts).ix.input.facts.find((f) => f.k === 'window')).toEqual({ ...win, unacked: [{ conv: DM, epoch: 'e1', from: 6, to: 7 }] });
  });
});
