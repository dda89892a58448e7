import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, checkLeaks, heapTolerance, MiB } from '../../harness/checks/leaks.ts';
import type { ServerSample } from '../../harness/checks/samples.ts';
import { fault, input, t } from './build.ts';

const sample = (at: number, more: Partial<ServerSample> = {}): ServerSample => ({
  at: t(at),
  node: 'node-1',
  connections: 0,
  openFds: 100,
  heapUsedAfterGc: 50 * MiB,
  activeHandles: { TCPServerWrap: 1, Timeout: 3 },
  ...more,
});

describe('leaks (hand-made)', () => {
  it('passes gauges at 0, fds at baseline, heap within max(5%, 4 MiB), handles back, no gone keys, no steady rise', () => {
    const v = checkLeaks({
      baseline: [sample(0)],
      after: [sample(1000, { heapUsedAfterGc: 53.9 * MiB, activeHandles: { TCPServerWrap: 1, Timeout: 2 } })],
      goneConnectionKeys: { at: t(1100), count: 0 },
      runs: [[sample(2000, { heapUsedAfterGc: 52 * MiB })], [sample(3000, { heapUsedAfterGc: 58 * MiB })], [sample(4000, { heapUsedAfterGc: 57 * MiB })]],
    });
    expect(v).toMatchObject({ guarantee: 'leaks', ok: true, violationCount: 0 });
    // gauge, fds, heap, 2 handle types, keys, 1 series
    expect(v.checked).toBe(7);
    expect(v.summary).toBe('ok: 7 comparisons over 1 node; heap series over 3 runs');
  });

  it('names each leak with its numbers, earliest first', () => {
    const after = sample(1000, { connections: 2, openFds: 103, heapUsedAfterGc: 60 * MiB, activeHandles: { TCPServerWrap: 1, Timeout: 5, Socket: 1 } });
    const restart = fault('f1', 'node:restart', 'node-1', 900);
    const v = checkLeaks(
      {
        baseline: [sample(0)],
        after: [after],
        goneConnectionKeys: { at: t(1100), count: 3, examples: ['conn:{u1}:c4', 'conn:{u2}:c9', 'pres:c4', 'pres:c9'] },
        runs: [[sample(20_000, { heapUsedAfterGc: 52 * MiB })], [sample(30_000, { heapUsedAfterGc: 55 * MiB })], [sample(40_000, { heapUsedAfterGc: 58 * MiB })]],
      },
      {},
      [restart],
    );
    expect(v.violations.map((w) => w.message)).toEqual([
      'node-1: open-connection gauge is 2 after every client left (must be 0)',
      'node-1: 103 open fds after every client left, baseline 100 (+3)',
      'node-1: heap after GC 60.0 MiB after every client left, baseline 50.0 MiB (+10.0 MiB, tolerance 4.0 MiB)',
      'node-1: 1 active Socket handles after every client left, baseline 0 (+1)',
      'node-1: 5 active Timeout handles after every client left, baseline 3 (+2)',
      'redis: 3 keys of gone connections remain after every client left (e.g. conn:{u1}:c4, conn:{u2}:c9, pres:c4)',
      'node-1: heap after GC rose after every one of 3 identical runs: 52.0 → 55.0 → 58.0 MiB (+6.0 MiB, tolerance 4.0 MiB)',
    ]);
    expect(v.violations[1]!.first).toBe(after);
    expect(v.violations[1]!.trail).toEqual([sample(0), after]);
    expect(v.violations[1]!.faultWindow).toEqual([restart]);
    expect(v.violations[6]!.first).toEqual(sample(40_000, { heapUsedAfterGc: 58 * MiB }));
    expect(v.violations[6]!.faultWindow).toEqual([]);
  });

  it('uses 5% above 80 MiB, flags fewer fds too, and checks only the gauge of a node without baseline', () => {
    const big = sample(0, { heapUsedAfterGc: 200 * MiB });
    expect(heapTolerance(200 * MiB)).toBe(10 * MiB);
    expect(checkLeaks({ baseline: [big], after: [sample(1000, { heapUsedAfterGc: 209 * MiB })] }).ok).toBe(true);
    expect(checkLeaks({ baseline: [big], after: [sample(1000, { heapUsedAfterGc: 211 * MiB })] }).ok).toBe(false);
    expect(checkLeaks({ baseline: [sample(0)], after: [sample(1000, { openFds: 99 })] }).violations[0]!.message).toBe('node-1: 99 open fds after every client left, baseline 100 (-1)');
    const v = checkLeaks({ baseline: [sample(0)], after: [sample(1000), sample(1000, { node: 'node-2', openFds: 1 })] });
    expect(v).toMatchObject({ ok: true, checked: 3 + 2 + 1 });
    expect(v.summary).toContain('no baseline for node-2 (only its gauge checked)');
  });

  it('divides heap growth by the connections opened: 1 KiB × 3,000 fails though +3 MiB is within the fixed 4 MiB; few connections are reported, not judged', () => {
    const b = sample(0, { connectionsOpened: 0 });
    // 3,000 connections each leaving 1 KiB: under max(5%, 4 MiB), over 512 B a connection
    const leaky = checkLeaks({ baseline: [b], after: [sample(1000, { heapUsedAfterGc: 50 * MiB + 3000 * 1024, connectionsOpened: 3000 })] });
    expect(leaky.ok).toBe(false);
    expect(leaky.violations.map((w) => w.message)).toEqual([
      'node-1: heap after GC grew 1,024 B per connection opened: +2.9 MiB over 3,000 connections (baseline 50.0 MiB, after every client left 52.9 MiB), bound 512 B a connection from 2,000 connections',
    ]);
    expect(leaky.summary).toContain('heap per connection: node-1 +1,024 B a connection (heap +2.9 MiB over 3,000 connections opened), bound 512 B');
    // the same growth over 1,500 connections: reported, not judged
    const few = checkLeaks({ baseline: [b], after: [sample(1000, { heapUsedAfterGc: 50 * MiB + 1500 * 2048, connectionsOpened: 1500 })] });
    expect(few.ok).toBe(true);
    expect(few.summary).toContain('node-1 +2,048 B a connection (heap +2.9 MiB over 1,500 connections opened), not judged: fewer than 2,000 connections');
    // the bound and the threshold come from the scenario
    expect(checkLeaks({ baseline: [b], after: [sample(1000, { heapUsedAfterGc: 50 * MiB + 1500 * 2048, connectionsOpened: 1500 })] }, { leakPerConnection: { maxBytes: 4096, minConnections: 1000 } }).ok).toBe(true);
    expect(checkLeaks({ baseline: [b], after: [sample(1000, { heapUsedAfterGc: 50 * MiB + 1500 * 2048, connectionsOpened: 1500 })] }, { leakPerConnection: { maxBytes: 1024, minConnections: 1000 } }).ok).toBe(false);
    // a heap that shrank, and a server that does not count connections: no figure to fail
    expect(checkLeaks({ baseline: [b], after: [sample(1000, { heapUsedAfterGc: 48 * MiB, connectionsOpened: 5000 })] }).ok).toBe(true);
    const old = checkLeaks({ baseline: [sample(0)], after: [sample(1000, { heapUsedAfterGc: 53 * MiB })] });
    expect(old.ok).toBe(true);
    expect(old.summary).not.toContain('per connection');
  });

  it('with several storms counts from the sample after the first: its warm-up is not a leak, growth in every later storm is', () => {
    const b = sample(0, { connectionsOpened: 0 });
    // storm 1 warms up 3 MiB over 600 connections; then 2,400 more connections
    const s1 = sample(1000, { heapUsedAfterGc: 53 * MiB, connectionsOpened: 600 });
    const flat = checkLeaks({ baseline: [b], runs: [[s1], [sample(2000, { heapUsedAfterGc: 53.2 * MiB, connectionsOpened: 1800 })]], after: [sample(3000, { heapUsedAfterGc: 53.1 * MiB, connectionsOpened: 3000 })] });
    expect(flat.ok).toBe(true);
    expect(flat.summary).toContain('node-1 +44 B a connection (heap +0.1 MiB over 2,400 connections opened) after storm 1, bound 512 B');
    const after = sample(3000, { heapUsedAfterGc: 53 * MiB + 2400 * 2048, connectionsOpened: 3000 });
    const leaky = checkLeaks({ baseline: [b], runs: [[s1], [sample(2000, { heapUsedAfterGc: 53 * MiB + 1200 * 2048, connectionsOpened: 1800 })]], after: [after] });
    expect(leaky.violations[0]!.message).toBe('node-1: heap after GC grew 2,048 B per connection opened: +4.7 MiB over 2,400 connections (after storm 1 53.0 MiB, after every client left 57.7 MiB), bound 512 B a connection from 2,000 connections');
    expect(leaky.violations[0]!.trail).toEqual([b, s1, after]);
  });

  it('is not checked without samples', () => {
    expect(check(input([]))).toMatchObject({ ok: true, checked: 0, summary: 'not checked: no server samples given' });
  });
});

