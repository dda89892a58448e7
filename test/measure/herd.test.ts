import { describe, expect, it } from 'vitest';
import { herdReport } from '../../harness/measure/herd.ts';
import type { Fact, FaultEvent } from '../../harness/model/facts.ts';
import { metricPathProblem, resolveMetric, type MetricSource } from '../../harness/report/thresholds.ts';

const T = 1_000_000;
/** A device's connection: connect, welcome, synced at `at`, closed at `close` (if given). */
function life(client: string, conn: string, at: number, close?: number): Fact[] {
  const out: Fact[] = [
    { k: 'conn', client, conn: `pending:${conn}`, event: 'connect', at: at - 20 },
    { k: 'conn', client, conn, event: 'welcome', at: at - 10 },
    { k: 'conn', client, conn, event: 'synced', at },
  ];
  if (close !== undefined) out.push({ k: 'conn', client, conn, event: 'close', at: close, code: 1006 });
  return out;
}

describe('herdReport', () => {
  const faults: FaultEvent[] = [
    // two links reset together, recorded 700 ms apart (a busy machine): one cut
    { id: 'f1', kind: 'toxic:reset_peer', target: 'client-link:node-1', start: T + 1000, end: T + 2000 },
    { id: 'f2', kind: 'toxic:reset_peer', target: 'client-link:node-2', start: T + 1700, end: T + 2200 },
    // a Redis link cut closes no client connection: not a cut
    { id: 'f3', kind: 'link:disable', target: 'redis-link:node-1', start: T + 3000, end: T + 3500 },
    { id: 'f4', kind: 'node:restart', target: 'node-1', start: T + 10_000, end: T + 11_000 },
  ];
  // five devices: a and b dropped by cut 1 and back 3 s and 5 s after it; c back only after cut 2 (9.5 s after cut 1);
  // e never back; d untouched; cut 2 drops a only
  const facts: Fact[] = [
    ...life('a/d0', 'a1', T, T + 1100), ...life('a/d0', 'a2', T + 4000, T + 10_100), ...life('a/d0', 'a3', T + 12_000),
    ...life('b/d0', 'b1', T, T + 1900), ...life('b/d0', 'b2', T + 6000),
    ...life('c/d0', 'c1', T, T + 2500), ...life('c/d0', 'c2', T + 10_500),
    ...life('d/d0', 'd1', T),
    ...life('e/d0', 'e1', T, T + 1500),
  ];
  const h = herdReport({ facts, faults, syncStarts: [T + 20_000], bucketMs: 250 })!;

  it('groups overlapping faults into cuts and finds who was dropped and when each came back', () => {
    expect(h.cuts).toHaveLength(2);
    const [c1, c2] = h.cuts;
    expect(c1).toMatchObject({ at: T + 1000, faults: ['toxic:reset_peer on client-link:node-1', 'toxic:reset_peer on client-link:node-2'], connected: 5, dropped: 4, notBack: 1 });
    expect(c1!.droppedRatio).toBe(0.8);
    // synced again 3000, 5000 and 9500 ms after the cut (c while cut 2 was on); e never: no 99% and no "all"
    expect(c1!.syncedMs).toEqual({ p50: 5000, p99: null, max: null });
    // c was still down when cut 2 came: not connected for it
    expect(c2).toMatchObject({ connected: 3, dropped: 1, notBack: 0, syncedMs: { p50: 2000, p99: 2000, max: 2000 } });
  });

  it('answers herd.* threshold paths, and fails one whose share was not reached, naming the cut', () => {
    const src = { herd: h } as unknown as MetricSource;
    expect(resolveMetric(src, 'herd.cuts')).toEqual({ value: 2, unit: 'count' });
    expect(resolveMetric(src, 'herd.droppedRatio.min')).toMatchObject({ value: 0.333 });
    expect(resolveMetric(src, 'herd.syncedP50Ms.max')).toMatchObject({ value: 5000, unit: 'ms' });
    expect(resolveMetric(src, 'herd.notBack.total')).toMatchObject({ value: 1 });
    expect(resolveMetric(src, 'herd.syncedP99Ms.max')).toMatchObject({ value: null, reason: expect.stringMatching(/^cut 1 \(toxic:reset_peer on client-link:node-1…\) has no syncedP99Ms: .* \(1 not back\)/) });
    expect(metricPathProblem('herd.syncedP99Ms.max')).toBeNull();
    expect(metricPathProblem('herd.syncedP99.max')).toMatch(/herd cut statistic "syncedP99"/);
  });
});
