// Latency recorders on HdrHistogram (hdr-histogram-js).
//
// A recorder keeps one whole-run histogram plus one small histogram per time window
// (default 1 s, keyed by when the value was recorded), so a report can draw percentiles
// over time. Everything is mergeable: a fleet process takes `snapshot({ reset: true })`
// (compressed base64, the HdrHistogram interchange format) and sends it to the
// orchestrator over its control link (harness/fleet/protocol.ts), which `merge`s it; histograms add exactly, so increments
// shipped every second sum to the same result as one shipment at the end.
//
// Values are given in milliseconds and stored as integer microseconds.
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { maxOf, minOf } from '../util/extent.ts';

/** The latencies a run measures (ISSUE 4, "Measurement"). */
export const LATENCY_METRICS = ['connect', 'helloToWelcome', 'reconnectToSynced', 'sendToSent', 'sendToDelivered', 'sendToDeliveredSlow'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

/** What each metric measures, as a person reads it. */
export const LATENCY_LABELS: Record<LatencyMetric, string> = {
  connect: 'connect (TCP + WebSocket upgrade)',
  helloToWelcome: 'hello → welcome',
  reconnectToSynced: 'reconnect → synced',
  sendToSent: 'send → sent',
  sendToDelivered: 'send → delivered (per recipient)',
  sendToDeliveredSlow: 'send → delivered to devices of slow groups (left out of send → delivered)',
};

/** Percentiles of the summary table, as stat names (`p99.9` = 99.9th percentile). */
export const SUMMARY_PERCENTILES = { p50: 50, p75: 75, p90: 90, p95: 95, p99: 99, 'p99.9': 99.9, 'p99.99': 99.99 } as const;
export type PercentileName = keyof typeof SUMMARY_PERCENTILES;

/** Points of the percentile curve (the HdrHistogram "percentile distribution" plot). */
export const DISTRIBUTION_PERCENTILES: readonly number[] = [
  0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5, 90, 91.25, 92.5, 93.75, 95, 96.25, 97.5, 98.125,
  98.75, 99, 99.375, 99.5, 99.6875, 99.75, 99.84375, 99.9, 99.921875, 99.95, 99.96, 99.97, 99.98, 99.99, 99.995, 99.999,
];

export interface LatencySnapshot {
  v: 1;
  /** unit of the encoded values */
  unit: 'us';
  windowMs: number;
  /** whole-run histogram, HdrHistogram compressed base64 */
  total: string;
  /** [window start ms, compressed base64] */
  windows: Array<[number, string]>;
  /** values that were not finite numbers and were dropped */
  invalid: number;
}

export interface LatencySummary {
  count: number;
  /** all in ms; 0 when count is 0 */
  min: number;
  mean: number;
  stddev: number;
  max: number;
  percentiles: Record<PercentileName, number>;
}

export interface LatencyWindows {
  /** window start, ms since the epoch, ascending */
  t: number[];
  count: number[];
  /** ms; null in a window without values */
  p50: Array<number | null>;
  p90: Array<number | null>;
  p99: Array<number | null>;
  max: Array<number | null>;
}

const US_PER_MS = 1000;

function newTotal(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Windows only feed the over-time chart: two significant digits (±1%) and packed counts keep an hour of them small. */
function newWindow(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 2, bitBucketSize: 'packed', autoResize: true });
}

function decode(b64: string): Histogram {
  // Decoded histograms do not auto-resize: always add them into a fresh one.
  return hdr.decodeFromCompressedBase64(b64, 32, false);
}

/** Decodes an encoded histogram (from a snapshot or a report) into one that can record further values. */
export function decodeHistogram(b64: string): Histogram {
  const out = newTotal();
  out.add(decode(b64));
  return out;
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Summary of a histogram holding microseconds, in ms. */
export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  const at = (p: number): number => (count === 0 ? 0 : round3(h.getValueAtPercentile(p) / US_PER_MS));
  const percentiles = {} as Record<PercentileName, number>;
  for (const [name, p] of Object.entries(SUMMARY_PERCENTILES) as Array<[PercentileName, number]>) percentiles[name] = at(p);
  return {
    count,
    min: at(0),
    mean: count === 0 ? 0 : round3(h.mean / US_PER_MS),
    stddev: count === 0 ? 0 : round3(h.stdDeviation / US_PER_MS),
    max: at(100),
    percentiles,
  };
}

/** The percentile curve at DISTRIBUTION_PERCENTILES (plus 100 = max), in ms. */
export function distribution(h: Histogram): Array<{ percentile: number; value: number }> {
  if (h.totalCount === 0) return [];
  const points = DISTRIBUTION_PERCENTILES.map((p) => ({ percentile: p, value: round3(h.getValueAtPercentile(p) / US_PER_MS) }));
  points.push({ percentile: 100, value: round3(h.getValueAtPercentile(100) / US_PER_MS) });
  return points;
}

export interface LatencyRecorderOptions {
  /** width of the over-time windows (default 1000 ms) */
  windowMs?: number;
  /** clock for `record` without `at` (default Date.now) */
  now?: () => number;
}

/** One latency metric: a whole-run histogram and one histogram per window. */
export class LatencyRecorder {
  readonly windowMs: number;
  private readonly now: () => number;
  private total: Histogram = newTotal();
  private readonly windows = new Map<number, Histogram>();
  private invalid = 0;

