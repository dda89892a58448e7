// Per-interval throughput counters (default: per second), mergeable across fleet processes.
//
// Only counters are kept, never gauges: a count per interval adds exactly across
// processes, whereas gauges sampled at slightly different instants do not. The level of
// open connections is derived as the running sum of `connects` minus `disconnects`.

import { maxOf, minOf } from '../util/extent.ts';

/** The counters fleets keep (others may be added by name). */
export const THROUGHPUT_COUNTERS = {
  /** send frames written (first attempts and retries) */
  sends: 'send frames written',
  /** `sent` replies received (stored or dup) */
  sent: '`sent` replies received',
  /** `msg` frames received, all recipients */
  deliveries: '`msg` frames received',
  /** `error` replies and failed connection attempts */
  errors: 'errors (error replies, failed connects)',
  /** connections that became open (welcome received) */
  connects: 'connections opened (welcome)',
  /** open connections that closed, for any reason */
  disconnects: 'connections closed',
} as const;
export type ThroughputCounter = keyof typeof THROUGHPUT_COUNTERS;

export interface SeriesSnapshot {
  v: 1;
  intervalMs: number;
  /** counter name → [interval start ms, count] pairs */
  counters: Record<string, Array<[number, number]>>;
}

export interface SeriesColumns {
  intervalMs: number;
  /** interval starts, ms since the epoch, ascending, without holes */
  t: number[];
  /** counter name → count per interval (0 where nothing happened) */
  counters: Record<string, number[]>;
  /** open connections at the end of each interval: running sum of connects − disconnects */
  connections: number[];
}

export interface ThroughputSeriesOptions {
  intervalMs?: number;
  now?: () => number;
}

export class ThroughputSeries {
  readonly intervalMs: number;
  private readonly now: () => number;
  private readonly counters = new Map<string, Map<number, number>>();

  constructor(opts: ThroughputSeriesOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${this.intervalMs}`);
    this.now = opts.now ?? Date.now;
  }

  /** Adds `n` to counter `name` in the interval holding `at` (default now). */
  count(name: ThroughputCounter | (string & {}), n = 1, at: number = this.now()): void {
    if (!Number.isFinite(n) || !Number.isFinite(at)) return;
    const key = Math.floor(at / this.intervalMs) * this.intervalMs;
    let m = this.counters.get(name);
    if (!m) {
      m = new Map();
      this.counters.set(name, m);
    }
    m.set(key, (m.get(key) ?? 0) + n);
  }

  total(name: string): number {
    let sum = 0;
    for (const n of this.counters.get(name)?.values() ?? []) sum += n;
    return sum;
  }

  /** Start of the first and of the last interval with counts, or undefined when empty. */
  span(): { first: number; last: number } | undefined {
    const keys: number[] = [];
    for (const m of this.counters.values()) for (const k of m.keys()) keys.push(k);
    if (keys.length === 0) return undefined;
    return { first: minOf(keys), last: maxOf(keys) };
  }

  /** A JSON/IPC-safe copy; with `reset`, the series starts empty again (ship increments). */
  snapshot(opts: { reset?: boolean } = {}): SeriesSnapshot {
    const counters: SeriesSnapshot['counters'] = {};
    for (const [name, m] of this.counters) counters[name] = [...m.entries()].sort((a, b) => a[0] - b[0]);
    if (opts.reset) this.counters.clear();
    return { v: 1, intervalMs: this.intervalMs, counters };
  }

  merge(snap: SeriesSnapshot): void {
    if (snap.v !== 1) throw new Error(`unsupported series snapshot v=${String(snap.v)}`);
    if (snap.intervalMs !== this.intervalMs) throw new Error(`cannot merge ${snap.intervalMs} ms intervals into ${this.intervalMs} ms intervals`);
    for (const [name, pairs] of Object.entries(snap.counters)) for (const [t, n] of pairs) this.count(name, n, t);
  }

  static fromSnapshots(snaps: Iterable<SeriesSnapshot>, opts: ThroughputSeriesOptions = {}): ThroughputSeries {
    const s = new ThroughputSeries(opts);
    for (const snap of snaps) s.merge(snap);
    return s;
  }

  /**
   * Columns for charts and reports, zero-filled, from the first to the last interval
   * recorded, or over [from, to) when given. `connections` counts everything recorded
   * before `from` too.
   */
  columns(range: { from?: number; to?: number } = {}): SeriesColumns {
    const names = [...new Set([...Object.keys(THROUGHPUT_COUNTERS), ...this.counters.keys()])];
    const keys: number[] = [];
    for (const m of this.counters.values()) for (const k of m.keys()) keys.push(k);
    const out: SeriesColumns = { intervalMs: this.intervalMs, t: [], counters: Object.fromEntries(names.map((n) => [n, []])), connections: [] };
    if (keys.length === 0 && (range.from === undefined || range.to === undefined)) return out;
    const first = range.from !== undefined ? Math.floor(range.from / this.intervalMs) * this.intervalMs : minOf(keys);
    const last = range.to !== undefined ? range.to - 1 : maxOf(keys);
    let open = 0;
    const connects = this.counters.get('connects');
    const disconnects = this.counters.get('disconnects');
    for (const [k, n] of connects ?? []) if (k < first) open += n;
    for (const [k, n] of disconnects ?? []) if (k < first) open -= n;
    for (let t = first; t <= last; t += this.intervalMs) {
      out.t.push(t);
      for (const name of names) out.counters[name]!.push(this.counters.get(name)?.get(t) ?? 0);
      open += (connects?.get(t) ?? 0) - (disconnects?.get(t) ?? 0);
      out.connections.push(open);
    }
    return out;
  }
}
