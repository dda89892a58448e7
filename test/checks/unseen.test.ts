import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/unseen.ts';
import { close, connect, convFrame, fault, input, recv, send, t } from './build.ts';
import { liveReceiptsHeldOpen, simulate, specArb, toInput, WITHIN } from './model.ts';

const DM = 'dm:u1:u2';

/** u1 sends seq 1 at 1000 (u1 sees it at 1001: stored by t+1.001s); u2/d1 connected from 0 receives it at `at`. */
function run(u2At: number | undefined, more: { faults?: ReturnType<typeof fault>[]; u2Close?: number; end?: number } = {}) {
  const sent = send('u1/d1', 'c1', DM, 'c-1', 1, 1000);
  const facts = [
    connect('u1/d1', 'c1', 0),
    connect('u2/d1', 'c2', 0),
    sent,
    recv('u1/d1', 'c1', DM, 1, 'u1', 'c-1', 1001),
    ...(u2At === undefined ? [] : [recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', u2At)]),
    ...(more.u2Close === undefined ? [] : [close('u2/d1', 'c2', more.u2Close)]),
    close('u1/d1', 'c1', more.end ?? 30_000),
  ];
  return { sent, v: check(input(facts, { faults: more.faults ?? [] })) };
}

describe('unseen (hand-made)', () => {
  it('passes a delivery within the stated time', () => {
    const { v } = run(5900, { u2Close: 30_000 });
    expect(v).toMatchObject({ guarantee: 'unseen', ok: true, checked: 2 });
    expect(v.summary).toBe('ok: 2 deliveries to devices connected throughout checked against 5000 ms');
  });

  it('flags a device that stayed connected and got the message late, naming the deadline', () => {
    const { v, sent } = run(7000, { u2Close: 30_000 });
    expect(v.violationCount).toBe(1);
    const w = v.violations[0]!;
    expect(w.message).toBe(
      'device u2/d1 on connection c2 (welcomed t+0.001s, open past the deadline) did not receive dm:u1:u2 seq 1 (epoch e1, cmid c-1 from u1) within 5000 ms: stored by t+1.001s, due by t+6.001s, received at t+7.000s',
    );
    expect(w.first).toBe(sent);
  });

  it('flags a message never received by a device connected throughout', () => {
    const { v } = run(undefined, { u2Close: 30_000 });
    expect(v.violations[0]!.message).toMatch(/due by t\+6\.001s, never received$/);
  });

  it('does not examine a device that disconnected before the deadline, or a deadline past the end of the run', () => {
    expect(run(20_000, { u2Close: 6000 }).v).toMatchObject({ ok: true, checked: 1 });
    // u2's connection never closes and the run ends (u1's close) before the deadline
    expect(run(undefined, { end: 5000 }).v).toMatchObject({ ok: true, checked: 0 });
  });

  it('measures from the end of a fault overlapping the window, repeatedly', () => {
    const f1 = fault('f1', 'toxic:timeout', 'redis-link:node-1', 500, 4000);
    expect(run(8900, { u2Close: 30_000, faults: [f1] }).v.ok).toBe(true);
    const late = run(9100, { u2Close: 30_000, faults: [f1] }).v;
    expect(late.violations[0]!.message).toMatch(/due by t\+9\.000s, 5000 ms after faults healed at t\+4\.000s, received at t\+9\.100s$/);
    expect(late.violations[0]!.faultWindow).toEqual([f1]);
    // a second fault starting inside the extended window extends it again
    const f2 = fault('f2', 'link:disable', 'client-link:node-1', 8000, 12_000);
    expect(run(16_900, { u2Close: 30_000, faults: [f1, f2] }).v.ok).toBe(true);
    expect(run(17_100, { u2Close: 30_000, faults: [f1, f2] }).v.ok).toBe(false);
    // a fault that healed before the message was stored changes nothing
    expect(run(7000, { u2Close: 30_000, faults: [fault('f0', 'toxic:latency', 'x', 0, 900)] }).v.ok).toBe(false);
  });

  it('heals a fault without an end at the next healing event on its target', () => {
    const kill = fault('k', 'node:kill', 'node-2', 2000);
    const restart = fault('r', 'node:restart', 'node-2', 6000);
    expect(run(10_900, { u2Close: 30_000, faults: [kill, restart] }).v.ok).toBe(true);
    expect(run(11_100, { u2Close: 30_000, faults: [kill, restart] }).v.violations[0]!.message).toContain('due by t+11.000s, 5000 ms after faults healed at t+6.000s');
    // never healed: lasts until the end of the run, nothing is due
    expect(run(29_000, { u2Close: 40_000, end: 30_000, faults: [kill] }).v).toMatchObject({ ok: true, checked: 0 });
  });

  it('takes the earliest proof of storage: the answer to the sender when no receipt came earlier', () => {
    const sent = send('u1/d1', 'c1', DM, 'c-1', 1, 1000, { answeredAt: t(1500) });
    const v = check(
      input([connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), sent, recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 6600), close('u2/d1', 'c2', 9000), close('u1/d1', 'c1', 9000)]),
    );
    expect(v.violations.map((w) => w.message.replace(/ on connection.*: stored/, ': stored'))).toEqual([
      'device u1/d1: stored by t+1.500s, due by t+6.500s, never received',
      'device u2/d1: stored by t+1.500s, due by t+6.500s, received at t+6.600s',
    ]);
  });
});

