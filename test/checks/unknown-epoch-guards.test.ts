// Guards for how receipts filed under no epoch (`''`, the unknown epoch) are judged: each `it`
// is a BROKEN server's facts, hand-made by a review of 72c82a9 (case E) on 2026-12-05, and its
// checker must fail it. They pass on the checkers of 2026-12-05; their point is that a change to
// how `''` receipts are placed or judged (placeUnannounced, the current epoch, sendEpoch) keeps
// them failing. The review's two cases with real epochs (F2 control, F3 control) are in
// lost.test.ts and unseen.test.ts, with their fixes.
import { describe, expect, it } from 'vitest';
import { check as inflight } from '../../harness/checks/inflight.ts';
import { check as lost } from '../../harness/checks/lost.ts';
import { check as unseen } from '../../harness/checks/unseen.ts';
import type { ConnFact, Fact, WindowFact } from '../../harness/model/facts.ts';
import { close, connect, convFrame, input, member, population, recv, send, synced, t } from './build.ts';

const noEpoch = { epoch: undefined };

describe('F1: no wipe; a real epoch first, then receipts left under no epoch', () => {
  // g:z, members u1 u2 u3 (one device each), all welcomed at t+0.001s. u3/d1 gets a conv frame
  // of e1 (nothing stored yet) at 11 and leaves at 15. u1/d1 and u2/d1 are never sent a conv
  // frame: nothing places their receipts (no receipt names an epoch, e1 was first seen after
  // their welcome), so they stay under '', first seen at 22, after e1.
  const G = 'g:z';
  const pop = population({ u1: ['d1'], u2: ['d1'], u3: ['d1'] }, { [G]: ['u1', 'u2', 'u3'] });
  const base: Fact[] = [
    ...connect('u1/d1', 'c1', 0),
    ...connect('u2/d1', 'c2', 0),
    ...connect('u3/d1', 'c3', 0),
    convFrame('u3/d1', 'c3', G, 0, 0, 11),
    member(G, 'u3', 'leave', 15, 0),
    send('u1/d1', 'c1', G, 'x1', 1, 20, noEpoch),
    recv('u1/d1', 'c1', G, 1, 'u1', 'x1', 22, 'live', ''),
  ];
  const run = (more: Fact[]) => input([...base, ...more], { population: pop, options: { runEnd: t(60_000), unseenWithinMs: 1000 } });

  it('F1a: x1 reached u1/d1 only; u2/d1, connected all run, never gets it: lost fails', () => {
    const r = run([]);
    expect(lost(r).ok).toBe(false);
    expect(unseen(r).ok).toBe(false);
  });

  it("F1b: x2 is acked and reaches nobody, its send guessed by time into '' (seen last): lost fails", () => {
    const r = run([recv('u2/d1', 'c2', G, 1, 'u1', 'x1', 22, 'live', ''), send('u1/d1', 'c1', G, 'x2', 2, 30, noEpoch)]);
    expect(lost(r).ok).toBe(false);
    expect(unseen(r).ok).toBe(false);
  });

  it("F1b control: the same facts with x1's receipts under e1 (x2 guessed into e1): lost fails", () => {
    const r = input(
      [...base.filter((f) => f.k !== 'recv'), recv('u1/d1', 'c1', G, 1, 'u1', 'x1', 22), recv('u2/d1', 'c2', G, 1, 'u1', 'x1', 22), send('u1/d1', 'c1', G, 'x2', 2, 30, noEpoch)],
      { population: pop, options: { runEnd: t(60_000), unseenWithinMs: 1000 } },
    );
    expect(lost(r).ok).toBe(false);
  });
});

describe('F2: the unknown epoch spans a wipe, and one message identity spans both incarnations', () => {
  // dm; x1 is seq 1 before the wipe (its answer lost), received by both u1/d1 and u2/d1 under '';
  // Redis restarts 1000..1200; u1/d1 resends x1, stored again at seq 1 of the new
  // incarnation and answered at 1602; u2/d2, welcomed after the wipe, never gets it (nor does
  // u2/d1 again).
  const DM = 'dm:u1:u2';
  const pop = population({ u1: ['d1'], u2: ['d1', 'd2'] });
  const facts: Fact[] = [
    ...connect('u1/d1', 'c1', 0),
    ...connect('u2/d1', 'c2', 0),
    synced('u1/d1', 'c1', 2),
    synced('u2/d1', 'c2', 2),
    recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', 12, 'live', ''),
    recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', 12, 'live', ''),
    close('u1/d1', 'c1', 1010),
    close('u2/d1', 'c2', 1010),
    ...connect('u1/d1', 'c3', 1500),
    ...connect('u2/d1', 'c4', 1500),
    ...connect('u2/d2', 'c5', 1500),
    synced('u1/d1', 'c3', 1503),
    synced('u2/d1', 'c4', 1503),
    synced('u2/d2', 'c5', 1503),
    send('u1/d1', 'c3', DM, 'x1', 1, 1600, { ...noEpoch, intendedAt: t(10), attempts: 2 }),
    recv('u1/d1', 'c3', DM, 1, 'u1', 'x1', 1602, 'live', ''),
  ];

  it('F2: x1 answered sent at t+1.602s by the new store never reaches u2/d2: lost fails', () => {
    const r = input(facts, { population: pop, options: { runEnd: t(60_000), storeWipes: [t(1000)], storeBackAt: [t(1200)] } });
    expect(lost(r).ok).toBe(false);
  });
});

