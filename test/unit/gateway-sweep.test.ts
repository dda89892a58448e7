// The gateway's periodic work over many connections, spread instead of in bursts that stall
// the event loop (issue 10): the ack flush — acks coalesced on many connections reach the
// store in bounded batches spread over the second, never as one call per connection in one
// tick; a store failure keeps them (unless newer ones replaced them) — and the heartbeat
// pings of connections that opened together. In-memory store and sockets, the gateway's
// own timers under vitest's fake clock: what is checked is which calls happen in which
// tick, not how long anything takes.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../server/config/config.ts';
import { recordAck } from '../../server/gateway/conn-acks.ts';
import type { Conn } from '../../server/gateway/connection.ts';
import { Gateway, type GatewayDeps } from '../../server/gateway/gateway.ts';
import { BUCKET_IDLE_MS, PRUNE_EVERY_MS, RateBuckets } from '../../server/gateway/rate.ts';
import { createMetrics } from '../../server/observability/metrics.ts';
import { MemoryBroker } from '../../server/store/memory/memory-bus.ts';
import { CloseCode } from '../../server/protocol/codes.ts';
import { MemoryStore } from '../../server/store/memory/memory-store.ts';
import { monoNow } from '../../server/util/clock.ts';
import { Semaphore } from '../../server/util/semaphore.ts';

const TICK_MS = 50;
const metrics = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 });

/** What onConnection needs of a `ws` socket; `pings` is when it was pinged. */
class IdleSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly pings: number[] = [];
  /** close codes it was sent */
  readonly closes: number[] = [];
  on(): this {
    return this;
  }
  send(): void {}
  close(code: number): void {
    this.closes.push(code);
    this.readyState = 2;
    this.bufferedAmount = 0;
  }
  terminate(): void {}
  ping(): void {
    this.pings.push(Date.now());
  }
}

interface StoreCall {
  label: string;
  at: number;
}

function setup(n: number, env: Record<string, string> = {}) {
  const calls: StoreCall[] = [];
  /** while set, store calls wait for `release()` */
  let held: Array<() => void> | null = null;
  const store = new MemoryStore(new MemoryBroker({ auto: false }), {
    schedule: (label, effect) => {
      calls.push({ label, at: Date.now() });
      if (!held) return new Promise((resolve) => resolve(effect()));
      return new Promise((resolve, reject) => held!.push(() => (async () => effect())().then(resolve, reject)));
    },
  });
  const buckets = new RateBuckets(50, 100);
  const deps: GatewayDeps = {
    config: loadConfig({ JWT_SECRET: 'k'.repeat(32), ...env }),
    log: pino({ level: 'silent' }),
    store: { log: store, cursors: store },
    sender: {} as GatewayDeps['sender'],
    hub: {} as GatewayDeps['hub'],
    presence: {} as GatewayDeps['presence'],
    tokens: {} as GatewayDeps['tokens'],
    buckets,
    metrics,
    nodeId: 'n1',
    maxConnections: 100_000,
    bulkReads: new Semaphore(8),
  };
  const gw = new Gateway(deps);
  const open = (gw as unknown as { onConnection(ws: IdleSocket, overLimit: boolean): void }).onConnection.bind(gw);
  const conns: Conn[] = [];
  const sockets = Array.from({ length: n }, () => new IdleSocket());
  for (const ws of sockets) open(ws, false);
  for (const [i, conn] of [...gw.connections()].entries()) {
    conn.identity = { user: `u${i}`, device: 'd', admin: false, expMs: Date.now() + 3_600_000 };
    conn.state = 'open';
    recordAck(conn, `g:c${i % 7}`, { epoch: 'E', seq: 10 + (i % 5) });
    conns.push(conn);
  }
  return {
    gw,
    buckets,
    store,
    conns,
    sockets,
    calls,
    hold: () => (held = []),
    release: () => {
      const h = held ?? [];
      held = null;
      for (const go of h) go();
    },
  };
}