  constructor(opts: LatencyRecorderOptions = {}) {
    this.windowMs = opts.windowMs ?? 1000;
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${this.windowMs}`);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records one latency of `ms` milliseconds, observed at `at` (ms since the epoch; the
   * window it counts in). Negative values (clock steps) count as 0; non-finite ones are
   * dropped and counted in `invalid`.
   */
  record(ms: number, at: number = this.now()): void {
    if (!Number.isFinite(ms) || !Number.isFinite(at)) {
      this.invalid++;
      return;
    }
    const us = ms <= 0 ? 0 : Math.round(ms * US_PER_MS);
    this.total.recordValue(us);
    const key = Math.floor(at / this.windowMs) * this.windowMs;
    let w = this.windows.get(key);
    if (!w) {
      w = newWindow();
      this.windows.set(key, w);
    }
    w.recordValue(us);
  }

  get count(): number {
    return this.total.totalCount;
  }

  get invalidCount(): number {
    return this.invalid;
  }

  /** Start of the first and of the last window with values, or undefined when empty. */
  span(): { first: number; last: number } | undefined {
    if (this.windows.size === 0) return undefined;
    const keys = [...this.windows.keys()];
    return { first: minOf(keys), last: maxOf(keys) };
  }

  /** The whole-run histogram (values in µs). Do not record into it directly. */
  histogram(): Histogram {
    return this.total;
  }

  /**
   * A serializable copy (JSON/IPC-safe). With `reset`, the recorder starts empty again,
   * so the next snapshot carries only what came after (ship increments).
   */
  snapshot(opts: { reset?: boolean } = {}): LatencySnapshot {
    const snap: LatencySnapshot = {
      v: 1,
      unit: 'us',
      windowMs: this.windowMs,
      total: encodeHistogram(this.total),
      windows: [...this.windows.entries()].sort((a, b) => a[0] - b[0]).map(([t, h]) => [t, encodeHistogram(h)]),
      invalid: this.invalid,
    };
    if (opts.reset) {
      this.total = newTotal();
      this.windows.clear();
      this.invalid = 0;
    }
    return snap;
  }

  /** Adds a snapshot (from this or another process) into this recorder. */
  merge(snap: LatencySnapshot): void {
    if (snap.v !== 1 || snap.unit !== 'us') throw new Error(`unsupported latency snapshot (v=${String(snap.v)}, unit=${String(snap.unit)})`);
    if (snap.windowMs !== this.windowMs) {
      throw new Error(`cannot merge latency windows of ${snap.windowMs} ms into ${this.windowMs} ms windows`);
    }
    this.total.add(decode(snap.total));
    for (const [t, b64] of snap.windows) {
      let w = this.windows.get(t);
      if (!w) {
        w = newWindow();
        this.windows.set(t, w);
      }
      w.add(decode(b64));
    }
    this.invalid += snap.invalid;
  }

  summary(): LatencySummary {
    return summarize(this.total);
  }

  distribution(): Array<{ percentile: number; value: number }> {
    return distribution(this.total);
  }

  /**
   * Percentiles per window, zero-filled (count 0, nulls) between the first and last
   * window, or over [from, to) when given.
   */
  windowSeries(range: { from?: number; to?: number } = {}): LatencyWindows {
    const out: LatencyWindows = { t: [], count: [], p50: [], p90: [], p99: [], max: [] };
    const keys = [...this.windows.keys()];
    if (keys.length === 0 && (range.from === undefined || range.to === undefined)) return out;
    const first = range.from !== undefined ? Math.floor(range.from / this.windowMs) * this.windowMs : minOf(keys);
    const last = range.to !== undefined ? range.to - 1 : maxOf(keys);
    for (let t = first; t <= last; t += this.windowMs) {
      const h = this.windows.get(t);
      out.t.push(t);
      const n = h?.totalCount ?? 0;
      out.count.push(n);
      const at = (p: number): number | null => (h && n > 0 ? round3(h.getValueAtPercentile(p) / US_PER_MS) : null);
      out.p50.push(at(50));
      out.p90.push(at(90));
      out.p99.push(at(99));
      out.max.push(at(100));
    }
    return out;
  }
}

export type LatencySetSnapshot = Partial<Record<LatencyMetric, LatencySnapshot>>;

/** The five recorders of a run (or of one fleet process), by metric. */
export class LatencySet {
  readonly windowMs: number;
  private readonly recorders: Record<LatencyMetric, LatencyRecorder>;

  constructor(opts: LatencyRecorderOptions = {}) {
    this.windowMs = opts.windowMs ?? 1000;
    this.recorders = Object.fromEntries(LATENCY_METRICS.map((m) => [m, new LatencyRecorder(opts)])) as Record<LatencyMetric, LatencyRecorder>;
  }

  get(metric: LatencyMetric): LatencyRecorder {
    return this.recorders[metric];
  }

  record(metric: LatencyMetric, ms: number, at?: number): void {
    this.recorders[metric].record(ms, at);
  }

  /** Snapshots of the metrics that have values (or invalid counts); see LatencyRecorder.snapshot. */
  snapshot(opts: { reset?: boolean } = {}): LatencySetSnapshot {
    const out: LatencySetSnapshot = {};
    for (const m of LATENCY_METRICS) {
      const r = this.recorders[m];
      if (r.count > 0 || r.invalidCount > 0) out[m] = r.snapshot(opts);
    }
    return out;
  }

  merge(snap: LatencySetSnapshot): void {
    for (const m of LATENCY_METRICS) {
      const s = snap[m];
      if (s) this.recorders[m].merge(s);
    }
  }

  /** Merges any number of snapshots (e.g. one per fleet process) into a new set. */
  static fromSnapshots(snaps: Iterable<LatencySetSnapshot>, opts: LatencyRecorderOptions = {}): LatencySet {
    const set = new LatencySet(opts);
    for (const s of snaps) set.merge(s);
    return set;
  }
}
