import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LATENCY_METRICS, LatencyRecorder, LatencySet, decodeHistogram, type LatencySetSnapshot } from '../../harness/measure/latency.ts';
import { ThroughputSeries, type SeriesSnapshot } from '../../harness/measure/series.ts';

const T0 = Date.UTC(2026, 0, 1);
/** The IPC channel serializes as JSON (advanced serialization is structured clone; both must work). */
const overJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('LatencyRecorder percentiles', () => {
  it('matches the exact percentiles of a known distribution within HdrHistogram precision', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 10_000; i++) r.record(i / 10, T0); // 0.1 … 1000 ms
    const s = r.summary();
    expect(s.count).toBe(10_000);
    const close = (actual: number, expected: number): void => expect(Math.abs(actual - expected) / expected).toBeLessThan(0.002);
    close(s.percentiles.p50, 500);
    close(s.percentiles.p90, 900);
    close(s.percentiles.p99, 990);
    close(s.percentiles['p99.9'], 999);
    close(s.max, 1000);
    close(s.min, 0.1);
    close(s.mean, 500.05);
  });

  it('keeps sub-millisecond resolution (values stored as µs)', () => {
    const r = new LatencyRecorder();
    for (const v of [0.05, 0.25, 0.25, 0.75]) r.record(v, T0);
    expect(r.summary().percentiles.p50).toBeCloseTo(0.25, 3);
    expect(r.summary().max).toBeCloseTo(0.75, 3);
  });

  it('clamps negative values to 0 and drops non-finite ones, counting them', () => {
    const r = new LatencyRecorder();
    r.record(-5, T0);
    r.record(Number.NaN, T0);
    r.record(Number.POSITIVE_INFINITY, T0);
    r.record(3, T0);
    expect(r.count).toBe(2);
    expect(r.invalidCount).toBe(2);
    expect(r.summary().min).toBe(0);
  });

  it('records very large values (auto-resizing) without throwing', () => {
    const r = new LatencyRecorder();
    r.record(3_600_000, T0); // an hour
    r.record(1, T0);
    expect(r.summary().max).toBeGreaterThan(3_590_000);
  });

  it('summarizes an empty recorder as zeros and an empty curve', () => {
    const r = new LatencyRecorder();
    expect(r.summary()).toMatchObject({ count: 0, min: 0, max: 0, mean: 0 });
    expect(r.distribution()).toEqual([]);
    expect(r.windowSeries()).toEqual({ t: [], count: [], p50: [], p90: [], p99: [], max: [] });
  });

  it('gives a rising percentile curve ending at the max', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) r.record(i, T0);
    const d = r.distribution();
    for (let i = 1; i < d.length; i++) expect(d[i]!.value).toBeGreaterThanOrEqual(d[i - 1]!.value);
    expect(d.at(-1)).toEqual({ percentile: 100, value: r.summary().max });
  });
});

describe('LatencyRecorder windows', () => {
  it('groups values by the window of their time, zero-filling empty windows', () => {
    const r = new LatencyRecorder({ windowMs: 1000 });
    r.record(10, T0 + 100);
    r.record(30, T0 + 900);
    r.record(500, T0 + 3500);
    const w = r.windowSeries();
    expect(w.t).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(w.count).toEqual([2, 0, 0, 1]);
    expect(w.p50[1]).toBeNull();
    // windows keep two significant digits: within 1%
    expect(Math.abs(w.max[0]! - 30) / 30).toBeLessThan(0.01);
    expect(Math.abs(w.p99[3]! - 500) / 500).toBeLessThan(0.01);
  });

  it('spans a requested range', () => {
    const r = new LatencyRecorder();
    r.record(1, T0 + 2500);
    const w = r.windowSeries({ from: T0, to: T0 + 5000 });
    expect(w.t).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
    expect(w.count).toEqual([0, 0, 1, 0, 0]);
  });
});