/** devices a store call carried: a batch says how many in its label, a single-device call is one */
const devicesOf = (c: StoreCall) => (c.label.startsWith('advanceCursorsBatch ') ? Number(c.label.split(' ')[1]) : 1);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ack flush', () => {
  it('2000 connections holding acks: every cursor written within a second and a tick, in bounded batches spread over the ticks', async () => {
    const N = 2000;
    const { gw, store, conns, calls } = setup(N);
    const t0 = Date.now();
    gw.start();
    for (let t = 0; t < 22; t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    gw.stop();

    // every ack reached its device's cursor, none is still held
    for (const [i, conn] of conns.entries()) {
      expect(conn.acks?.due).toBe(0);
      expect(await store.cursorOf(`u${i}`, 'd', `g:c${i % 7}`)).toEqual({ epoch: 'E', seq: 10 + (i % 5) });
    }
    const writes = calls.filter((c) => c.label.startsWith('advanceCursors'));
    const byTick = new Map<number, StoreCall[]>();
    for (const c of writes) byTick.set(Math.floor((c.at - t0) / TICK_MS), [...(byTick.get(Math.floor((c.at - t0) / TICK_MS)) ?? []), c]);
    const devicesPerTick = [...byTick.values()].map((cs) => cs.reduce((n, c) => n + devicesOf(c), 0));
    expect(devicesPerTick.reduce((a, b) => a + b, 0)).toBe(N);
    // not N calls in one tick: no tick writes more than a tenth of the connections, in at most 4 calls
    expect(Math.max(...devicesPerTick)).toBeLessThanOrEqual(N / 10);
    expect(Math.max(...[...byTick.values()].map((cs) => cs.length))).toBeLessThanOrEqual(4);
    // and spread: writes in at least 15 of the 20 ticks of the second
    expect(byTick.size).toBeGreaterThanOrEqual(15);
    // bounded batches: one store call carries at most 256 devices
    expect(Math.max(...writes.map(devicesOf))).toBeLessThanOrEqual(256);
  });

  it('a store that does not confirm keeps the acks for the next flush; newer acks that arrived meanwhile win; cursors only move forward', async () => {
    const { gw, store, conns, hold, release } = setup(3);
    const [a, b] = [conns[0]!, conns[1]!];
    gw.start();

    // round 1: the store is away; nothing is lost from the connections
    store.available = false;
    for (let t = 0; t < 22; t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(a.acks?.pending()).toEqual(new Map([['g:c0', { epoch: 'E', seq: 10 }]]));
    expect(b.acks?.pending()).toEqual(new Map([['g:c1', { epoch: 'E', seq: 11 }]]));

    // round 2: the writes start (the acks are taken: no longer due), then newer acks arrive for a, then the store fails
    hold();
    for (let t = 0; t < 22 && a.acks?.due; t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(a.acks?.due).toBe(0);
    recordAck(a, 'g:c0', { epoch: 'E', seq: 25 });
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(a.acks?.pending()).toEqual(new Map([['g:c0', { epoch: 'E', seq: 25 }]]));
    // b's ack, whether its write had started and failed or not yet, is due as it was
    expect(b.acks?.pending()).toEqual(new Map([['g:c1', { epoch: 'E', seq: 11 }]]));
    store.available = true;
    expect(await store.cursorOf('u0', 'd', 'g:c0')).toBeNull();

    // round 3: the store is back; each cursor gets the newest ack
    for (let t = 0; t < 44 && (a.acks?.due || b.acks?.due); t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(await store.cursorOf('u0', 'd', 'g:c0')).toEqual({ epoch: 'E', seq: 25 });
    expect(await store.cursorOf('u1', 'd', 'g:c1')).toEqual({ epoch: 'E', seq: 11 });

    // an older ack than one written is not due: nothing is written for it
    recordAck(a, 'g:c0', { epoch: 'E', seq: 20 });
    expect(a.acks?.due).toBe(0);
    gw.stop();
  });
});

describe('send buckets', () => {
  it('the sweep forgets a full bucket once it was idle BUCKET_IDLE_MS, not before', async () => {
    const { gw, buckets } = setup(3);
    gw.start();
    // the sends' clock (messaging/send.ts: util/clock.ts)
    expect(buckets.take('u0', performance.now())).toBe(true);
    await vi.advanceTimersByTimeAsync(BUCKET_IDLE_MS - 2 * PRUNE_EVERY_MS);
    expect(buckets.size).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * PRUNE_EVERY_MS + TICK_MS);
    expect(buckets.size).toBe(0);
    gw.stop();
  });
});

describe('heartbeat pings', () => {
  it('2000 connections opened at once: no 50 ms tick pings more than a twentieth of them, not even the first round; after it no second pings more than a quarter; none waits longer than HEARTBEAT_MS and a round', async () => {
    const N = 2000;
    const HEARTBEAT_MS = 25_000; // the default: a round a second
    const ROUND_MS = 1000;
    const { gw, conns, sockets } = setup(N);
    const t0 = Date.now();
    gw.start();
    for (let t = 0; t < 80; t++) {
      await vi.advanceTimersByTimeAsync(ROUND_MS);
      for (const c of conns) c.lastSeen = monoNow(); // every pong comes back
    }
    gw.stop();
    const count = (width: number) => {
      const by = new Map<number, number>();
      for (const s of sockets) for (const at of s.pings) by.set(Math.floor((at - t0) / width), (by.get(Math.floor((at - t0) / width)) ?? 0) + 1);
      return by;
    };
    // before the walk was sliced, the first round pinged all 2000 in one sweep
    const byTick = count(TICK_MS);
    expect(Math.max(...byTick.values())).toBeLessThanOrEqual(N / 20);
    const bySecond = count(ROUND_MS);
    const firstRound = HEARTBEAT_MS / ROUND_MS;
    const later = [...bySecond].filter(([second]) => second > firstRound);
    expect(later.length).toBeGreaterThan(0);
    expect(Math.max(...later.map(([, n]) => n))).toBeLessThanOrEqual(N / 4);
    for (const s of sockets) {
      expect(s.pings.length).toBeGreaterThanOrEqual(3);
      const times = [t0, ...s.pings];
      // a round is 20 ticks, and the tick that finds its end
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(HEARTBEAT_MS + ROUND_MS + TICK_MS);
    }
  });
});

describe('outbound shedding', () => {
  it('over NODE_OUTBOUND_BYTES the biggest are closed 4413 until the rest is under it; a round whose sum is stale (a reader drained since it was counted) closes no one', async () => {
    const LIMIT = 262_144;
    const { gw, sockets } = setup(40, { NODE_OUTBOUND_BYTES: String(LIMIT) });
    const [big, draining, small] = sockets;
    gw.start();
    // 200 KB + 100 KB unsent: the biggest goes, then the total is under the limit
    big!.bufferedAmount = 200_000;
    small!.bufferedAmount = 100_000;
    for (let t = 0; t < 22; t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(big!.closes).toEqual([4413]);
    expect(small!.closes).toEqual([]);

    // 300 KB unsent when the round reads it, drained by any later read: the round's sum (400
    // KB) is over the limit, what is unsent at its end (100 KB) is not. Shedding on the sum
    // closed both readers.
    let reads = 0;
    Object.defineProperty(draining!, 'bufferedAmount', { get: () => (reads++ === 0 ? 300_000 : 0), configurable: true });
    for (let t = 0; t < 44; t++) await vi.advanceTimersByTimeAsync(TICK_MS);
    gw.stop();
    expect(reads).toBeGreaterThanOrEqual(2); // the round read it, and the count at the round's end
    expect(draining!.closes).toEqual([]);
    expect(small!.closes).toEqual([]);
  });
});

describe('liveness when the wall clock is set', () => {
  // vi.setSystemTime moves Date alone, as NTP, a resumed VM or an operator's `date -s` moves
  // the wall clock; the gateway's windows count on the monotonic clock (util/clock.ts), which
  // the fake timers' ticks move
  it('an hour back: a silent connection is still closed 4408 after two heartbeat windows, one that answers is not', async () => {
    const HEARTBEAT_MS = 25_000;
    const { gw, conns, sockets } = setup(4);
    gw.start();
    await vi.advanceTimersByTimeAsync(1000);
    vi.setSystemTime(Date.now() - 3_600_000);
    for (let s = 0; s < (2 * HEARTBEAT_MS) / 1000 + 3; s++) {
      await vi.advanceTimersByTimeAsync(1000);
      conns[0]!.lastSeen = monoNow(); // its pongs come back
    }
    gw.stop();
    expect(sockets[1]!.closes, 'a silent connection outlived its heartbeat window by the step').toEqual([CloseCode.heartbeatTimeout]);
    expect(sockets[0]!.closes).toEqual([]);
  });

  it('an hour forward: not taken for a freeze of the node, no connection judged on it, but a token is (its `exp` is on the wall clock)', async () => {
    const { gw, conns, sockets } = setup(4);
    const warnings = vi.spyOn((gw as unknown as { d: GatewayDeps }).d.log, 'warn');
    for (const c of conns) c.identity = { ...c.identity!, expMs: Date.now() + 2 * 3_600_000 };
    conns[3]!.identity = { ...conns[3]!.identity!, expMs: Date.now() + 1_800_000 };
    gw.start();
    await vi.advanceTimersByTimeAsync(1000);
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(5000);
    gw.stop();
    // on the wall clock the sweep read the step as the node frozen an hour, and said so
    expect(warnings.mock.calls.map((c) => c.at(-1))).toEqual([]);
    expect(sockets.map((s) => s.closes)).toEqual([[], [], [], [CloseCode.unauthorized]]);
  });
});
