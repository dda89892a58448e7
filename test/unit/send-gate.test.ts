// SendGate (server/gateway/send-gate.ts) on its own: a model of the gateway's use of it —
// sends arriving on connections, store answers ending them, connections whose own limits
// hold them, closes — run through random sequences. Whatever the order: the bound holds, a
// connection with a send waiting is always either held by the gate or held by its own
// limits (no wake-up lost), slots go in the order connections began to wait, and a resume
// that throws does not strand the connections behind it. HTTP sends (acquire) wait in the
// same queue, for at most their deadline.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SendGate, SlotWaitAborted, SlotWaitExpired } from '../../server/gateway/send-gate.ts';

type Op =
  | { k: 'arrive'; c: number }
  | { k: 'answer' }
  | { k: 'block'; c: number }
  | { k: 'unblock'; c: number }
  | { k: 'close'; c: number }
  | { k: 'http' }
  | { k: 'tick' };

/** how long an HTTP send waits for a slot in the model, and how far one `tick` moves the (fake) clock */
const HTTP_WAIT_MS = 100;
const TICK_MS = 60;

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
  /** HTTP sends: waiting for a slot, granted one (started), and run out of their wait */
  let httpWaiting = 0;
  let httpStarted = 0;
  let httpExpired = 0;
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
        if (started + httpStarted === answered) return;
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
      case 'http':
        httpWaiting++;
        gate.acquire(HTTP_WAIT_MS).then(
          () => {
            httpWaiting--;
            httpStarted++;
          },
          (err: unknown) => {
            expect(err).toBeInstanceOf(SlotWaitExpired);
            httpWaiting--;
            httpExpired++;
          },
        );
        return;
      case 'tick':
        vi.advanceTimersByTime(TICK_MS);
        return;
    }
  }

  function check(): void {
    expect(gate.inFlight).toBe(started + httpStarted - answered);
    expect(gate.inFlight).toBeLessThanOrEqual(max);
    // held only while the node is full: a free slot with someone waiting would be a lost wake-up
    if (gate.heldCount > 0) expect(gate.inFlight).toBe(max);
    for (let c = 0; c < CONNS; c++) {
      if (gate.holding(c)) expect(waiting[c], `conn ${c} held with nothing waiting`).toBeGreaterThan(0);
      if (waiting[c]! > 0) expect(gate.holding(c) || blocked[c], `conn ${c} has sends waiting and nothing will wake it`).toBe(true);
    }
    // every HTTP send still waiting is in the gate's queue: none forgotten, none counted twice
    let heldConns = 0;
    for (let c = 0; c < CONNS; c++) if (gate.holding(c)) heldConns++;
    expect(gate.heldCount).toBe(heldConns + httpWaiting);
    expect(gate.waitingRequests).toBe(httpWaiting);
    expect(gate.heldConnections).toBe(heldConns);
  }

  return { gate, apply, check, heldOrder, resumedOrder, errors, waiting, http: () => ({ waiting: httpWaiting, started: httpStarted, expired: httpExpired }) };
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

  it('a connection that left the queue and waits again is served at its new place, once', () => {
    // the gateway forgets a connection when it closes; the gate itself must not rely on that
    // to keep its order (a place left behind in its queue is passed over, not reused)
    const gate = new SendGate<number>(1, () => {});
    const resumed: number[] = [];
    expect(gate.admit(0)).toBe(true);
    gate.start();
    for (const c of [1, 2, 3]) expect(gate.admit(c)).toBe(false);
    gate.forget(1);
    expect(gate.admit(1)).toBe(false); // now behind 2 and 3
    expect([gate.heldCount, gate.holds]).toEqual([3, 4]);
    for (let i = 0; i < 3; i++) {
      gate.end((c) => {
        resumed.push(c);
        gate.start();
      });
    }
    expect(resumed).toEqual([2, 3, 1]);
    expect(gate.heldCount).toBe(0);
    gate.end(() => {});
    expect(gate.inFlight).toBe(0);
  });

  it('holds thousands of connections in order, and ends with nothing held', () => {
    // the queue's front moves at every end(); a long run of holds and resumes keeps first-held-first
    const gate = new SendGate<number>(8, () => {});
    const resumed: number[] = [];
    for (let c = 0; c < 8; c++) {
      expect(gate.admit(c)).toBe(true);
      gate.start();
    }
    const N = 20_000;
    for (let c = 8; c < N; c++) expect(gate.admit(c)).toBe(false);
    for (let c = 8; c < N; c += 3) gate.forget(c); // every third closes while it waits
    while (gate.heldCount > 0) {
      gate.end((c) => {
        resumed.push(c);
        gate.start();
      });
    }
    const expected = [];
    for (let c = 8; c < N; c++) if ((c - 8) % 3 !== 0) expected.push(c);
    expect(resumed).toEqual(expected);
    expect(gate.inFlight).toBe(8);
    for (let i = 0; i < 8; i++) gate.end(() => {});
    expect([gate.heldCount, gate.inFlight]).toEqual([0, 0]);
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

  describe('HTTP sends (acquire)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    /** lets the acquire promises settle (they resolve in microtasks, not timers) */
    const settle = async () => {
      for (let i = 0; i < 3; i++) await Promise.resolve();
    };

    it('keep the bound, lose no wake-up and are never granted after their deadline, mixed with connections', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const withHttp = fc.oneof(
        { weight: 6, arbitrary: op },
        { weight: 2, arbitrary: fc.constant({ k: 'http' as const }) },
        { weight: 3, arbitrary: fc.constant({ k: 'tick' as const }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(withHttp, { maxLength: 120 }), async (max, ops) => {
          const m = model(max);
          for (const o of ops) {
            m.apply(o);
            await settle();
            m.check();
          }
        }),
        { numRuns: 300 },
      );
    });

    it('waits behind the connections held before it and ahead of those held after, its slot counted when granted', async () => {
      const m = model(1);
      m.apply({ k: 'arrive', c: 0 }); // in flight
      m.apply({ k: 'arrive', c: 1 }); // held first
      m.apply({ k: 'http' }); // waits second
      m.apply({ k: 'arrive', c: 2 }); // held third
      await settle();
      expect(m.gate.heldCount).toBe(3);
      m.apply({ k: 'answer' });
      await settle();
      expect(m.resumedOrder).toEqual([1]);
      expect(m.http().started).toBe(0);
      m.apply({ k: 'answer' });
      // granted synchronously by end(): its slot is taken before its promise settles
      expect(m.gate.inFlight).toBe(1);
      expect(m.gate.holding(2)).toBe(true);
      await settle();
      expect(m.http()).toEqual({ waiting: 0, started: 1, expired: 0 });
      m.apply({ k: 'answer' });
      expect(m.resumedOrder).toEqual([1, 2]);
      m.check();
    });

    it('past its deadline leaves the queue with SlotWaitExpired naming the bound, and takes no slot later', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const gate = new SendGate<number>(1, () => {});
      await gate.acquire(50); // the one slot
      const late = gate.acquire(50);
      const outcome = late.then(() => 'granted', (err: unknown) => err);
      expect(gate.heldCount).toBe(1);
      vi.advanceTimersByTime(49);
      await settle();
      expect(gate.heldCount).toBe(1);
      vi.advanceTimersByTime(1);
      const err = await outcome;
      expect(err).toBeInstanceOf(SlotWaitExpired);
      expect(String(err)).toBe(`Error: no send slot freed within 50 ms: all MAX_SENDS_IN_FLIGHT (1) of the node's sends wait for the store`);
      expect(gate.heldCount).toBe(0);
      gate.end(() => {});
      expect(gate.inFlight).toBe(0);
      expect(gate.holds).toBe(1);
    });

    it('whose client left gives up its place at once, and the slot goes to the next', async () => {
      const gate = new SendGate<number>(1, () => {});
      await gate.acquire(10_000); // the one slot
      const left = new AbortController();
      const first = gate.acquire(10_000, left.signal).then(() => 'granted', (err: unknown) => err);
      const second = gate.acquire(10_000).then(() => 'granted');
      expect([gate.heldCount, gate.waitingRequests, gate.heldConnections]).toEqual([2, 2, 0]);
      left.abort();
      expect(await first).toBeInstanceOf(SlotWaitAborted);
      expect([gate.heldCount, gate.waitingRequests]).toEqual([1, 1]);
      gate.end(() => {});
      expect(await second).toBe('granted');
      expect([gate.inFlight, gate.heldCount, gate.waitingRequests]).toEqual([1, 0, 0]);
      // a client already gone does not queue at all
      const gone = new AbortController();
      gone.abort();
      await expect(gate.acquire(10_000, gone.signal)).rejects.toBeInstanceOf(SlotWaitAborted);
      expect(gate.heldCount).toBe(0);
      gate.end(() => {});
      expect(gate.inFlight).toBe(0);
    });
  });

  it('refuses a bound that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new SendGate(bad, () => {})).toThrow(/whole number ≥ 1/);
  });
});
