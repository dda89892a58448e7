import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientFrame, fastClientFrame } from '../../server/protocol/frames.ts';

/** zod's verdict on a frame, as the gateway used it before the fast path: the parsed frame or null. */
function zodFrame(raw: Record<string, unknown>): unknown {
  const p = clientFrame.safeParse(raw);
  return p.success ? p.data : null;
}

/** Same keys in the same order (what a capture writes out), same values. */
const same = (a: unknown, b: unknown) => a !== null && b !== null && JSON.stringify(Object.keys(a as object)) === JSON.stringify(Object.keys(b as object)) && JSON.stringify(a) === JSON.stringify(b);

describe('fastClientFrame', () => {
  const cases: Record<string, unknown>[] = [
    { t: 'ack', conv: 'dm:a:b', seq: 7 },
    { t: 'ack', id: 'x', conv: 'dm:a:b', seq: 0 },
    { seq: 3, conv: 'g:team', t: 'ack', extra: { deep: [1] } },
    { t: 'ack', conv: 'dm:b:a', seq: 1 }, // a > b
    { t: 'ack', conv: 'dm:a:a', seq: 1 },
    { t: 'ack', conv: 'g:', seq: 1 },
    { t: 'ack', conv: 'dm:a:b', seq: -1 },
    { t: 'ack', conv: 'dm:a:b', seq: 1.5 },
    { t: 'ack', conv: 'dm:a:b', seq: Number.MAX_SAFE_INTEGER },
    { t: 'ack', conv: 'dm:a:b', seq: Number.MAX_SAFE_INTEGER + 1 },
    { t: 'ack', conv: 'dm:a:b', seq: '1' },
    { t: 'ack', conv: 'dm:a:b' },
    { t: 'ack', id: 'i'.repeat(64), conv: 'dm:a:b', seq: 1 },
    { t: 'ack', id: 'i'.repeat(65), conv: 'dm:a:b', seq: 1 },
    { t: 'ack', id: 5, conv: 'dm:a:b', seq: 1 },
    { t: 'ack', id: null, conv: 'dm:a:b', seq: 1 },
    { t: 'send', conv: 'dm:a:b', cmid: 'c-1', body: 'hi' },
    { t: 'send', id: 's1.2', conv: 'g:x', cmid: 'a.b:c_d-e', body: '', z: 1 },
    { body: 'x', cmid: 'c', conv: 'dm:a:b', id: '', t: 'send' },
    { t: 'send', conv: 'dm:a:b', cmid: 'c 1', body: 'hi' },
    { t: 'send', conv: 'dm:a:b', cmid: '', body: 'hi' },
    { t: 'send', conv: 'dm:a:b', cmid: 'c'.repeat(65), body: 'hi' },
    { t: 'send', conv: 'dm:a:b', cmid: 'c', body: 5 },
    { t: 'send', conv: 'dm:a:b', cmid: 'c' },
    { t: 'send', conv: 5, cmid: 'c', body: 'x' },
    { t: 'read', conv: 'dm:a:b', seq: 1 },
    { t: 'ping' },
    { t: 'hello', v: 1, token: 'x' },
  ];

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s: what zod accepts, as zod returns it; nothing else', (_s, raw) => {
    const fast = fastClientFrame(raw);
    const want = zodFrame(raw);
    if (fast !== null) expect(same(fast, want)).toBe(true);
    // the fast path refuses nothing zod accepts among send and ack
    if (want !== null && (raw.t === 'send' || raw.t === 'ack')) expect(fast).not.toBeNull();
  });

  it('agrees with zod on generated send and ack frames', () => {
    const conv = fc.oneof(fc.constantFrom('dm:a:b', 'dm:u1:u2', 'g:grp', 'dm:b:a', 'g:', 'x', 'dm:a:b:c'), fc.string({ maxLength: 12 }));
    const str = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/));
    const num = fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double(), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2));
    const val = fc.oneof(str, num, fc.constant(null), fc.boolean());
    const frame = fc.record(
      { t: fc.constantFrom('send', 'ack', 'read'), id: fc.oneof(str, val), conv: fc.oneof(conv, val), seq: fc.oneof(num, val), cmid: fc.oneof(str, val), body: fc.oneof(str, val), other: val },
      { requiredKeys: ['t'] },
    );
    fc.assert(
      fc.property(frame, (raw) => {
        // through JSON, as the gateway gets it (no undefined values, no -0)
        const r = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const fast = fastClientFrame(r);
        const want = zodFrame(r);
        if (r.t === 'read') return fast === null;
        return fast === null ? want === null : same(fast, want);
      }),
      { numRuns: 3000 },
    );
  });
});
