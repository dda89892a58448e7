import { describe, expect, it } from 'vitest';
import { evaluateThreshold, evaluateThresholds, parseThreshold, resolveMetric } from '../../harness/report/thresholds.ts';
import { syntheticReport } from './synthetic.ts';

const report = syntheticReport();

describe('parseThreshold', () => {
  it('reads the text form, with k6 percentile syntax', () => {
    expect(parseThreshold('latency.sendToDelivered.p99 < 500')).toEqual({ metric: 'latency.sendToDelivered.p99', op: '<', limit: 500 });
    expect(parseThreshold('latency.sendToSent.p(99.9)<=1e3')).toEqual({ metric: 'latency.sendToSent.p99.9', op: '<=', limit: 1000 });
    expect(parseThreshold('throughput.errors.total == 0')).toMatchObject({ op: '==', limit: 0 });
    expect(parseThreshold({ metric: 'http.healthz.p(50)', op: '>', limit: -1 })).toMatchObject({ metric: 'http.healthz.p50' });
  });

  it('rejects what it cannot read, saying what it expects', () => {
    expect(() => parseThreshold('p99 under 500')).toThrow(/expected "<metric path> <op> <number>"/);
    expect(() => parseThreshold('x < abc')).toThrow();
    expect(() => parseThreshold({ metric: 'x', op: '=~' as never, limit: 1 })).toThrow(/op must be/);
    expect(() => parseThreshold({ metric: 'x', op: '<', limit: Number.NaN })).toThrow(/finite/);
  });
});

describe('resolveMetric', () => {
  const value = (path: string) => resolveMetric(report, path).value;
  const sendToDelivered = report.latency.metrics.find((m) => m.name === 'sendToDelivered')!;

  it('reads latency stats', () => {
    expect(value('latency.sendToDelivered.p99')).toBe(sendToDelivered.percentiles.p99);
    expect(value('latency.sendToDelivered.p99.9')).toBe(sendToDelivered.percentiles['p99.9']);
    expect(value('latency.sendToDelivered.count')).toBe(sendToDelivered.count);
    expect(value('latency.sendToDelivered.max')).toBe(sendToDelivered.max);
    expect(resolveMetric(report, 'latency.sendToDelivered.p50').unit).toBe('ms');
  });

  it('reads error answers by code: a code nobody got is 0; a malformed path says what it expects', () => {
    const withErrors = { ...report, errorsByCode: { unavailable: 12, rate_limited: 3 } };
    expect(resolveMetric(withErrors, 'errors.unavailable')).toEqual({ value: 12, unit: 'count' });
    expect(resolveMetric(withErrors, 'errors.internal').value).toBe(0);
    expect(resolveMetric(report, 'errors.unavailable').value).toBe(0);
    expect(resolveMetric(withErrors, 'errors.Unavail.able')).toMatchObject({ value: null, reason: expect.stringMatching(/expected errors\.<code>/) });
    expect(evaluateThreshold('errors.internal == 0', withErrors).pass).toBe(true);
    expect(evaluateThreshold('errors.unavailable < 10', withErrors).pass).toBe(false);
  });

  it('reads throughput totals and rates', () => {
    const sends = report.series.counters['sends']!;
    const total = sends.reduce((a, b) => a + b, 0);
    expect(value('throughput.sends.total')).toBe(total);
    expect(value('throughput.sends.mean')).toBeCloseTo(total / sends.length, 6);
    expect(value('throughput.sends.max')).toBe(Math.max(...sends));
    expect(value('throughput.connections.max')).toBe(300);
    expect(resolveMetric(report, 'throughput.connections.total').value).toBeNull();
  });

  it('reads server series per node, over all nodes, and Redis', () => {
    const lag = (id: string) => Math.max(...(report.server!.targets.find((t) => t.target === id)!.values['eventLoopLagMs']!.filter((v) => v !== null) as number[]));
    expect(value('server.node-1.eventLoopLagMs.max')).toBe(lag('node-1'));
    expect(value('server.*.eventLoopLagMs.max')).toBe(Math.max(lag('node-1'), lag('node-2'), lag('node-3')));
    expect(value('server.node-2.rssBytes.gaps')).toBe(3);
    expect(value('server.*.rssBytes.gaps')).toBe(3);
    expect(value('server.*.sendsPerSec.total')).toBeGreaterThan(0);
    expect(value('server.redis.usedMemoryBytes.max')).toBeGreaterThan(0);
    expect(resolveMetric(report, 'server.node-1.rssBytes.max').unit).toBe('bytes');
  });

  it('reads HTTP runs, checks, faults and the run', () => {
    expect(value('http.postMessage.p99')).toBe(14);
    expect(value('http.postMessage.rps')).toBe(1800);
    expect(value('http.postMessage.non2xxRatio')).toBeCloseTo(10 / 9000, 9);
    expect(value('checks.lost.violations')).toBe(0);
    expect(value('checks.lost.ok')).toBe(1);
    expect(value('checks.violations')).toBe(0);
    expect(value('faults.count')).toBe(3);
    expect(value('run.durationSec')).toBe(60);
  });

  it('says why a path has no value', () => {
    expect(resolveMetric(report, 'latency.nope.p99')).toMatchObject({ value: null, reason: expect.stringMatching(/no nope latencies/) });
    expect(resolveMetric(report, 'latency.nope.count').value).toBe(0);
    expect(resolveMetric(report, 'latency.sendToSent.p42')).toMatchObject({ value: null, reason: expect.stringMatching(/unknown latency stat/) });
    expect(resolveMetric(report, 'server.node-9.rssBytes.max')).toMatchObject({ value: null, reason: expect.stringMatching(/no sampled target/) });
    expect(resolveMetric(report, 'http.nope.p99')).toMatchObject({ value: null });
    expect(resolveMetric(report, 'checks.nope.ok')).toMatchObject({ value: null });
    expect(resolveMetric(report, 'bogus.thing')).toMatchObject({ value: null, reason: expect.stringMatching(/unknown metric path/) });
  });
});

