import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, SeqSet } from '../../harness/checks/duplicate.ts';
import type { Fact, RecvFact, SendFact } from '../../harness/model/facts.ts';
import { connect, input, recv, send } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const DM = 'dm:u1:u2';

describe('duplicate (hand-made)', () => {
  it('passes one seq per cmid, dup answers with the same seq, a seq again on another connection or via history', () => {
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        connect('u2/d1', 'c2', 0),
        send('u1/d1', 'c1', DM, 'c-1', 1, 100),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'c-1', 101),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 101),
        send('u1/d1', 'c1', DM, 'c-1', 1, 150, { outcome: 'dup' }),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 160, 'history'),
        connect('u2/d1', 'c3', 200),
        recv('u2/d1', 'c3', DM, 1, 'u1', 'c-1', 202, 'backlog'),
        // the same cmid in another epoch (the store lost e1) is another identity
        send('u1/d1', 'c1', DM, 'c-1', 5, 300, { epoch: 'e2' }),
      ]),
    );
    expect(v).toMatchObject({ guarantee: 'duplicate', ok: true, checked: 2 + 3 });
    expect(v.summary).toBe('ok: 2 (conv, epoch, sender, cmid) identities and 3 pushed receipts checked');
  });

  it('flags one cmid stored at two seqs, naming every seq and where it was seen', () => {
    const retry = send('u1/d1', 'c1', DM, 'c-1', 2, 300);
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        connect('u2/d1', 'c2', 0),
        send('u1/d1', 'c1', DM, 'c-1', 1, 100),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 101),
        retry,
        recv('u2/d1', 'c2', DM, 2, 'u1', 'c-1', 301),
        recv('u2/d1', 'c2', DM, 3, 'u1', 'c-1', 401),
      ]),
    );
    expect(v.violationCount).toBe(1);
    const w = v.violations[0]!;
    expect(w.message).toBe(
      'dm:u1:u2 epoch e1: cmid c-1 from u1 has 3 seqs: 1 (answered sent to u1/d1 at t+0.102s), 2 (answered sent to u1/d1 at t+0.302s), 3 (received by u2/d1 on c2 at t+0.401s)',
    );
    expect(w.first).toBe(retry);
    expect(w.trail.filter((f) => 'k' in f && f.k === 'send')).toHaveLength(2);
  });

  it('flags one seq pushed twice on one connection', () => {
    const again = recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 200, 'backlog');
    const v = check(input([connect('u2/d1', 'c2', 0), recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 101), again]));
    expect(v.violationCount).toBe(1);
    expect(v.violations[0]!.message).toBe('connection c2 of u2/d1 received dm:u1:u2 seq 1 (epoch e1, cmid c-1 from u1) twice: at t+0.101s (live) and at t+0.200s (backlog)');
    expect(v.violations[0]!.first).toBe(again);
  });
});

describe('duplicate (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const v = check(toInput(simulate(spec)));
        expect(v.violations.map((w) => w.message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('a message stored again at a new seq (dedupe skipped) is flagged exactly', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        fc.pre(run.msgs.length > 0);
        const m = run.msgs[pick % run.msgs.length]!;
        const head = Math.max(...run.msgs.filter((x) => x.conv === m.conv).map((x) => x.seq));
        const again: SendFact = { ...m.send, seq: head + 1, intendedAt: run.end - 10, sentAt: run.end - 10, answeredAt: run.end - 8 };
        const v = check(toInput(run, [...run.facts, again]));
        expect(v.violationCount).toBe(1);
        expect(v.violations[0]!.message).toContain(`${m.conv} epoch e1: cmid ${m.cmid} from ${m.from} has 2 seqs: ${m.seq} (`);
        expect(v.violations[0]!.message).toContain(`, ${head + 1} (answered sent to ${m.send.client}`);
        expect(v.violations[0]!.first).toBe(again);
      }),
      { numRuns: 200 },
    );
  });

  it("a message that reuses another message's cmid is flagged exactly", () => {
    fc.assert(
      fc.property(specArb, fc.nat(), fc.nat(), (spec, p1, p2) => {
        const run = simulate(spec);
        // two messages of one sender in one conversation
        const pairs = run.msgs.flatMap((a) => run.msgs.filter((b) => b !== a && b.conv === a.conv && b.from === a.from).map((b) => [a, b] as const));
        fc.pre(pairs.length > 0);
        const [a, b] = pairs[(p1 + p2) % pairs.length]!;
        const facts = run.facts.map((f): Fact => ((f.k === 'send' || f.k === 'recv') && f.conv === b.conv && f.cmid === b.cmid ? { ...f, cmid: a.cmid } : f));
        const v = check(toInput(run, facts));
        expect(v.violationCount).toBe(1);
        const [lo, hi] = a.seq < b.seq ? [a, b] : [b, a];
        expect(v.violations[0]!.message).toContain(`${a.conv} epoch e1: cmid ${a.cmid} from ${a.from} has 2 seqs: ${lo.seq} (answered sent to ${lo.send.client}`);
        expect(v.violations[0]!.first).toMatchObject({ k: 'send', seq: hi.seq, cmid: a.cmid });
      }),
      { numRuns: 200 },
    );
  });

  it('one pushed receipt repeated on its connection is flagged exactly', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const pushed = run.facts.filter((f): f is RecvFact => f.k === 'recv');
        fc.pre(pushed.length > 0);
        const victim = pushed[pick % pushed.length]!;
        const copy = { ...victim };
        const facts = run.facts.flatMap((f) => (f === victim ? [f, copy] : [f]));
        const v = check(toInput(run, facts));
        expect(v.violationCount).toBe(1);
        expect(v.violations[0]!.message).toContain(`connection ${victim.conn} of ${victim.client} received ${victim.conv} seq ${victim.seq} (epoch e1, cmid ${victim.cmid} from ${victim.from}) twice`);
        expect(v.violations[0]!.first).toBe(copy);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SeqSet', () => {
  it('answers like a Set for any order of seqs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 120 }), (seqs) => {
        const model = new Set<number>();
        const set = new SeqSet();
        for (const s of seqs) {
          expect(set.add(s)).toBe(!model.has(s));
          model.add(s);
        }
      }),
      { numRuns: 500 },
    );
  });
});
