import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAllCheckers } from '../../harness/checks/index.ts';
import { indexFacts } from '../../harness/checks/fact-index.ts';
import { deliveryDeadline, faultTimeline, faultsOverlapping } from '../../harness/checks/faults.ts';
import { MiB } from '../../harness/checks/leaks.ts';
import type { Fact } from '../../harness/model/facts.ts';
import { memberAt, newTimeline, addChange, sealTimeline } from '../../harness/checks/membership.ts';
import { close, connect, convFrame, fault, input, member, presence, recv, send, t } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const DM = 'dm:u1:u2';

describe('runAllCheckers', () => {
  it('returns one verdict per guarantee, leaks only with samples', () => {
    const facts = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), send('u1/d1', 'c1', DM, 'a', 1, 100), recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 101), recv('u2/d1', 'c2', DM, 1, 'u1', 'a', 101)];
    const verdicts = runAllCheckers(input(facts));
    expect(verdicts.map((v) => [v.guarantee, v.ok])).toEqual([
      ['lost', true],
      ['unexpected', true],
      ['unseen', true],
      ['duplicate', true],
      ['order', true],
      ['presence', true],
    ]);
    const sample = { at: t(0), node: 'n1', connections: 0, openFds: 10, heapUsedAfterGc: 10 * MiB, activeHandles: {} };
    expect(runAllCheckers(input(facts, { leaks: { baseline: [sample], after: [{ ...sample, connections: 1 }] } })).map((v) => [v.guarantee, v.ok]).at(-1)).toEqual(['leaks', false]);
  });

  it('each checker flags its own break in one log', () => {
    const facts = [
      connect('u1/d1', 'c1', 0),
      connect('u2/d1', 'c2', 0),
      presence('u1/d1', 'c1', 'u2', 'offline', 1, 2),
      convFrame('u2/d1', 'c2', DM, 0, 0, 3),
      send('u1/d1', 'c1', DM, 'a', 1, 100),
      send('u1/d1', 'c1', DM, 'b', 2, 200),
      send('u1/d1', 'c1', DM, 'b', 3, 300),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 101),
      recv('u1/d1', 'c1', DM, 2, 'u1', 'b', 201),
      recv('u1/d1', 'c1', DM, 3, 'u1', 'b', 301),
      // u2 misses 2 for good (lost, unseen, order) and gets 3 twice (duplicate)
      recv('u2/d1', 'c2', DM, 1, 'u1', 'a', 101),
      recv('u2/d1', 'c2', DM, 3, 'u1', 'b', 301),
      recv('u2/d1', 'c2', DM, 3, 'u1', 'b', 302),
      close('u1/d1', 'c1', 20_000),
      close('u2/d1', 'c2', 20_000),
      connect('u1/d1', 'c3', 20_100),
    ];
    const byName = Object.fromEntries(runAllCheckers(input(facts)).map((v) => [v.guarantee, v]));
    expect(byName.lost!.violations.map((w) => w.message)).toEqual([
      'dm:u1:u2 seq 2 (epoch e1, cmid b from u1, answered sent at t+0.202s) never reached member u2 on device u2/d1 (last connection c2 ended at t+20.000s code 1006)',
    ]);
    expect(byName.unseen!.violations.map((w) => w.message)).toEqual([
      'device u2/d1 on connection c2 (welcomed t+0.001s, open past the deadline) did not receive dm:u1:u2 seq 2 (epoch e1, cmid b from u1) within 5000 ms: stored by t+0.201s, due by t+5.201s, never received',
    ]);
    expect(byName.duplicate!.violations.map((w) => w.message)).toEqual([
      'dm:u1:u2 epoch e1: cmid b from u1 has 2 seqs: 2 (answered sent to u1/d1 at t+0.202s), 3 (answered sent to u1/d1 at t+0.302s)',
      'connection c2 of u2/d1 received dm:u1:u2 seq 3 (epoch e1, cmid b from u1) twice: at t+0.301s (live) and at t+0.302s (live)',
    ]);
    expect(byName.order!.violations.map((w) => w.message)).toEqual([
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) pushed seq 3 (cmid b) where seq 2 was expected after seq 1: seq 2 is missing',
      'connection c2 of u2/d1: dm:u1:u2 (epoch e1) repeated seq 3 (cmid b) right after itself',
    ]);
    // read while both were connected: u1 holds u2 offline
    expect(runAllCheckers(input(facts, { options: { presence: { at: t(10_000) } } })).find((v) => v.guarantee === 'presence')!.violations.map((w) => w.message)).toEqual([
      'subscriber u1/d1 (connection c1) holds u2 offline (v 1, received t+0.002s) at t+10.000s, but u2 has open connection c2 (u2/d1, welcomed t+0.001s)',
    ]);
  });

  it('indexes the facts once per input', () => {
    const i = input([connect('u1/d1', 'c1', 0)]);
    expect(indexFacts(i)).toBe(indexFacts(i));
  });

  it('generated runs that keep every guarantee pass every checker', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const verdicts = runAllCheckers(toInput(simulate(spec)));
        expect(verdicts.filter((v) => !v.ok).map((v) => v.summary)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('witness trail and fault window', () => {
  it('cuts the trail around the first violating fact and counts what it left out', () => {
    const facts: Fact[] = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), convFrame('u2/d1', 'c2', DM, 0, 100, 1)].flat();
    for (let s = 1; s <= 100; s++) facts.push(recv('u2/d1', 'c2', DM, s === 50 ? 51 : s, 'u1', `m${s}`, 10 + s));
    const order = runAllCheckers(input(facts, { options: { trailCap: 8 } })).find((v) => v.guarantee === 'order')!;
    const w = order.violations[0]!;
    expect(w.trail).toHaveLength(8);
    // three quarters before it: lifecycle, conv frame, receipts of seqs 47..54
    expect(w.trail.map((f) => ('k' in f && f.k === 'recv' ? f.seq : 'k' in f ? f.k : ''))).toEqual(['conn', 'conn', 'conv', 47, 48, 49, 51, 51]);
    expect(w.first).toBe(w.trail[6]);
    expect(w.trailOmitted).toBe(3);
  });

  it('lists the faults overlapping ±faultMarginMs around the violation', () => {
    const facts = [connect('u1/d1', 'c1', 0), send('u1/d1', 'c1', DM, 'a', 1, 10_000), recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 10_001)];
    const faults = [fault('before', 'toxic:latency', 'x', 0, 4_000), fault('near', 'toxic:latency', 'x', 4_000, 6_000), fault('open', 'redis:kill', 'redis', 14_000), fault('after', 'toxic:latency', 'x', 15_001, 16_000)];
    const lost = runAllCheckers(input(facts, { faults }))[0]!;
    expect(lost.violations[0]!.faultWindow.map((f) => f.id)).toEqual(['near', 'open']);
    expect(runAllCheckers(input(facts, { faults, options: { faultMarginMs: 100 } }))[0]!.violations[0]!.faultWindow).toEqual([]);
  });
});

