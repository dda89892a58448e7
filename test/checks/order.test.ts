import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/order.ts';
import type { Fact, RecvFact } from '../../harness/model/facts.ts';
import { connect, convFrame, gap, input, member, population, recv, send, t } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const DM = 'dm:u1:u2';
const r = (seq: number, at: number, via: RecvFact['via'] = 'live', epoch = 'e1') => recv('u2/d1', 'c2', DM, seq, 'u1', `m${seq}`, at, via, epoch);
const frame = (cursor: number, head: number, at: number, epoch = 'e1') => convFrame('u2/d1', 'c2', DM, cursor, head, at, epoch);
const sendSeq = (seq: number, at: number) => send('u1/d1', 'c1', DM, `m${seq}`, seq, at);

describe('order (hand-made)', () => {
  it('passes seqs that start after the cursor or a gap and rise by one; history receipts are not push order', () => {
    const v = check(
      input([
        connect('u2/d1', 'c2', 0),
        frame(0, 15, 2),
        gap('u2/d1', 'c2', DM, 1, 10, 2, true),
        r(11, 3, 'backlog'),
        r(12, 3, 'backlog'),
        r(3, 4, 'history'),
        r(13, 5),
        // a rejoin moves the cursor forward
        frame(20, 21, 6),
        r(21, 7),
        // a new epoch starts over after its conv frame
        frame(0, 1, 8, 'e2'),
        r(1, 9, 'live', 'e2'),
        r(2, 10, 'live', 'e2'),
      ]),
    );
    expect(v).toMatchObject({ guarantee: 'order', ok: true, checked: 6 });
    expect(v.summary).toBe('ok: 6 pushed receipts checked on 1 connection');
  });

  it('flags a hole, naming the connection, conv, expected and pushed seqs', () => {
    const six = r(6, 30);
    const v = check(input([connect('u2/d1', 'c2', 0), frame(3, 4, 10), r(4, 20), six, r(7, 40)]));
    expect(v.violationCount).toBe(1);
    expect(v.violations[0]!.message).toBe('connection c2 of u2/d1: dm:u1:u2 (epoch e1) pushed seq 6 (cmid m6) where seq 5 was expected after seq 4: seq 5 is missing');
    expect(v.violations[0]!.first).toBe(six);
    expect(v.violations[0]!.trail.map((f) => ('k' in f ? f.k : ''))).toEqual(['conn', 'conn', 'conv', 'recv', 'recv', 'recv']);
  });

  it('flags a first msg that skips past the conv frame cursor', () => {
    const v = check(input([connect('u2/d1', 'c2', 0), frame(3, 9, 10), r(6, 20)]));
    expect(v.violations[0]!.message).toBe("connection c2 of u2/d1: dm:u1:u2 (epoch e1) pushed seq 6 (cmid m6) where seq 4 was expected after the conv frame's cursor 3: seqs 4..5 are missing");
  });

  it('flags a repeat and a step back', () => {
    const v = check(input([connect('u2/d1', 'c2', 0), frame(0, 9, 10), r(1, 20), r(2, 21), r(2, 22), r(3, 23), r(1, 24), r(4, 25)]));
    expect(v.violations.map((w) => w.message)).toEqual([
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) repeated seq 2 (cmid m2) right after itself',
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) went back to seq 1 (cmid m1) after seq 3',
    ]);
  });

  it('flags a conv frame that rewinds below what was pushed by the repeats that follow', () => {
    const v = check(input([connect('u2/d1', 'c2', 0), frame(0, 9, 10), r(1, 20), r(2, 21), frame(1, 9, 22), r(2, 23), r(3, 24)]));
    expect(v.violations.map((w) => w.message)).toEqual([
      "connection c2 of u2/d1: dm:u1:u2 (epoch e1) went back to seq 2 (cmid m2) after the conv frame's cursor 1, having pushed up to 2",
    ]);
  });

  it('flags a gap that leaves seqs neither pushed nor announced', () => {
    const g = gap('u2/d1', 'c2', DM, 3, 10, 10);
    const v = check(input([connect('u2/d1', 'c2', 0), frame(0, 12, 10), g, r(11, 11)]));
    expect(v.violations[0]!.message).toBe("connection c2 of u2/d1: dm:u1:u2 gap 3..10 skips seq 1, expected after the conv frame's cursor 0: seqs 1..2 are neither pushed nor announced");
    expect(v.violations[0]!.first).toBe(g);
  });

  it('without a conv frame: starts at the first seq stored after the welcome', () => {
    // seq 1 was stored before the connection (no backlog due); 2 after it: pushed live
    const ok = check(input([sendSeq(1, 0), connect('u2/d1', 'c2', 100), sendSeq(2, 200), r(2, 201)]));
    expect(ok).toMatchObject({ ok: true, checked: 1 });
    expect(ok.summary).toContain('1 stream started without a conv frame');
    // 2 and 3 were stored after the welcome; only 3 was pushed
    const three = r(3, 301);
    const bad = check(input([sendSeq(1, 0), connect('u2/d1', 'c2', 100), sendSeq(2, 200), sendSeq(3, 300), three]));
    expect(bad.violations.map((w) => w.message)).toEqual([
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) started without a conv frame at seq 3 (cmid m3), but seq 2 (cmid m2 from u1) was stored after the connection was welcomed at t+0.101s: seq 2 is missing',
    ]);
    expect(bad.violations[0]!.first).toBe(three);
    expect(bad.violations[0]!.trail).toContainEqual(sendSeq(2, 200));
  });

  it('without a conv frame: a joiner starts after its join seq', () => {
    const G = 'g:team';
    const pop = population({ u1: ['d1'], u3: ['d1'] }, { [G]: ['u1'] });
    const gsend = (seq: number, at: number) => send('u1/d1', 'c1', G, `m${seq}`, seq, at);
    const facts = (joinSeq: number) => [
      connect('u3/d1', 'c3', 0),
      gsend(1, 100),
      member(G, 'u3', 'join', 150, joinSeq),
      gsend(2, 200),
      recv('u3/d1', 'c3', G, 2, 'u1', 'm2', 201),
    ];
    expect(check(input(facts(1), { population: pop })).ok).toBe(true);
    expect(check(input(facts(0), { population: pop })).violations[0]!.message).toContain('seq 1 is missing');
  });

  it('names a new epoch pushed without its conv frame: the device files seq 1 of it under the old epoch', () => {
    // c2 knew e1 up to seq 2; the store lost the dm, e2 began, and c2 got e2's seq 1 and 2
    // with no conv frame (so its client recorded them under e1); c3 connected later and was told e2
    const n1 = recv('u2/d1', 'c2', DM, 1, 'u1', 'n1', 30);
    const v = check(
      input([
        connect('u2/d1', 'c2', 0),
        frame(0, 2, 10),
        r(1, 11),
        r(2, 12),
        n1,
        recv('u2/d1', 'c2', DM, 2, 'u1', 'n2', 31),
        connect('u2/d2', 'c3', 40),
        convFrame('u2/d2', 'c3', DM, 0, 2, 42, 'e2'),
        recv('u2/d2', 'c3', DM, 1, 'u1', 'n1', 43, 'backlog', 'e2'),
        recv('u2/d2', 'c3', DM, 2, 'u1', 'n2', 43, 'backlog', 'e2'),
      ]),
    );
    // seq 2 too is at or below what c2 had pushed: each message of e2 until e1's head is one
    expect(v.violationCount).toBe(2);
    expect(v.violations[1]!.message).toMatch(/ went back to seq 2 \(cmid n2\) after seq 1, having pushed up to 2: that message is seq 2 of epoch e2, /);
    expect(v.violations[0]!.first).toBe(n1);
    expect(v.violations[0]!.message).toBe(
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) went back to seq 1 (cmid n1) after seq 2: that message is seq 1 of epoch e2, a new epoch this connection was never told of (no conv frame with it before the msg)',
    );
    // seq 1 again, right after a seq 1 of another message: said as such, not as a repeat
    const again = check(input([connect('u2/d1', 'c2', 0), frame(0, 1, 10), r(1, 11), recv('u2/d1', 'c2', DM, 1, 'u1', 'n1', 30)]));
    expect(again.violations[0]!.message).toBe('connection c2 of u2/d1: dm:u1:u2 (epoch e1) pushed seq 1 again with another message (cmid n1 from u1; seq 1 was cmid m1 from u1)');
    // no fact shows e2 (every device acked it live), but the run says when the store was wiped
    const facts = [connect('u2/d1', 'c2', 0), frame(0, 2, 10), r(1, 11), r(2, 12), recv('u2/d1', 'c2', DM, 1, 'u1', 'n1', 30)];
    expect(check(input(facts, { options: { storeWipes: [t(20)] } })).violations[0]!.message).toBe(
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) went back to seq 1 (cmid n1) after seq 2: the store came back empty at t+0.020s (a Redis without persistence restarted), after the previous frame: a seq that starts over then without a conv frame is a new epoch never announced on this connection',
    );
    // a wipe before the previous frame explains nothing
    expect(check(input(facts, { options: { storeWipes: [t(5)] } })).violations[0]!.message).toBe('connection c2 of u2/d1: dm:u1:u2 (epoch e1) went back to seq 1 (cmid n1) after seq 2');
  });

  it('flags a conv frame after synced whose msgs were stored before the connection began (Connect 3), once per frame', () => {
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u2/d1', conn: 'c2', event: 'synced', at: t(at) });
    // seqs 1 and 2 answered `sent` at t+2 and t+12; the device connects at t+100, is told synced at t+103, and only then gets them
    const one = r(1, 111);
    const bad = check(input([sendSeq(1, 0), sendSeq(2, 10), connect('u2/d1', 'c2', 100), synced(103), frame(0, 2, 110), one, r(2, 111)]));
    expect(bad.violations.map((w) => w.message)).toEqual([
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) conv frame (cursor 0) came at t+0.110s, after synced at t+0.103s, and was followed by seq 1 (cmid m1 from u1), stored before the connection began at t+0.100s (answered sent at t+0.002s): the connect sequence owed it before synced',
    ]);
    expect(bad.violations[0]!.first).toBe(one);
    // the same frames before synced: the connect sequence as PROTOCOL.md has it
    expect(check(input([sendSeq(1, 0), sendSeq(2, 10), connect('u2/d1', 'c2', 100), frame(0, 2, 102), r(1, 102, 'backlog'), r(2, 102, 'backlog'), synced(103)])).ok).toBe(true);
    // a conv frame after synced for what was stored since (a dm's first message, a join, a new epoch): right
    expect(check(input([connect('u2/d1', 'c2', 100), synced(103), sendSeq(1, 200), frame(0, 1, 203), r(1, 203)])).ok).toBe(true);
    // only the sender's answer proves it was stored before: a receipt on another device's connection is another clock
    const unanswered = send('u1/d1', 'c1', DM, 'm1', undefined, 0);
    const other = recv('u1/d2', 'c9', DM, 1, 'u1', 'm1', 50);
    expect(check(input([unanswered, ...connect('u1/d2', 'c9', 40), other, connect('u2/d1', 'c2', 100), synced(103), frame(0, 1, 110), r(1, 111)])).ok).toBe(true);
    // answered only after the connection began: it may have been stored after the connect sync's reads
    expect(check(input([send('u1/d1', 'c1', DM, 'm1', 1, 99), connect('u2/d1', 'c2', 100), synced(103), frame(0, 1, 110), r(1, 111)])).ok).toBe(true);
    // synced in the middle of the backlog: the conv frame came before it, seq 2 after it
    const two = r(2, 104);
    const mid = check(input([sendSeq(1, 0), sendSeq(2, 10), connect('u2/d1', 'c2', 100), frame(0, 2, 102), r(1, 102, 'backlog'), synced(103), two, sendSeq(3, 200), r(3, 203)]));
    expect(mid.violations.map((w) => w.message)).toEqual([
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) seq 2 came at t+0.104s, after synced at t+0.103s (cmid m2 from u1), stored before the connection began at t+0.100s (answered sent at t+0.012s): the connect sequence owed it before synced',
    ]);
    expect(mid.violations[0]!.first).toBe(two);
  });

  it('a backlog msg pushed again after synced is one finding, the repeat, not also "owed before synced" (review N1)', () => {
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u2/d1', conn: 'c2', event: 'synced', at: t(at) });
    const again = r(2, 110);
    const res = check(input([sendSeq(1, 0), sendSeq(2, 10), connect('u2/d1', 'c2', 100), frame(0, 2, 102), r(1, 102, 'backlog'), r(2, 102, 'backlog'), synced(103), again]));
    expect(res.violations.map((w) => w.message)).toEqual(['connection c2 of u2/d1: dm:u1:u2 (epoch e1) repeated seq 2 (cmid m2) right after itself']);
    expect(res.violations[0]!.first).toBe(again);
    // a first push after synced of what was owed is still that finding
    expect(check(input([sendSeq(1, 0), sendSeq(2, 10), connect('u2/d1', 'c2', 100), frame(0, 2, 102), r(1, 102, 'backlog'), synced(103), r(2, 110), r(2, 111)])).violations.map((w) => w.message)).toEqual([
      expect.stringMatching(/seq 2 came at t\+0\.110s, after synced at t\+0\.103s .*the connect sequence owed it before synced$/),
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) repeated seq 2 (cmid m2) right after itself',
    ]);
  });

  it('a backlog pushed after synced with no conv frame at all is flagged whichever receipt of it came first (review M1)', () => {
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u2/d1', conn: 'c2', event: 'synced', at: t(at) });
    // the fleet's sends record no epoch (the `sent` frame carries none); u2/d1 was sent no conv
    // frame, so it files seq 1 under no epoch (''); u2/d2 got it after a conv frame of e1
    const sent1 = send('u1/d1', 'c1', DM, 'm1', 1, 0, { epoch: undefined });
    const owed = r(1, 110, 'live', '');
    const onD2 = (at: number): Fact[] => [...connect('u2/d2', 'c3', at - 1), convFrame('u2/d2', 'c3', DM, 0, 1, at), recv('u2/d2', 'c3', DM, 1, 'u1', 'm1', at)];
    const flagged =
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1, in force at the welcome; no conv frame on this connection) seq 1 came at t+0.110s, after synced at t+0.103s (cmid m1 from u1), stored before the connection began at t+0.100s (answered sent at t+0.002s): the connect sequence owed it before synced';
    // u2/d2's receipt first: the send was attributed to e1 and the unannounced receipt was not judged
    const d2First = check(input([sent1, ...onD2(5), ...connect('u2/d1', 'c2', 100), synced(103), owed]));
    expect(d2First.violations.map((w) => w.message)).toEqual([flagged]);
    // the witness shows the receipt as recorded
    expect(d2First.violations[0]!.first).toBe(owed);
    // the unannounced receipt first: judged before too
    expect(check(input([sent1, ...connect('u2/d1', 'c2', 100), synced(103), owed, ...onD2(120)])).violations.map((w) => w.message)).toEqual([flagged]);
    // the same receipt before synced: the connect sequence delivered it
    expect(check(input([sent1, ...onD2(5), ...connect('u2/d1', 'c2', 100), r(1, 102, 'backlog', ''), synced(103)])).ok).toBe(true);
    // answered after the connection began: a live message, not owed
    const live = send('u1/d1', 'c1', DM, 'm1', 1, 105, { epoch: undefined });
    expect(check(input([live, ...onD2(108), ...connect('u2/d1', 'c2', 100), synced(103), r(1, 110, 'live', '')])).ok).toBe(true);
  });

  it('the fleet records a connect under a pending id (the connection id comes with welcome): that connect is where the connection began', () => {
    // as harness/fleet/sim-client.ts does: `connect` under pending:<client>:<n>, the welcome under the server's id
    const pending = (at: number): Fact[] => [
      { k: 'conn', client: 'u2/d1', conn: 'pending:u2/d1:1', event: 'connect', at: t(at) },
      { k: 'conn', client: 'u2/d1', conn: 'c2', event: 'welcome', at: t(at + 1), node: 'node-1' },
    ];
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u2/d1', conn: 'c2', event: 'synced', at: t(at) });
    const bad = check(input([sendSeq(1, 0), ...pending(100), synced(103), frame(0, 1, 110), r(1, 111)]));
    expect(bad.violations.map((w) => w.message)).toEqual([expect.stringMatching(/stored before the connection began at t\+0\.100s \(answered sent at t\+0\.002s\): the connect sequence owed it before synced$/)]);
    // answered after that connect: not owed
    expect(check(input([sendSeq(1, 99), ...pending(100), synced(103), frame(0, 1, 110), r(1, 111)])).ok).toBe(true);
  });

  it('across fleet agents (CheckOptions.clockErrorMs): an answer counts as before the connection began only when earlier by more than the clocks may disagree', () => {
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u2/d1', conn: 'c2', event: 'synced', at: t(at) });
    // seq 1 answered `sent` at t+97 on the sender's agent; the device began connecting at t+100 on its own
    const facts = [sendSeq(1, 95), connect('u2/d1', 'c2', 100), synced(103), frame(0, 1, 110), r(1, 111)];
    expect(check(input(facts)).violationCount).toBe(1);
    // clocks that may disagree by 4 ms: the answer may have come after the connect began (review, 2026-12-04)
    expect(check(input(facts, { options: { clockErrorMs: 4 } })).ok).toBe(true);
    // by 2 ms: still 1 ms before it
    expect(check(input(facts, { options: { clockErrorMs: 2 } })).violationCount).toBe(1);
  });

  it('a conv frame after synced in a group: flagged for a member when the message was stored, not for one who joined since', () => {
    const G = 'g:team';
    const synced = (at: number): Fact => ({ k: 'conn', client: 'u3/d1', conn: 'c3', event: 'synced', at: t(at) });
    const gsend = (seq: number, at: number) => send('u1/d1', 'c1', G, `m${seq}`, seq, at);
    const got = (seq: number, at: number) => recv('u3/d1', 'c3', G, seq, 'u1', `m${seq}`, at);
    const member3 = population({ u1: ['d1'], u3: ['d1'] }, { [G]: ['u1', 'u3'] });
    const late = check(input([gsend(1, 0), connect('u3/d1', 'c3', 100), synced(103), convFrame('u3/d1', 'c3', G, 0, 1, 110), got(1, 111)], { population: member3 }));
    expect(late.violations.map((w) => w.message)).toEqual([expect.stringMatching(/^connection c3 of u3\/d1: g:team \(epoch e1\) conv frame \(cursor 0\) came at t\+0\.110s, after synced at t\+0\.103s, and was followed by seq 1 /)]);
    // u3 joined after seq 1 was stored: not owed to it at all (pushing it is `unexpected`'s to judge), so not this rule's
    const joiner = population({ u1: ['d1'], u3: ['d1'] }, { [G]: ['u1'] });
    const v = check(input([gsend(1, 0), connect('u3/d1', 'c3', 100), synced(103), member(G, 'u3', 'join', 150, 1), convFrame('u3/d1', 'c3', G, 0, 1, 160), got(1, 161)], { population: joiner }));
    expect(v.violations.filter((w) => w.message.includes('after synced'))).toEqual([]);
  });

  it('treats a msg of a new epoch without a conv frame as a new stream', () => {
    const v = check(input([connect('u2/d1', 'c2', 0), frame(0, 2, 10), r(1, 11), r(2, 12), r(1, 30, 'live', 'e2'), r(2, 31, 'live', 'e2')]));
    expect(v.ok).toBe(true);
  });
});