describe('F3: unseen, a late delivery before a later wipe', () => {
  // dm with no conv frames; x1 stored at 12, u2/d1 connected throughout gets it only at 4000
  // (deadline 1012); the store is wiped at 5000.
  const DM = 'dm:u1:u2';

  it("F3: under '' the late delivery (due t+1.012s, got t+4.000s): unseen fails", () => {
    const r = input(
      [
        ...connect('u1/d1', 'c1', 0),
        ...connect('u2/d1', 'c2', 0),
        send('u1/d1', 'c1', DM, 'x1', 1, 10, noEpoch),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', 12, 'live', ''),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', 4000, 'live', ''),
      ],
      { options: { runEnd: t(60_000), unseenWithinMs: 1000, storeWipes: [t(5000)], storeBackAt: [t(5200)] } },
    );
    expect(unseen(r).ok).toBe(false);
  });
});

describe("F4: inflight, a window under '' on a connection that outlived the wipe", () => {
  // u1/d1 keeps c1 across a Redis restart (1000..1200). Before: seqs 1..3 received under ''.
  // After: the new incarnation stores 1..5, all pushed live on c1 under '' (no conv frame).
  // Nothing is ever acked. A node cut at 3000 opens w2: the device holds 1..5 unacked. Its
  // next connection c2 gets no conv frame (resumed at the head): the server moved the
  // cursor past 1..5 of the new incarnation with no ack.
  const DM = 'dm:u1:u2';
  const wipe = { storeWipes: [t(1000)], storeBackAt: [t(1200)] };
  const rx = (conn: string, seq: number, at: number): Fact => recv('u1/d1', conn, DM, seq, 'u2', `y${seq}${at > 1000 ? 'b' : 'a'}`, at, 'live', '');
  const w: WindowFact = { k: 'window', window: 'w2', fault: 'cut client-link:node-1', client: 'u1/d1', conn: 'c1', at: t(3000), sends: [], unacked: [{ conv: DM, epoch: '', from: 1, to: 5 }] };
  const facts: Fact[] = [
    ...connect('u1/d1', 'c1', 0),
    synced('u1/d1', 'c1', 2),
    ...connect('u2/d1', 'c9', 0),
    synced('u2/d1', 'c9', 2),
    ...[1, 2, 3].flatMap((s) => [send('u2/d1', 'c9', DM, `y${s}a`, s, 100 * s, noEpoch), rx('c1', s, 100 * s + 2)]),
    ...[1, 2, 3, 4, 5].flatMap((s) => [send('u2/d1', 'c9', DM, `y${s}b`, s, 1500 + 100 * s, noEpoch), rx('c1', s, 1502 + 100 * s)]),
    w,
    close('u1/d1', 'c1', 3001),
    ...connect('u1/d1', 'c2', 3500),
    synced('u1/d1', 'c2', 3503),
  ];

  it('F4: seqs 1..5 of the new incarnation taken as delivered without an ack: inflight fails', () => {
    const r = input(facts, { options: { runEnd: t(60_000), ...wipe } });
    expect(inflight(r).ok).toBe(false);
  });

  it('F4 control: the same with real epochs (e1 before, a conv frame of e2 on c1 after): inflight fails', () => {
    const real = facts.map((f) => (f.k === 'recv' ? { ...f, epoch: f.at < t(1000) ? 'e1' : 'e2' } : f.k === 'window' ? { ...f, unacked: [{ conv: DM, epoch: 'e2', from: 1, to: 5 }] } : f));
    const r = input([convFrame('u1/d1', 'c1', DM, 0, 0, 5, 'e1'), convFrame('u1/d1', 'c1', DM, 0, 0, 1550, 'e2'), ...real], { options: { runEnd: t(60_000), ...wipe } });
    expect(inflight(r).ok).toBe(false);
  });
});