describe('unseen: an epoch a later store wipe took (review 2026-12-05, F3 control)', () => {
  // dm under e1; x1 stored at `storedAt` (its sender's receipt, 2 ms after the send) and due at
  // u2/d1, connected throughout, 1000 ms later; the volatile store is wiped at t+5.000s (back
  // at t+5.200s), so e1 is not the conversation's current epoch. Before the fix every message of
  // such an epoch was skipped: the wipe excused a deadline that had passed seconds before it.
  const wipe = { storeWipes: [t(5000)], storeBackAt: [t(5200)] };
  const mk = (storedAt: number, u2At: number | undefined, more: { faults?: ReturnType<typeof fault>[]; wipe?: boolean; later?: boolean; between?: boolean } = {}) =>
    check(
      input(
        [
          ...connect('u1/d1', 'c1', 0),
          ...connect('u2/d1', 'c2', 0),
          convFrame('u1/d1', 'c1', DM, 0, 0, 5),
          convFrame('u2/d1', 'c2', DM, 0, 0, 5),
          send('u1/d1', 'c1', DM, 'x1', 1, storedAt - 2, { epoch: undefined }),
          recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', storedAt),
          ...(u2At === undefined ? [] : [recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', u2At)]),
          // the conversation's next incarnation, told to both after the store was back
          ...(more.later ? [convFrame('u1/d1', 'c1', DM, 0, 0, 8000, 'e2'), convFrame('u2/d1', 'c2', DM, 0, 0, 8000, 'e2')] : []),
          // another incarnation before the wipe: e1 was lost with no wipe recorded, before it
          ...(more.between ? [convFrame('u1/d1', 'c1', DM, 0, 0, 3000, 'e1b'), convFrame('u2/d1', 'c2', DM, 0, 0, 3000, 'e1b')] : []),
        ],
        { faults: more.faults ?? [], options: { runEnd: t(60_000), unseenWithinMs: 1000, ...(more.wipe === false ? {} : wipe) } },
      ),
    );

  it('judges a delivery whose deadline passed before the wipe began: late at t+4.000s, due by t+1.012s', () => {
    const v = mk(12, 4000);
    expect(v).toMatchObject({ ok: false, checked: 2 });
    expect(v.violations.map((w) => w.message)).toEqual([
      'device u2/d1 on connection c2 (welcomed t+0.001s, open past the deadline) did not receive dm:u1:u2 seq 1 (epoch e1, cmid x1 from u1) within 1000 ms: stored by t+0.012s, due by t+1.012s, received at t+4.000s',
    ]);
    // never received at all: the same
    expect(mk(12, undefined).violations.map((w) => w.message.replace(/^.*due by/, 'due by'))).toEqual(['due by t+1.012s, never received']);
    // and with the next incarnation seen after the wipe
    expect(mk(12, 4000, { later: true })).toMatchObject({ ok: false, checked: 2 });
  });

  it('passes the same delivery on time (the correct server)', () => {
    expect(mk(12, 800)).toMatchObject({ ok: true, checked: 2 });
    expect(mk(12, 800, { later: true })).toMatchObject({ ok: true, checked: 2 });
  });

  it('still excuses a delivery whose deadline falls after the wipe began, or is moved past it by a fault', () => {
    // stored at t+4.500s, due by t+5.500s: the wipe began first
    const after = mk(4500, undefined);
    expect(after).toMatchObject({ ok: true, checked: 0 });
    expect(after.summary).toContain('of epochs the store later lost');
    // stored at t+0.012s, but a fault healing at t+4.500s moves the deadline to t+5.500s
    expect(mk(12, undefined, { faults: [fault('f1', 'toxic:timeout', 'redis-link:node-1', 500, 4500)] })).toMatchObject({ ok: true, checked: 0 });
  });

  it('an epoch superseded with no store wipe recorded was lost at no known time: its messages are not judged', () => {
    expect(mk(12, 4000, { wipe: false, later: true })).toMatchObject({ ok: true, checked: 0 });
    // nor when a wipe follows but another epoch was first seen before it: e1 went before the wipe
    const between = mk(12, 4000, { between: true, later: true });
    expect(between).toMatchObject({ ok: true, checked: 0 });
    expect(between.summary).toContain('1 acked message of epochs the store later lost with no wipe recorded not checked');
  });
});

describe('unseen (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const v = check(toInput(simulate(spec)));
        expect(v.violations.map((w) => w.message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('delaying one live receipt of a connected device past the deadline is flagged exactly', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const held = liveReceiptsHeldOpen(run);
        fc.pre(held.length > 0);
        const victim = held[pick % held.length]!;
        const send = run.msgs.find((m) => m.conv === victim.conv && m.seq === victim.seq)!.send;
        const facts = run.facts.map((f) => (f === victim ? { ...victim, at: send.answeredAt! + WITHIN + 1 } : f));
        const v = check(toInput(run, facts));
        expect(v.violationCount).toBe(1);
        const w = v.violations[0]!;
        expect(w.message).toContain(`device ${victim.client} on connection ${victim.conn} `);
        expect(w.message).toContain(` ${victim.conv} seq ${victim.seq} (epoch e1, cmid ${victim.cmid} from ${victim.from}) within ${WITHIN} ms`);
        expect(w.first).toBe(send);
      }),
      { numRuns: 200 },
    );
  });
});
