import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateBuckets } from '../../server/gateway/rate.ts';

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

  it('keeps users apart and forgets idle full buckets', () => {
    const b = new RateBuckets(1, 1);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('b', 0)).toBe(true);
    b.prune(10_000);
    expect(b.size).toBe(0);
  });
});