describe('evaluateThresholds', () => {
  it('answers each threshold with the observed value and pass/fail', () => {
    const [a, b, c, d] = evaluateThresholds(
      ['latency.sendToDelivered.p99 < 100000', 'latency.sendToDelivered.p99 < 1', { name: 'no errors', metric: 'throughput.errors.total', op: '==', limit: 0 }, 'latency.nope.p99 < 5'],
      report,
    );
    expect(a).toMatchObject({ pass: true, unit: 'ms', name: 'latency.sendToDelivered.p99 < 100000 ms' });
    expect(a!.observed).toBeGreaterThan(1);
    expect(b).toMatchObject({ pass: false });
    expect(c).toMatchObject({ name: 'no errors', pass: false, op: '==', limit: 0 });
    expect(d).toMatchObject({ pass: false, observed: null, note: expect.stringMatching(/no nope latencies/) });
  });

  it('compares with every operator', () => {
    const at = (op: string, limit: number) => evaluateThreshold(`faults.count ${op} ${limit}`, report).pass;
    expect([at('<', 4), at('<', 3), at('<=', 3), at('>', 2), at('>', 3), at('>=', 3), at('==', 3), at('!=', 3)]).toEqual([true, false, true, true, false, true, true, false]);
  });

  it('sets the report verdict from thresholds and guarantees', () => {
    expect(report.verdict).toMatchObject({ pass: true, thresholds: { total: 6, failed: 0 }, guarantees: { total: 6, failed: 0 } });
    const failing = syntheticReport({ failLost: true, thresholds: ['latency.sendToSent.p99 < 1'] });
    expect(failing.verdict.pass).toBe(false);
    expect(failing.verdict.failures).toHaveLength(2);
    expect(failing.verdict.failures[0]).toMatch(/^threshold latency.sendToSent.p99 < 1 ms: observed [\d,.]+ ms$/);
    expect(failing.verdict.failures[1]).toMatch(/^guarantee lost: 2 violation\(s\); first: dm:u017:u042 seq 318/);
  });
});
