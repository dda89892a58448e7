import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../server/protocol/json-depth.ts';

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v !== null && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe('nestsDeeperThan', () => {
  it('agrees with the parsed depth for any JSON value (brackets inside strings do not count)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12, stringUnit: 'binary' }), fc.integer({ min: 0, max: 14 }), (v, max) => {
        expect(nestsDeeperThan(JSON.stringify(v), max)).toBe(depthOf(v) > max);
      }),
    );
  });

  it('a 64 KiB frame nested 32k deep is caught at once; escaped quotes keep strings closed', () => {
    const deep = '['.repeat(32_768) + ']'.repeat(32_768);
    expect(nestsDeeperThan(deep, 8)).toBe(true);
    expect(nestsDeeperThan('{"t":"send","body":"[[[[[[[[[[[\\"[[[[[["}', 1)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":{"c":1}}}', 2)).toBe(true);
    expect(nestsDeeperThan(JSON.stringify({ body: '\\"[[[[\\\\"{{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan('["\\\\",[[1]]]', 2)).toBe(true);
  });
});
