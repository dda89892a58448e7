import { describe, expect, it } from 'vitest';
import { ThroughputSeries } from '../../harness/measure/series.ts';

const T0 = Date.UTC(2026, 0, 1);
const overJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('ThroughputSeries', () => {
  it('counts per interval and zero-fills the columns', () => {
    const s = new ThroughputSeries();
    s.count('sends', 1, T0 + 10);
    s.count('sends', 2, T0 + 999);
    s.count('deliveries', 5, T0 + 2500);
    const c = s.columns();
    expect(c.t).toEqual([T0, T0 + 1000, T0 + 2000]);
    expect(c.counters['sends']).toEqual([3, 0, 0]);
    expect(c.counters['deliveries']).toEqual([0, 0, 5]);
    // the standard counters are always present
    expect(c.counters['errors']).toEqual([0, 0, 0]);
    expect(s.total('sends')).toBe(3);
  });

  it('derives open connections as the running sum of connects − disconnects, before the range too', () => {
    const s = new ThroughputSeries();
    s.count('connects', 10, T0);
    s.count('connects', 5, T0 + 1000);
    s.count('disconnects', 3, T0 + 2000);
    s.count('disconnects', 12, T0 + 3000);
    expect(s.columns().connections).toEqual([10, 15, 12, 0]);
    expect(s.columns({ from: T0 + 2000, to: T0 + 4000 }).connections).toEqual([12, 0]);
  });

  it('merges snapshots from several processes exactly, and increments with reset', () => {
    const whole = new ThroughputSeries();
    const parts = [new ThroughputSeries(), new ThroughputSeries()];
    const merged = new ThroughputSeries();
    for (let i = 0; i < 500; i++) {
      const at = T0 + i * 37;
      whole.count(i % 3 === 0 ? 'errors' : 'sends', 1, at);
      parts[i % 2]!.count(i % 3 === 0 ? 'errors' : 'sends', 1, at);
      if (i % 100 === 99) for (const p of parts) merged.merge(overJson(p.snapshot({ reset: true })));
    }
    for (const p of parts) merged.merge(overJson(p.snapshot({ reset: true })));
    expect(merged.columns()).toEqual(whole.columns());
    expect(ThroughputSeries.fromSnapshots([whole.snapshot()]).columns()).toEqual(whole.columns());
  });

  it('refuses other interval widths', () => {
    const a = new ThroughputSeries({ intervalMs: 1000 });
    const b = new ThroughputSeries({ intervalMs: 500 });
    expect(() => a.merge(b.snapshot())).toThrow(/500 ms/);
  });

  it('is empty without counts, or zero-filled over a given range', () => {
    const s = new ThroughputSeries();
    expect(s.columns().t).toEqual([]);
    expect(s.span()).toBeUndefined();
    expect(s.columns({ from: T0, to: T0 + 2000 }).counters['sends']).toEqual([0, 0]);
  });
});

describe('ThroughputSeries over a long run', () => {
  // six counters a second for seven hours: 151,200 interval keys, past what a spread into
  // Math.min/Math.max takes (RangeError before 2026-12-05; the report of a long soak was lost)
  it('spans and zero-fills columns of a seven-hour soak', () => {
    const s = new ThroughputSeries();
    const seconds = 7 * 3600;
    for (let i = 0; i < seconds; i++) for (const name of ['sends', 'sent', 'deliveries', 'errors', 'connects', 'disconnects']) s.count(name, 1, T0 + i * 1000);
    expect(s.span()).toEqual({ first: T0, last: T0 + (seconds - 1) * 1000 });
    const cols = s.columns();
    expect(cols.t.length).toBe(seconds);
    expect(cols.counters['sends']!.every((n) => n === 1)).toBe(true);
    expect(cols.connections[seconds - 1]).toBe(0);
  });
});
