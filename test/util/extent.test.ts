import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../../harness/util/extent.ts';

describe('minOf / maxOf', () => {
  it('agree with Math.min / Math.max, empty lists included', () => {
    for (const xs of [[3, -1, 7], [5], [-0.5, -2.25], []]) {
      expect(minOf(xs)).toBe(Math.min(...xs));
      expect(maxOf(xs)).toBe(Math.max(...xs));
    }
    expect(maxOf(new Set([1, 9, 4]).values())).toBe(9);
  });

  it('take lists past the ~125,000 arguments a spread can pass', () => {
    const xs = Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 300_000);
    expect(() => Math.max(...xs)).toThrow(RangeError);
    expect(minOf(xs)).toBe(0);
    expect(maxOf(xs)).toBe(299_999);
  });
});