describe('fault timeline', () => {
  it('ends an unended fault at the next healing event on its target, else at the run end; a restart is instantaneous', () => {
    const tl = faultTimeline([fault('k', 'node:kill', 'node-2', 100), fault('p', 'redis:pause', 'redis', 50), fault('r', 'node:restart', 'node-2', 400), fault('x', 'link:disable', 'c', 10)], t(1000));
    expect(tl.events.map((f, i) => `${f.id}:${tl.ends[i]! - t(0)}`)).toEqual(['x:1000', 'p:1000', 'k:400', 'r:400']);
    expect(faultsOverlapping(tl, t(450), t(460)).map((f) => f.id)).toEqual(['x', 'p']);
  });

  it('moves a deadline past every fault that overlaps it', () => {
    const tl = faultTimeline([fault('a', 'k', 'x', 0, 100), fault('b', 'k', 'x', 500, 700), fault('c', 'k', 'x', 1300, 1400), fault('d', 'k', 'x', 5000, 5100)], t(10_000));
    expect(deliveryDeadline(tl, t(200), 1000)).toEqual({ since: t(1400), deadline: t(2400) });
    expect(deliveryDeadline(tl, t(3000), 1000)).toEqual({ since: t(3000), deadline: t(4000) });
  });
});

describe('membership', () => {
  it('places changes by seq, else by time against the storing interval', () => {
    const tl = newTimeline('g:x', ['a']);
    addChange(tl, member('g:x', 'a', 'leave', 500, 5));
    addChange(tl, member('g:x', 'b', 'join', 300));
    sealTimeline(tl);
    expect([4, 5, 6].map((s) => memberAt(tl, 'a', s))).toEqual([true, true, false]);
    expect(memberAt(tl, 'b', 1, t(400), t(410))).toBe(true);
    expect(memberAt(tl, 'b', 1, t(200), t(250))).toBe(false);
    expect(memberAt(tl, 'b', 1, t(200), t(350))).toBeUndefined();
    expect([...newTimeline('dm:a:b', undefined).initial]).toEqual(['a', 'b']);
  });
});
