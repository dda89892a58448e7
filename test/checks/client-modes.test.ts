// The checkers under the workload's client modes (workload.deviceGroups): an ack above what a
// device held, a device that left for good, a device that stopped reading for a while.
import { describe, expect, it } from 'vitest';
import { check as lost } from '../../harness/checks/lost.ts';
import { check as unseen } from '../../harness/checks/unseen.ts';
import type { AckAheadFact, GoneFact, StallFact } from '../../harness/model/facts.ts';
import { close, connect, convFrame, input, recv, send, t } from './build.ts';

const DM = 'dm:u1:u2';
const ahead = (client: string, conn: string, held: number, seq: number, at: number, until: number): AckAheadFact => ({ k: 'ack_ahead', client, conn, conv: DM, epoch: 'e1', seq, held, at: t(at), until: t(until), answered: true });

describe('lost: ack ahead', () => {
  // u2/d1 holds seq 1 and acks 51 at 300 (handled by 310), then drops; seqs 2 and 3 are stored meanwhile
  const base = [
    connect('u1/d1', 'c1', 0),
    connect('u2/d1', 'c2', 0),
    send('u1/d1', 'c1', DM, 'a', 1, 100),
    recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 101),
    recv('u2/d1', 'c2', DM, 1, 'u1', 'a', 101),
    // stored before the ack was handled: a clamp to the head may have covered it
    send('u1/d1', 'c1', DM, 'b', 2, 290),
    recv('u1/d1', 'c1', DM, 2, 'u1', 'b', 292),
    ahead('u2/d1', 'c2', 1, 51, 300, 310),
    close('u2/d1', 'c2', 320),
    // stored after it: no correct clamp covers it
    send('u1/d1', 'c1', DM, 'c', 3, 400),
    recv('u1/d1', 'c1', DM, 3, 'u1', 'c', 402),
    connect('u2/d1', 'c3', 900),
  ];

  it('does not hold the device to a message stored before its ack was handled, and says so', () => {
    const v = lost(input([...base, convFrame('u2/d1', 'c3', DM, 2, 3, 902), recv('u2/d1', 'c3', DM, 3, 'u1', 'c', 903, 'backlog')]));
    expect(v.ok).toBe(true);
    expect(v.summary).toContain('1 delivery not owed: the device acked past them (ack ahead) when they may already have been stored');
  });

  it('holds it to every message stored after the ack, naming the ack that was not clamped', () => {
    // a server that stored 51 as the cursor replays nothing at the reconnect
    const v = lost(input([...base, convFrame('u2/d1', 'c3', DM, 3, 3, 902)]));
    expect(v.ok).toBe(false);
    expect(v.violationCount).toBe(1);
    expect(v.violations[0]!.message).toBe(
      'dm:u1:u2 seq 3 (epoch e1, cmid c from u1, answered sent at t+0.402s) never reached member u2 on device u2/d1 (last connection c3 still open); ' +
        'the device acked ahead: ack 51 while holding 1 at t+0.300s (answered ok by t+0.310s), before this message was stored (not before t+0.400s): clamped to the head, that ack could not cover it',
    );
  });
});

describe('lost: a device that left for good', () => {
  const gone: GoneFact = { k: 'gone', client: 'u2/d1', at: t(10_000) };
  const facts = [
    connect('u1/d1', 'c1', 0),
    connect('u2/d1', 'c2', 0),
    send('u1/d1', 'c1', DM, 'a', 1, 1000),
    recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 1001),
    send('u1/d1', 'c1', DM, 'b', 2, 7000),
    recv('u1/d1', 'c1', DM, 2, 'u1', 'b', 7001),
    gone,
    close('u2/d1', 'c2', 10_000, 1000),
  ];

  it('is owed what was stored unseenWithinMs before it left, and not later messages', () => {
    const v = lost(input(facts, { options: { unseenWithinMs: 5000 } }));
    expect(v.ok).toBe(false);
    expect(v.violationCount).toBe(1);
    expect(v.violations[0]!.message).toMatch(/^dm:u1:u2 seq 1 .* never reached member u2 on device u2\/d1/);
    expect(v.summary).toContain('1 delivery to devices that left for good, stored less than 5000 ms before they left or after, not owed');
  });
});

describe('unseen: a device that stopped reading', () => {
  const stall: StallFact = { k: 'stall', client: 'u2/d1', mode: 'pause', at: t(500), end: t(8000) };
  const facts = [
    connect('u1/d1', 'c1', 0),
    connect('u2/d1', 'c2', 0),
    send('u1/d1', 'c1', DM, 'a', 1, 1000),
    recv('u1/d1', 'c1', DM, 1, 'u1', 'a', 1001),
    recv('u2/d1', 'c2', DM, 1, 'u1', 'a', 8100),
    send('u1/d1', 'c1', DM, 'b', 2, 20_000),
    recv('u1/d1', 'c1', DM, 2, 'u1', 'b', 20_001),
    recv('u2/d1', 'c2', DM, 2, 'u1', 'b', 20_002),
  ];

  it('is due unseenWithinMs after it reads again', () => {
    expect(unseen(input([...facts, stall], { options: { unseenWithinMs: 5000 } })).ok).toBe(true);
  });

  it('without the stall the same late receipt fails', () => {
    const v = unseen(input(facts, { options: { unseenWithinMs: 5000 } }));
    expect(v.ok).toBe(false);
    expect(v.violations[0]!.message).toMatch(/^device u2\/d1 on connection c2 .* did not receive dm:u1:u2 seq 1 .* within 5000 ms/);
  });
});