/** The pushed receipts of each (conn, conv) stream between conv frames, in recorded order. */
function streams(facts: Fact[]): RecvFact[][] {
  const open = new Map<string, RecvFact[]>();
  const all: RecvFact[][] = [];
  for (const f of facts) {
    if (f.k === 'conv') open.delete(f.conn + '\0' + f.conv);
    if (f.k !== 'recv' || f.via === 'history') continue;
    const k = f.conn + '\0' + f.conv;
    const l = open.get(k);
    if (l) l.push(f);
    else {
      open.set(k, [f]);
      all.push(open.get(k)!);
    }
  }
  return all;
}

/** Backlog receipts whose send was answered before their connection's connect (generated runs: connect facts carry the connection's id). */
function owedAtConnect(facts: Fact[]): (f: Fact) => f is RecvFact {
  const connectAt = new Map<string, number>();
  const answered = new Map<string, number>();
  for (const f of facts) {
    if (f.k === 'conn' && f.event === 'connect') connectAt.set(f.conn, f.at);
    if (f.k === 'send' && f.answeredAt !== undefined) answered.set(f.conv + '\0' + f.cmid, f.answeredAt);
  }
  return (f: Fact): f is RecvFact => f.k === 'recv' && f.via === 'backlog' && (answered.get(f.conv + '\0' + f.cmid) ?? Infinity) < connectAt.get(f.conn)!;
}

