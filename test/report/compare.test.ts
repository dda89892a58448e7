import { describe, expect, it } from 'vitest';
import { compare, compareRow, defaultRules, formatComparisonMarkdown, formatComparisonText, parseRule } from '../../harness/report/compare.ts';
import { seriesInfo } from '../../harness/measure/sampler.ts';
import type { Report } from '../../harness/report/schema.ts';
import { syntheticReport } from './synthetic.ts';

const a = syntheticReport({ seed: 7 });

describe('compare', () => {
  it('passes a run against itself, every delta 0', () => {
    const c = compare(a, a);
    expect(c.pass).toBe(true);
    expect(c.rows.length).toBeGreaterThan(10);
    expect(c.rows.every((r) => r.deltaPct === 0 && r.pass)).toBe(true);
  });

  it('fails when p99 send→delivered rises more than 10%', () => {
    const b = syntheticReport({ seed: 7, latencyFactor: 1.3 });
    const c = compare(a, b);
    expect(c.pass).toBe(false);
    const row = c.rows.find((r) => r.metric === 'latency.sendToDelivered.p99')!;
    expect(row.pass).toBe(false);
    expect(row.deltaPct).toBeGreaterThan(25);
    expect(row.deltaPct).toBeLessThan(35);
    expect(row.limit).toBe('+10% (±1 ms)');
    // untouched metrics still pass
    expect(c.rows.find((r) => r.metric === 'http.postMessage.rps')!.pass).toBe(true);
  });

  it('passes within the limit and improvements of any size', () => {
    const faster = syntheticReport({ seed: 7, latencyFactor: 0.5 });
    expect(compare(a, faster).pass).toBe(true);
    expect(compare(a, syntheticReport({ seed: 7, latencyFactor: 1.05 }), ['latency.sendToDelivered.p99 +10%']).pass).toBe(true);
  });

  it('fails new violations (0 → n is +∞%)', () => {
    const b = syntheticReport({ seed: 7, failLost: true });
    const row = compare(a, b).rows.find((r) => r.metric === 'checks.violations')!;
    expect(row).toMatchObject({ a: 0, b: 2, deltaPct: Infinity, pass: false });
  });

  it('reads rules as text and honours the absolute tolerance', () => {
    expect(parseRule('latency.sendToSent.p99 +10%')).toEqual({ metric: 'latency.sendToSent.p99', better: 'lower', maxChangePct: 10 });
    expect(parseRule('http.healthz.rps -5.5%')).toEqual({ metric: 'http.healthz.rps', better: 'higher', maxChangePct: 5.5 });
    expect(parseRule('latency.connect.p50 +10% (±2)')).toMatchObject({ minAbsChange: 2 });
    expect(() => parseRule('latency.connect.p50 10')).toThrow(/expected/);
    const b = syntheticReport({ seed: 7, latencyFactor: 1.5 });
    const strict = compareRow(a, b, parseRule('latency.connect.p50 +10%'));
    const lenient = compareRow(a, b, parseRule('latency.connect.p50 +10% (±5)'));
    expect(strict.pass).toBe(false);
    expect(lenient).toMatchObject({ pass: true, note: 'within absolute tolerance' });
  });

  it('reports a metric missing from one run without failing it', () => {
    const row = compareRow(a, a, parseRule('latency.nope.p99 +10%'));
    expect(row).toMatchObject({ pass: true, deltaPct: null, note: 'in neither run' });
  });

  it('formats text and markdown tables', () => {
    const b = syntheticReport({ seed: 7, latencyFactor: 1.3 });
    const c = compare(a, b);
    const text = formatComparisonText(c);
    expect(text).toMatch(/^a \(baseline\):/);
    expect(text).toMatch(/latency\.sendToDelivered\.p99 +[\d,.]+ ms +[\d,.]+ ms +\+[\d.]+% +\+10% \(±1 ms\) +FAIL/);
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^FAIL: \d+ of \d+ metrics regressed/);
    const md = formatComparisonMarkdown(c);
    expect(md).toMatch(/^## imstorm compare: ❌ \d+ regression/);
    expect(md).toContain('| metric | a | b | delta | limit | result |');
    expect(md).toMatch(/\| `latency.sendToDelivered.p99` \| .* \| ❌ \*\*FAIL\*\* \|/);
  });

  it('builds default rules only for metrics the runs have', () => {
    const rules = defaultRules(a, a).map((r) => r.metric);
    expect(rules).toContain('latency.sendToDelivered.p99');
    expect(rules).toContain('http.healthz.rps');
    expect(rules).toContain('server.*.rssBytes.max');
    expect(rules).toContain('checks.violations');
  });

  describe('the longest event-loop delay', () => {
    const DELAY = 'server.*.eventLoopDelayMaxMs.max';
    /** run `r` as if its nodes had the gauge: each node's series at `factor` times its lag */
    const withDelay = (r: Report, factor: number): Report => {
      const copy = structuredClone(r);
      copy.server!.series['eventLoopDelayMaxMs'] = seriesInfo('eventLoopDelayMaxMs');
      for (const tg of copy.server!.targets) {
        if (tg.kind === 'node') tg.values['eventLoopDelayMaxMs'] = tg.values['eventLoopLagMs']!.map((v) => (v === null ? null : v * factor));
      }
      return copy;
    };

    it('has no row when neither run sampled it (reports from before the gauge)', () => {
      expect(defaultRules(a, a).map((r) => r.metric)).not.toContain(DELAY);
    });

    it('fails a candidate whose worst turn grew by more than half and 20 ms', () => {
      // the synthetic lag peaks at about 51–54 ms: ×1.2 stays within ±20 ms, ×2 is +100 %
      const row = (b: Report) => compare(withDelay(a, 1), b).rows.find((r) => r.metric === DELAY)!;
      expect(row(withDelay(a, 1.2))).toMatchObject({ pass: true, limit: '+50% (±20 ms)' });
      const worse = row(withDelay(a, 2));
      expect(worse).toMatchObject({ pass: false, deltaPct: 100 });
      expect(compare(withDelay(a, 1), withDelay(a, 2)).pass).toBe(false);
    });

    it('compares an old baseline with a new candidate without failing: the row says which run lacks it', () => {
      const c = compare(a, withDelay(a, 3));
      expect(c.rows.find((r) => r.metric === DELAY)).toMatchObject({ pass: true, deltaPct: null, note: 'not in run a' });
      expect(c.pass).toBe(true);
    });
  });
});