interface B {
  fds: number;
  heap: number;
  timeouts: number;
  sockets: number;
  heapAt: number;
  handlesBack: number;
  series: number[];
}

describe('leaks (generated samples)', () => {
  const base: fc.Arbitrary<B> = fc.record({
    fds: fc.integer({ min: 20, max: 5000 }),
    heap: fc.integer({ min: 10 * MiB, max: 2000 * MiB }),
    timeouts: fc.integer({ min: 0, max: 50 }),
    sockets: fc.integer({ min: 0, max: 50 }),
    /** where the post-run heap sits within [-tolerance, +tolerance] */
    heapAt: fc.double({ min: -1, max: 1, noNaN: true }),
    handlesBack: fc.nat(3),
    series: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { maxLength: 5 }),
  });
  const samples = (b: B) => {
    const tol = heapTolerance(b.heap);
    const baseline = sample(0, { openFds: b.fds, heapUsedAfterGc: b.heap, activeHandles: { Timeout: b.timeouts, Socket: b.sockets } });
    const after = sample(1000, {
      openFds: b.fds,
      heapUsedAfterGc: b.heap + Math.floor(b.heapAt * tol),
      activeHandles: { Timeout: Math.max(0, b.timeouts - b.handlesBack), Socket: b.sockets },
    });
    // a series whose total rise stays within the tolerance
    const runs = b.series.map((x, i) => [sample(2000 + i, { heapUsedAfterGc: b.heap + Math.floor(x * tol * 0.45) })]);
    return { baseline, after, runs, tol };
  };

  it('samples within the bounds pass', () => {
    fc.assert(
      fc.property(base, (b) => {
        const { baseline, after, runs } = samples(b);
        const v = checkLeaks({ baseline: [baseline], after: [after], runs });
        expect(v.violations.map((w) => w.message)).toEqual([]);
      }),
    );
  });

  it('one leak is flagged exactly', () => {
    fc.assert(
      fc.property(base, fc.constantFrom('gauge', 'fd', 'heap', 'handle', 'keys', 'growth'), fc.integer({ min: 1, max: 100 }), (b, kind, n) => {
        const { baseline, after, runs, tol } = samples(b);
        let leaks = { baseline: [baseline], after: [after], runs } as Parameters<typeof checkLeaks>[0];
        const bump = (more: Partial<ServerSample>) => (leaks = { ...leaks, after: [{ ...after, ...more }] });
        if (kind === 'gauge') bump({ connections: n });
        if (kind === 'fd') bump({ openFds: after.openFds + n });
        if (kind === 'heap') bump({ heapUsedAfterGc: b.heap + tol + n });
        if (kind === 'handle') bump({ activeHandles: { ...after.activeHandles, Socket: b.sockets + n } });
        if (kind === 'keys') leaks = { ...leaks, goneConnectionKeys: { at: t(1100), count: n } };
        if (kind === 'growth') leaks = { ...leaks, runs: [0, 1, 2].map((i) => [sample(2000 + i, { heapUsedAfterGc: b.heap + Math.ceil(((tol + n) * i) / 2) })]) };
        const v = checkLeaks(leaks);
        expect(v.violationCount).toBe(1);
        const expected = {
          gauge: `open-connection gauge is ${n}`,
          fd: `${after.openFds + n} open fds`,
          heap: 'heap after GC',
          handle: `active Socket handles`,
          keys: `${n} key`,
          growth: 'rose after every one of 3 identical runs',
        }[kind];
        expect(v.violations[0]!.message).toContain(expected);
      }),
    );
  });
});
