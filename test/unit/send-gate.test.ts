// SendGate (server/gateway/send-gate.ts) on its own: a model of the gateway's use of it —
// sends arriving on connections, store answers ending them, connections whose own limits
// hold them, closes — run through random sequences. Whatever the order: the bound holds, a
// connection with a send waiting is always either held by the gate or held by its own
// limits (no wake-up lost), slots go in the order connections began to wait, and a resume
// that throws does not strand the connections behind it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendGate } from '../../server/gateway/send-gate.ts';

type Op =
  | { k: 'arrive'; c: number }
  | { k: 'answer' }
  | { k: 'block'; c: number }
  | { k: 'unblock'; c: number }
  | { k: 'close'; c: number };

const CONNS = 4;
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: CONNS - 1 }).map((c) => ({ k: 'arrive' as const, c })) },
  { weight: 4, arbitrary: fc.constant({ k: 'answer' as const }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: CONNS - 1 }).map((c) => ({ k: 'block' as const, c })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: CONNS - 1 }).map((c) => ({ k: 'unblock' as const, c })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: CONNS - 1 }).map((c) => ({ k: 'close' as const, c })) },
);

/** The gateway's side, reduced: per connection the sends waiting in order (pace.waiting) and whether its own limits hold it. */
function model(max: number, throwOn: number | null = null) {
  const errors: number[] = [];
  const gate = new SendGate<number>(max, (c, err) => {
    errors.push(c);
    expect(String(err)).toMatch(/resume failed/);
    close(c);
  });
  const waiting = Array.from({ length: CONNS }, () => 0);
  const blocked = Array.from({ length: CONNS }, () => false);
  const closed = Array.from({ length: CONNS }, () => false);
  let started = 0;
  let answered = 0;
  /** connections in the order they began to wait for the gate, and in the order it resumed them */
  const heldOrder: number[] = [];
  const resumedOrder: number[] = [];

  function close(c: number): void {
    closed[c] = true;
    waiting[c] = 0;
    gate.forget(c);
  }
  /** gateway.pump: starts the connection's waiting sends while its limits and the gate allow */
  function pump(c: number): void {
    while (waiting[c]! > 0 && !blocked[c]) {
      const wasHeld = gate.holding(c);
      if (!gate.admit(c)) {
        if (!wasHeld) heldOrder.push(c);
        return;
      }
      gate.start();
      started++;
      waiting[c]!--;
    }
  }
  const resume = (c: number): void => {
    resumedOrder.push(c);
    if (c === throwOn) throw new Error('resume failed');
    pump(c);
  };

  function apply(o: Op): void {
    switch (o.k) {
      case 'arrive':
        if (closed[o.c]) return;
        waiting[o.c]!++;
        if (waiting[o.c] === 1) pump(o.c);
        return;
      case 'answer':
        if (started === answered) return;
        answered++;
        gate.end(resume);
        return;
      case 'block':
        blocked[o.c] = true;
        return;
      case 'unblock':
        blocked[o.c] = false;
        pump(o.c);
        return;
      case 'close':
        close(o.c);
        return;
    }
  }

  function check(): void {
    expect(gate.inFlight).toBe(started - answered);
    expect(gate.inFlight).toBeLessThanOrEqual(max);
    // held only while the node is full: a free slot with someone waiting would be a lost wake-up
    if (gate.heldCount > 0) expect(gate.inFlight).toBe(max);
    for (let c = 0; c < CONNS; c++) {
      if (gate.holding(c)) expect(waiting[c], `conn ${c} held with nothing waiting`).toBeGreaterThan(0);
      if (waiting[c]! > 0) expect(gate.holding(c) || blocked[c], `conn ${c} has sends waiting and nothing will wake it`).toBe(true);
    }
  }

  return { gate, apply, check, heldOrder, resumedOrder, errors, waiting };
}

describe('SendGate', () => {
  it('keeps the bound and loses no wake-up, whatever the order of arrivals, answers, own limits and closes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 120 }), (max, ops) => {
        const m = model(max);
        for (const o of ops) {
          m.apply(o);
          m.check();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('resumes connections in the order they began to wait', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op.filter((o) => o.k === 'arrive' || o.k === 'answer'), { maxLength: 120 }), (max, ops) => {
        const m = model(max);
        for (const o of ops) m.apply(o);
        // with no own limits and no closes, every resume takes a slot: the resumes are a prefix of the holds, in order
        expect(m.resumedOrder).toEqual(m.heldOrder.slice(0, m.resumedOrder.length));
      }),
      { numRuns: 500 },
    );
  });

  it('a resumed connection its own limits hold leaves the slot to the next one', () => {
    const m = model(1);
    m.apply({ k: 'arrive', c: 0 }); // in flight
    m.apply({ k: 'arrive', c: 1 }); // held first
    m.apply({ k: 'arrive', c: 2 }); // held second
    m.apply({ k: 'block', c: 1 });
    m.apply({ k: 'answer' });
    expect(m.resumedOrder).toEqual([1, 2]);
    expect(m.gate.inFlight).toBe(1);
    expect(m.waiting).toEqual([0, 1, 0, 0]);
    m.check();
  });

  it('a resume that throws is reported and the connections behind it are still resumed', () => {
    const m = model(2, 1);
    for (const c of [0, 0, 1, 2, 3]) m.apply({ k: 'arrive', c });
    expect(m.gate.heldCount).toBe(3);
    m.apply({ k: 'answer' });
    m.apply({ k: 'answer' });
    expect(m.errors).toEqual([1]);
    expect(m.resumedOrder).toEqual([1, 2, 3]);
    expect(m.gate.inFlight).toBe(2);
    expect(m.gate.heldCount).toBe(0);
    m.check();
  });

  it('refuses a bound that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new SendGate(bad, () => {})).toThrow(/whole number ≥ 1/);
  });
});