describe('order (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const v = check(toInput(simulate(spec)));
        expect(v.violations.map((w) => w.message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('skipping one seq on a connection is flagged exactly, at the next msg', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), fc.nat(), (spec, p1, p2) => {
        const run = simulate(spec);
        const long = streams(run.facts).filter((s) => s.length >= 2);
        fc.pre(long.length > 0);
        const s = long[p1 % long.length]!;
        const i = p2 % (s.length - 1);
        const [victim, next] = [s[i]!, s[i + 1]!];
        const v = check(toInput(run, run.facts.filter((f) => f !== victim)));
        expect(v.violationCount).toBe(1);
        expect(v.violations[0]!.first).toBe(next);
        expect(v.violations[0]!.message).toMatch(new RegExp(`^connection ${next.conn} of ${next.client}: ${next.conv} \\(epoch e1\\) .* seq ${victim.seq} is missing$`));
      }),
      { numRuns: 200 },
    );
  });

  it('moving synced ahead of a backlog owed at connect is flagged, at the first msg stored before the connection began', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, p) => {
        const run = simulate(spec);
        const input0 = toInput(run);
        const owed = run.facts.filter(owedAtConnect(run.facts));
        fc.pre(owed.length > 0);
        const conn = owed[p % owed.length]!.conn;
        const syncedFact = run.facts.find((f) => f.k === 'conn' && f.conn === conn && f.event === 'synced')!;
        const welcome = run.facts.findIndex((f) => f.k === 'conn' && f.conn === conn && f.event === 'welcome');
        const facts = run.facts.filter((f) => f !== syncedFact);
        facts.splice(welcome + 1, 0, syncedFact);
        const v = check({ ...input0, facts });
        const late = v.violations.filter((w) => w.message.includes('after synced'));
        expect(late.length).toBeGreaterThanOrEqual(1);
        for (const w of late) expect(w.message.startsWith(`connection ${conn} of `)).toBe(true);
        expect(v.violations.length).toBe(late.length);
        expect((late[0]!.first as RecvFact).seq).toBe(owed.filter((f) => f.conn === conn && f.conv === (late[0]!.first as RecvFact).conv)[0]!.seq);
      }),
      { numRuns: 200 },
    );
  });

  it('moving synced into the middle of a backlog owed at connect is flagged, at the first owed msg after it', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, p) => {
        const run = simulate(spec);
        const owed = owedAtConnect(run.facts);
        // an owed backlog receipt that is not its connection's first: synced goes right before it
        const candidates = run.facts.filter((f, i) => owed(f) && run.facts.slice(0, i).some((g) => g.k === 'recv' && g.conn === f.conn));
        fc.pre(candidates.length > 0);
        const victim = candidates[p % candidates.length] as RecvFact;
        const syncedFact = run.facts.find((f) => f.k === 'conn' && f.conn === victim.conn && f.event === 'synced')!;
        const facts = run.facts.filter((f) => f !== syncedFact);
        facts.splice(facts.indexOf(victim), 0, syncedFact);
        const v = check({ ...toInput(run), facts });
        expect(v.violations.length).toBeGreaterThanOrEqual(1);
        expect(v.violations[0]!.first).toBe(victim);
        for (const w of v.violations) expect(w.message).toMatch(new RegExp(`^connection ${victim.conn} of .* after synced .*: the connect sequence owed it before synced$`));
      }),
      { numRuns: 200 },
    );
  });

  it('swapping two msgs on a connection is flagged, first at the one that came early', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), fc.nat(), (spec, p1, p2) => {
        const run = simulate(spec);
        const long = streams(run.facts).filter((s) => s.length >= 2);
        fc.pre(long.length > 0);
        const s = long[p1 % long.length]!;
        const i = p2 % (s.length - 1);
        const [a, b] = [s[i]!, s[i + 1]!];
        const b2 = { ...b, at: a.at };
        const a2 = { ...a, at: b.at };
        const facts = run.facts.map((f) => (f === a ? b2 : f === b ? a2 : f));
        const v = check(toInput(run, facts));
        expect(v.violationCount).toBeGreaterThanOrEqual(1);
        expect(v.violations[0]!.first).toBe(b2);
        for (const w of v.violations) expect(w.message.startsWith(`connection ${a.conn} of ${a.client}: ${a.conv} `)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