describe('merging latency histograms', () => {
  function spread(parts: number): { whole: LatencyRecorder; pieces: LatencyRecorder[] } {
    const whole = new LatencyRecorder();
    const pieces = Array.from({ length: parts }, () => new LatencyRecorder());
    for (let i = 0; i < 5000; i++) {
      const v = ((i * 7919) % 4000) / 3 + 0.5;
      const at = T0 + i * 3;
      whole.record(v, at);
      pieces[i % parts]!.record(v, at);
    }
    return { whole, pieces };
  }

  it('merging snapshots of parts gives exactly the whole (summary, windows, curve)', () => {
    const { whole, pieces } = spread(3);
    const merged = new LatencyRecorder();
    for (const p of pieces) merged.merge(overJson(p.snapshot()));
    expect(merged.summary()).toEqual(whole.summary());
    expect(merged.distribution()).toEqual(whole.distribution());
    expect(merged.windowSeries()).toEqual(whole.windowSeries());
  });

  it('increments shipped with reset sum to the same result as one shipment', () => {
    const once = new LatencyRecorder();
    const inc = new LatencyRecorder();
    const source = new LatencyRecorder();
    for (let i = 0; i < 3000; i++) {
      once.record(i % 250, T0 + i);
      source.record(i % 250, T0 + i);
      if (i % 700 === 699) inc.merge(overJson(source.snapshot({ reset: true })));
    }
    inc.merge(overJson(source.snapshot({ reset: true })));
    expect(source.count).toBe(0);
    expect(inc.summary()).toEqual(once.summary());
    expect(inc.windowSeries()).toEqual(once.windowSeries());
  });

  it('round-trips the encoded whole-run histogram', () => {
    const { whole } = spread(1);
    const h = decodeHistogram(whole.snapshot().total);
    expect(h.totalCount).toBe(whole.count);
    expect(h.getValueAtPercentile(99)).toBe(whole.histogram().getValueAtPercentile(99));
    h.recordValue(10 ** 12); // a decoded histogram keeps recording
  });

  it('refuses snapshots with other windows or versions', () => {
    const a = new LatencyRecorder({ windowMs: 1000 });
    const b = new LatencyRecorder({ windowMs: 5000 });
    b.record(1, T0);
    expect(() => a.merge(b.snapshot())).toThrow(/5000 ms/);
    expect(() => a.merge({ ...b.snapshot(), v: 2 } as never)).toThrow(/unsupported/);
  });

  it('LatencySet ships only metrics with values and merges by metric', () => {
    const a = new LatencySet();
    const b = new LatencySet();
    a.record('sendToSent', 5, T0);
    b.record('sendToSent', 15, T0);
    b.record('connect', 1, T0);
    const snapA = a.snapshot();
    expect(Object.keys(snapA)).toEqual(['sendToSent']);
    const merged = LatencySet.fromSnapshots([snapA, b.snapshot()].map(overJson));
    expect(merged.get('sendToSent').count).toBe(2);
    expect(merged.get('connect').count).toBe(1);
    expect(merged.get('sendToDelivered').count).toBe(0);
    expect(LATENCY_METRICS).toHaveLength(6);
  });

  it('merges what child processes send over IPC', async () => {
    const child = fileURLToPath(new URL('./fixtures/fleet-child.ts', import.meta.url));
    const run = (offset: number, count: number) =>
      new Promise<Array<{ latency: LatencySetSnapshot; series: SeriesSnapshot; done?: boolean }>>((resolve, reject) => {
        const msgs: Array<{ latency: LatencySetSnapshot; series: SeriesSnapshot; done?: boolean }> = [];
        const p = fork(child, [String(offset), String(count)], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        p.on('message', (m) => msgs.push(m as (typeof msgs)[number]));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve(msgs) : reject(new Error(`fleet child exited ${code}`))));
      });
    const [a, b] = await Promise.all([run(0, 1000), run(1000, 1500)]);
    expect(a!.at(-1)?.done).toBe(true);
    const latency = LatencySet.fromSnapshots([...a!, ...b!].map((m) => m.latency));
    const series = ThroughputSeries.fromSnapshots([...a!, ...b!].map((m) => m.series));
    // together: the values 1 … 2500 ms, once each
    const s = latency.get('sendToDelivered').summary();
    expect(s.count).toBe(2500);
    expect(Math.abs(s.percentiles.p50 - 1250) / 1250).toBeLessThan(0.002);
    expect(Math.abs(s.max - 2500) / 2500).toBeLessThan(0.002);
    expect(series.total('deliveries')).toBe(2500);
    // one value per 10 ms of fake time → 100 per 1 s interval
    expect(series.columns().counters['deliveries']!.slice(1, -1).every((n) => n === 100)).toBe(true);
  });
});
