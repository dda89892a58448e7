import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/unseen.ts';
import { close, connect, fault, input, recv, send, t } from './build.ts';
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
