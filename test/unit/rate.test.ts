import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUCKET_IDLE_MS, PRUNE_EVERY_MS, RateBuckets } from '../../server/gateway/rate.ts';
import { MessageSender } from '../../server/messaging/send.ts';
import { createMetrics } from '../../server/observability/metrics.ts';
import { MemoryBroker } from '../../server/store/memory/memory-bus.ts';
import { MemoryStore } from '../../server/store/memory/memory-store.ts';

const metrics = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 });

describe('RateBuckets', () => {
  it('allows a burst, then the rate', () => {
    const b = new RateBuckets(10, 5);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take('u', 1000)) ok++;
    expect(ok).toBe(5);
    expect(b.take('u', 1000 + 99)).toBe(false); // 0.99 tokens refilled
    expect(b.take('u', 1000 + 100)).toBe(true);
  });

  it('never grants more than burst + rate·t over any run of takes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 300 }), (rate, burst, gaps) => {
        const b = new RateBuckets(rate, burst);
        let t = 0;
        let granted = 0;
        for (const g of gaps) {
          t += g;
          if (b.take('u', t)) granted++;
        }
        expect(granted).toBeLessThanOrEqual(burst + Math.floor((rate * t) / 1000) + 1e-9);
      }),
    );
  });

  it('giveBack returns one token taken, never above the burst, and only to that user', () => {
    const b = new RateBuckets(0.001, 2);
    expect(b.take('a', 0) && b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    b.giveBack('a', 10);
    expect(b.take('b', 10)).toBe(true);
    expect(b.take('a', 10)).toBe(true);
    expect(b.take('a', 10)).toBe(false);
    // a full bucket stays at the burst
    const full = new RateBuckets(0.001, 2);
    full.take('c', 0);
    full.giveBack('c', 0);
    full.giveBack('c', 0);
    let granted = 0;
    for (let i = 0; i < 5; i++) if (full.take('c', 0)) granted++;
    expect(granted).toBe(2);
    // a user with no bucket gets none made (it would start full anyway)
    full.giveBack('nobody', 0);
    expect(full.size).toBe(1);
  });

  it('keeps users apart and forgets full buckets idle for BUCKET_IDLE_MS', () => {
    const b = new RateBuckets(1, 1);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('b', 0)).toBe(true);
    b.prune(BUCKET_IDLE_MS);
    expect(b.size).toBe(0);
  });

  // issue 10: a sender every 2 s at the defaults (50/s, burst 100) refilled in between, and a
  // prune that dropped every full bucket made each send allocate a new one (promoted garbage)
  it('keeps a full bucket that was used within BUCKET_IDLE_MS: a steady sender keeps one bucket', () => {
    const b = new RateBuckets(50, 100);
    for (let t = 0; t < 30_000; t += 2000) {
      expect(b.take('a', t)).toBe(true);
      b.prune(t + 1000);
      expect(b.size).toBe(1);
    }
    b.prune(28_000 + BUCKET_IDLE_MS - PRUNE_EVERY_MS);
    expect(b.size).toBe(1);
    b.prune(28_000 + BUCKET_IDLE_MS);
    expect(b.size).toBe(0);
  });

  it('prune walks the buckets at most once a PRUNE_EVERY_MS, however often it is called', () => {
    const b = new RateBuckets(50, 100);
    b.take('a', 0);
    b.prune(BUCKET_IDLE_MS);
    expect(b.size).toBe(0);
    b.take('b', 0);
    b.prune(BUCKET_IDLE_MS + PRUNE_EVERY_MS - 1);
    expect(b.size).toBe(1);
    b.prune(BUCKET_IDLE_MS + PRUNE_EVERY_MS);
    expect(b.size).toBe(0);
  });

  it('a bucket not yet full is kept however long it was idle', () => {
    const b = new RateBuckets(0.001, 5);
    for (let i = 0; i < 5; i++) b.take('a', 0);
    b.prune(2 * BUCKET_IDLE_MS);
    expect(b.size).toBe(1);
    expect(b.take('a', 2 * BUCKET_IDLE_MS)).toBe(false);
  });
});

describe('a sender\'s bucket when the wall clock is set', () => {
  afterEach(() => vi.useRealTimers());

  // Date stepped by hand (vi.setSystemTime moves Date, not performance.now: a step of the wall
  // clock, which NTP, a resumed VM or an operator makes), the monotonic clock by the test's ticks
  it('an hour back: the user sends on at their rate (the bucket counted on Date.now() was an hour of tokens short, rate_limited until the clock caught up)', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    vi.setSystemTime(1_800_000_000_000);
    const store = new MemoryStore(new MemoryBroker());
    const sender = new MessageSender(store, new RateBuckets(10, 5), metrics, { MAX_BODY_BYTES: 1024, SEND_RATE: 10, SEND_BURST: 5 });
    const send = (i: number) => sender.send('u1', 'dm:u1:u2', `m${i}`, 'hi');
    for (let i = 0; i < 3; i++) await send(i);
    vi.setSystemTime(Date.now() - 3_600_000);
    await send(3);
    await send(4);
    await expect(send(5)).rejects.toThrow(/over 10 sends\/s/);
    // the rate, on the clock that was never set
    vi.advanceTimersByTime(100);
    await send(6);
    // an hour forward: a refill to the burst at most, never more
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    vi.advanceTimersByTime(1000);
    for (let i = 7; i < 12; i++) await send(i);
    await expect(send(12)).rejects.toThrow(/over 10 sends\/s/);
  });
});
