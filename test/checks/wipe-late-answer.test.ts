// A correct server whose `sent` answer for a message the old store kept is read only after a
// wiped store is back (a latency toxic on the client link, a paused node, the device's own read
// stall). `answeredAt` is when the device read the answer, so a send is filed by when it was
// written (`sentAt`): review of a3c7f47, 2026-12-05, cases A, B, B2 (false failures of lost
// and unseen there) and C, C2 (a Redis left down: its wipe began no incarnation).
import { describe, expect, it } from 'vitest';
import { check as lost } from '../../harness/checks/lost.ts';
import { check as order } from '../../harness/checks/order.ts';
import { check as unseen } from '../../harness/checks/unseen.ts';
import type { Fact } from '../../harness/model/facts.ts';
import { convFrame, dmPair, fault, input, recv, send, t } from './build.ts';

const DM = 'dm:u1:u2';
const noEpoch = { epoch: undefined };

function facts(answerAt: number): Fact[] {
  return [
    ...dmPair(),
    send('u1/d1', 'c1', DM, 'x0', 1, 10, noEpoch),
    recv('u1/d1', 'c1', DM, 1, 'u1', 'x0', 12, 'live', 'e1'),
    recv('u2/d1', 'c2', DM, 1, 'u1', 'x0', 12, 'live', 'e1'),
    // x1 written at 980, stored as seq 2 of e1, pushed to both at 985; its `sent` answer is
    // read by u1/d1 only at `answerAt` (client link latency toxic 900..1400)
    send('u1/d1', 'c1', DM, 'x1', 2, 980, { ...noEpoch, answeredAt: t(answerAt) }),
    recv('u1/d1', 'c1', DM, 2, 'u1', 'x1', 985, 'live', 'e1'),
    recv('u2/d1', 'c2', DM, 2, 'u1', 'x1', 985, 'live', 'e1'),
    // Redis killed at 1000, back at 1200; u2 writes the dm's first message of e2 at 1500
    convFrame('u1/d1', 'c1', DM, 0, 1, 1501, 'e2'),
    convFrame('u2/d1', 'c2', DM, 0, 1, 1501, 'e2'),
    send('u2/d1', 'c2', DM, 'y1', 1, 1500, noEpoch),
    recv('u1/d1', 'c1', DM, 1, 'u2', 'y1', 1502, 'live', 'e2'),
    recv('u2/d1', 'c2', DM, 1, 'u2', 'y1', 1502, 'live', 'e2'),
  ];
}
const faults = [fault('f1', 'toxic:latency', 'client-link:node-1', 900, 1400), fault('f2', 'redis:kill', 'redis', 1000, 1200)];
const options = { runEnd: t(60_000), storeWipes: [t(1000)], storeBackAt: [t(1200)] };

const wiped = { runEnd: t(60_000), storeWipes: [t(1000)], storeBackAt: [t(1200)] };
const base = (): Fact[] => dmPair();

describe('a send stored before a wipe, its answer read after the store was back (correct server)', () => {
  for (const answerAt of [1150, 1300]) {
    it(`A: x1 (seq 2 of e1, both devices got it before the wipe) answered at t+${answerAt / 1000}s stays in e1: lost and unseen pass`, () => {
      const inp = input(facts(answerAt), { faults, options });
      const l = lost(inp);
      expect(l.violations.map((v) => v.message)).toEqual([]);
      expect(l.checked).toBe(2);
      expect(unseen(inp).violations.map((v) => v.message)).toEqual([]);
    });
  }

  it('B: the same behind a paused node, no later epoch seen: not filed under no epoch', () => {
    const facts = [
      ...base(),
      send('u1/d1', 'c1', DM, 'x1', 1, 980, { ...noEpoch, answeredAt: t(1300) }),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', 985, 'live', 'e1'),
      recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', 985, 'live', 'e1'),
    ];
    const inp = input(facts, { faults: [fault('f1', 'node:pause', 'node-1', 990, 1290), fault('f2', 'redis:kill', 'redis', 1000, 1200)], options: wiped });
    expect(lost(inp).violations.map((v) => v.message)).toEqual([]);
    expect(unseen(inp).violations.map((v) => v.message)).toEqual([]);
  });

  it("B2: the same delayed by the device's own read stall, no fault on the timeline", () => {
    const facts: Fact[] = [
      ...base(),
      { k: 'stall', client: 'u1/d1', mode: 'pause', at: t(970), end: t(1299) },
      send('u1/d1', 'c1', DM, 'x1', 1, 980, { ...noEpoch, answeredAt: t(1300) }),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', 1300, 'live', 'e1'),
      recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', 985, 'live', 'e1'),
    ];
    const inp = input(facts, { faults: [fault('f2', 'redis:kill', 'redis', 1000, 1200)], options: wiped });
    expect(lost(inp).violations.map((v) => v.message)).toEqual([]);
  });
});

describe('a Redis left down (storeBackAt = its start): no new incarnation began', () => {
  const downAt = (kind: string, sentAt: number, answeredAt: number) => {
    const facts = [
      ...base(),
      send('u1/d1', 'c1', DM, 'x1', 1, sentAt, { ...noEpoch, answeredAt: t(answeredAt) }),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', sentAt + 5, 'live', 'e1'),
      recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', sentAt + 5, 'live', 'e1'),
    ];
    return input(facts, { faults: [fault('f2', kind, 'redis', 1000)], options: { runEnd: t(60_000), storeWipes: [t(1000)], storeBackAt: [t(1000)] } });
  };
  it('C: killed; a send written just before, answered by the dying store just after', () => {
    expect(lost(downAt('redis:kill', 995, 1010)).violations.map((v) => v.message)).toEqual([]);
  });
  it('C2: stopped (SIGTERM); written 30 ms into the stop, answered by the store as it drained', () => {
    expect(lost(downAt('redis:stop', 1030, 1040)).violations.map((v) => v.message)).toEqual([]);
  });
});

describe('a new incarnation pushed without its conv frame (a broken server)', () => {
  // e1 is the only epoch the fleet ever saw: the server pushed the new incarnation's seq 1
  // without a conv frame, so the device filed it under e1. The send, written after the store
  // was back, has receipts only there; a3c7f47 filed it under no epoch, and order named
  // "epoch ," (the redis-volatile control epoch_unannounced failed its wording in CI,
  // 2026-12-05). It is filed under e1, as its receipts are, and order names the wipe (the time it began).
  it('order fails, naming the wipe, with the send filed under the epoch its receipts carry', () => {
    const facts: Fact[] = [
      ...base(),
      ...[1, 2, 3].flatMap((s) => [send('u1/d1', 'c1', DM, `x${s}`, s, 10 * s, noEpoch), recv('u1/d1', 'c1', DM, s, 'u1', `x${s}`, 10 * s + 2, 'live', 'e1'), recv('u2/d1', 'c2', DM, s, 'u1', `x${s}`, 10 * s + 2, 'live', 'e1')]),
      send('u1/d1', 'c1', DM, 'x4', 1, 1500, noEpoch),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'x4', 1502, 'live', 'e1'),
    ];
    const v = order(input(facts, { faults: [fault('f2', 'redis:kill', 'redis', 1000, 1200)], options: wiped }));
    expect(v.ok).toBe(false);
    expect(v.violations[0]!.message).toMatch(/^connection c1 of u1\/d1: dm:u1:u2 \(epoch e1\) went back to seq 1 \(cmid x4\) after seq 3: the store came back empty at t\+1\.000s/);
  });
});
