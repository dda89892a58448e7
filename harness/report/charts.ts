// The charts of report.html, as data: which charts a report gets and what each one
// plots, in display units (ms, MiB, counts). html.ts embeds these and draws them with
// uPlot; tests use the same list to check that every chart rendered.
import type { Report } from './schema.ts';

export interface ChartSeries {
  label: string;
  /** one value per x; null = no data there (drawn as a gap) */
  values: Array<number | null>;
  color: string;
  dash?: number[];
  width?: number;
  /** drawn against the right-hand axis (ChartSpec.y2Label) */
  right?: boolean;
}

export interface ChartSpec {
  /** stable id: the element's data-chart attribute */
  id: string;
  /** the report section it belongs to */
  section: 'latency' | 'throughput' | 'herd' | 'server' | 'leaks';
  title: string;
  /** y-axis label, with its unit */
  yLabel: string;
  /** unit suffix for cursor values */
  unit: string;
  /** label of a right-hand y axis, for series with `right` */
  y2Label?: string;
  /** unit suffix of the right-hand series */
  unit2?: string;
  /** time: x in seconds since the epoch, fault windows shaded; percentile: x = 1/(1-p); step: x = 0, 1, 2, … named by `xLabels` (leak samples: baseline, storm 1, …) */
  kind: 'time' | 'percentile' | 'step';
  /** with kind `step`: the name of each x */
  xLabels?: string[];
  /** logarithmic y axis */
  logY: boolean;
  x: number[];
  series: ChartSeries[];
  /** one line under the chart saying how to read it */
  caption: string;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const color = (i: number): string => PALETTE[i % PALETTE.length]!;

const MiB = 1024 * 1024;
const sec = (ms: number): number => ms / 1000;
const scale = (col: ReadonlyArray<number | null>, f: number): Array<number | null> => col.map((v) => (v === null ? null : Math.round((v / f) * 1000) / 1000));

/** Per-second rate of a per-interval count column. */
function perSecond(col: readonly number[], intervalMs: number): number[] {
  return col.map((n) => Math.round((n / (intervalMs / 1000)) * 1000) / 1000);
}

/**
 * Puts columns sampled at their own times onto one x axis of `bucketMs` buckets (a
 * sample counts in the bucket its time falls in; the last one wins), so series from
 * different sources line up without breaking each other's lines.
 */
function alignOnBuckets(sources: ReadonlyArray<{ t: readonly number[]; values: ReadonlyArray<number | null> }>, bucketMs: number): { x: number[]; columns: Array<Array<number | null>> } {
  const bucket = (t: number): number => Math.floor(t / bucketMs) * bucketMs;
  const x = [...new Set(sources.flatMap((s) => s.t.map(bucket)))].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const columns = sources.map((s) => {
    const col: Array<number | null> = new Array<number | null>(x.length).fill(null);
    s.t.forEach((t, i) => (col[index.get(bucket(t))!] = s.values[i] ?? null));
    return col;
  });
  return { x, columns };
}

/** Whether the fleets counted anything at all (the columns are zero-filled over the run). */
export function seriesCounted(r: Report): boolean {
  return Object.values(r.series.counters).some((col) => col.some((n) => n !== 0));
}

function hasData(col: ReadonlyArray<number | null>): boolean {
  return col.some((v) => v !== null);
}

const FAULTS_CAPTION = 'Shaded bands are fault windows (F1, F2, … as in the fault timeline); a thin line marks an instantaneous fault.';

function latencyCharts(r: Report): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const m of r.latency.metrics) {
    if (!hasData(m.windows.p50)) continue;
    out.push({
      id: `latency-over-time-${m.name}`,
      section: 'latency',
      title: `${m.label}: percentiles per ${r.latency.windowMs / 1000} s`,
      yLabel: 'latency (ms, log scale)',
      unit: 'ms',
      kind: 'time',
      logY: true,
      x: m.windows.t.map(sec),
      series: [
        { label: 'p50', values: m.windows.p50, color: color(0) },
        { label: 'p90', values: m.windows.p90, color: color(2) },
        { label: 'p99', values: m.windows.p99, color: color(3) },
        { label: 'max', values: m.windows.max, color: color(1), dash: [4, 4], width: 1 },
      ],
      caption: `Each point summarizes the values recorded in that ${r.latency.windowMs / 1000} s window. ${FAULTS_CAPTION}`,
    });
  }
  const withCurve = r.latency.metrics.filter((m) => m.distribution.some((p) => p.percentile < 100));
  if (withCurve.length > 0) {
    // every metric uses the same percentile points, so they share one x column
    const points = withCurve[0]!.distribution.filter((p) => p.percentile < 100).map((p) => p.percentile);
    out.push({
      id: 'latency-distribution',
      section: 'latency',
      title: 'Latency distribution (whole run)',
      yLabel: 'latency (ms, log scale)',
      unit: 'ms',
      kind: 'percentile',
      logY: true,
      x: points.map((p) => 1 / (1 - p / 100)),
      series: withCurve.map((m, i) => ({
        label: m.label,
        values: points.map((p) => m.distribution.find((d) => d.percentile === p)?.value ?? null),
        color: color(i),
      })),
      caption: 'Read across: the latency below which that share of values fell (the HdrHistogram percentile plot; the right end is the tail).',
    });
  }
  return out;
}

function throughputCharts(r: Report): ChartSpec[] {
  const out: ChartSpec[] = [];
  const s = r.series;
  const counted = seriesCounted(r);
  const nodes = r.server?.targets.filter((t) => t.kind === 'node' && hasData(t.values['connections'] ?? [])) ?? [];
  if (counted || nodes.length > 0) {
    // Client counts and node gauges are sampled at different instants: align them on seconds.
    const bucketMs = counted ? s.intervalMs : (r.server?.intervalMs ?? 1000);
    const sources = [...(counted ? [{ t: s.t, values: s.connections }] : []), ...nodes.map((n) => ({ t: n.t, values: n.values['connections']! }))];
    const aligned = alignOnBuckets(sources, bucketMs);
    const xs = aligned.x;
    const series: ChartSeries[] = [];
    let k = 0;
    if (counted) series.push({ label: 'clients: open connections (harness)', values: aligned.columns[k++]!, color: color(0), width: 2 });
    nodes.forEach((n, i) => series.push({ label: `${n.target}: imstorm_connections`, values: aligned.columns[k++]!, color: color(i + 2), dash: [6, 3] }));
    out.push({
      id: 'connections',
      section: 'throughput',
      title: 'Open connections',
      yLabel: 'connections',
      unit: '',
      kind: 'time',
      logY: false,
      x: xs.map(sec),
      series,
      caption: `Solid: connections the harness holds open (welcome received, not closed). Dashed: each node's own gauge. ${FAULTS_CAPTION}`,
    });
  }
  if (counted) {
    const names: Array<[string, string, string]> = [
      ['sends', 'sends/s', color(0)],
      ['sent', 'sent (acked)/s', color(2)],
      ['deliveries', 'deliveries/s', color(3)],
      ['errors', 'errors/s', color(1)],
    ];
    out.push({
      id: 'message-rates',
      section: 'throughput',
      title: 'Message rates (harness view)',
      yLabel: 'per second',
      unit: '/s',
      kind: 'time',
      logY: false,
      x: s.t.map(sec),
      series: names.filter(([k]) => s.counters[k]).map(([k, label, c]) => ({ label, values: perSecond(s.counters[k]!, s.intervalMs), color: c })),
      caption: `Counted by the fleets per ${s.intervalMs / 1000} s interval: sends written, sent replies received, msg frames received, errors. ${FAULTS_CAPTION}`,
    });
  }
  return out;
}

/** The reconnect herd: connection attempts, welcomes, syncs and drops per second, at the herd's bucket width. */
function herdCharts(r: Report): ChartSpec[] {
  const hd = r.herd;
  if (!hd || !hd.series.t.length) return [];
  const s = hd.series;
  return [
    {
      id: 'herd',
      section: 'herd',
      title: `Reconnect herd: connections per second (${hd.bucketMs} ms buckets)`,
      yLabel: 'per second',
      unit: '/s',
      kind: 'time',
      logY: false,
      x: s.t.map(sec),
      series: [
        { label: 'connection attempts/s', values: perSecond(s.attempts, hd.bucketMs), color: color(0) },
        { label: 'welcomes/s', values: perSecond(s.welcomes, hd.bucketMs), color: color(2), width: 2 },
        { label: 'synced/s', values: perSecond(s.synced, hd.bucketMs), color: color(3) },
        { label: 'welcomed connections closed/s', values: perSecond(s.drops, hd.bucketMs), color: color(1), dash: [4, 3] },
      ],
      caption: `Counted from the fleets' connection facts: attempts (TCP + upgrade started), welcomes (hello answered), synced (backlog replayed), and closes of welcomed connections — each cut is a spike of closes followed by the herd of attempts that backoff with full jitter spreads out. ${FAULTS_CAPTION}`,
    },
  ];
}

function serverCharts(r: Report): ChartSpec[] {
  const server = r.server;
  if (!server) return [];
  const nodes = server.targets.filter((t) => t.kind === 'node');
  const out: ChartSpec[] = [];
  const perNode = (id: string, title: string, key: string, yLabel: string, unit: string, divisor: number, caption: string): void => {
    const withData = nodes.filter((n) => hasData(n.values[key] ?? []));
    if (withData.length === 0) return;
    const aligned = alignOnBuckets(withData.map((n) => ({ t: n.t, values: scale(n.values[key]!, divisor) })), server.intervalMs);
    out.push({
      id,
      section: 'server',
      title,
      yLabel,
      unit,
      kind: 'time',
      logY: false,
      x: aligned.x.map(sec),
      series: withData.map((n, i) => ({ label: n.target, values: aligned.columns[i]!, color: color(i) })),
      caption: `${caption} Gaps are scrapes that failed (node down or too slow to answer). ${FAULTS_CAPTION}`,
    });
  };
  perNode('server-rss', 'Resident memory (RSS) per node', 'rssBytes', 'RSS (MiB)', 'MiB', MiB, 'process_resident_memory_bytes, sampled every second.');
  perNode('server-heap', 'V8 heap in use per node', 'heapUsedBytes', 'heap used (MiB)', 'MiB', MiB, 'nodejs_heap_size_used_bytes (before GC: it saw-tooths).');
  perNode('server-fds', 'Open file descriptors per node', 'openFds', 'file descriptors', '', 1, 'imstorm_open_fds: should return to its baseline once clients leave.');
  perNode('server-lag', 'Event-loop lag per node', 'eventLoopLagMs', 'lag p99 (ms)', 'ms', 1, 'imstorm_event_loop_lag_seconds: p99 event-loop delay between scrapes.');
  perNode('server-delay-max', 'Longest event-loop delay per node', 'eventLoopDelayMaxMs', 'longest delay (ms)', 'ms', 1, 'imstorm_event_loop_delay_max_seconds: the longest event-loop delay in (at least) the 2 s before each scrape, kept by the node whoever else scrapes it (the p99 gauge above is reset by every scrape).');
  const redis = server.targets.find((t) => t.kind === 'redis' && hasData(t.values['usedMemoryBytes'] ?? []));
  if (redis) {
    out.push({
      id: 'redis',
      section: 'server',
      title: 'Redis memory and load',
      yLabel: 'used_memory (MiB)',
      unit: 'MiB',
      y2Label: 'operations per second',
      unit2: 'ops/s',
      kind: 'time',
      logY: false,
      x: redis.t.map(sec),
      series: [
        { label: 'used_memory (MiB)', values: scale(redis.values['usedMemoryBytes']!, MiB), color: color(0), width: 2 },
        { label: 'instantaneous_ops_per_sec', values: redis.values['opsPerSec'] ?? [], color: color(3), right: true },
      ],
      caption: `Redis INFO every second: memory on the left axis, operations per second on the right. ${FAULTS_CAPTION}`,
    });
  }
  return out;
}

/**
 * Leak samples per node against the sample's place in the run (baseline, after storm 1, …,
 * end): a leak shows as a line that climbs storm after storm. Nodes sampled at other
 * steps (one restarted: no baseline) are put on the longest list of labels by name.
 */
function leakCharts(r: Report): ChartSpec[] {
  const l = r.leaks;
  if (!l || !l.nodes.some((n) => n.points.length > 1)) return [];
  const labels = l.nodes.reduce<string[]>((best, n) => (n.points.length > best.length ? n.points.map((p) => p.label) : best), []);
  const out: ChartSpec[] = [];
  const chart = (id: string, title: string, yLabel: string, unit: string, read: (p: NonNullable<Report['leaks']>['nodes'][number]['points'][number]) => number | null, divisor: number, caption: string): void => {
    const series = l.nodes
      .map((n, i) => ({ label: n.node, color: color(i), values: scale(labels.map((lab) => { const p = n.points.find((x) => x.label === lab); return p ? read(p) : null; }), divisor) }))
      .filter((s) => hasData(s.values));
    if (!series.length) return;
    out.push({ id, section: 'leaks', title, yLabel, unit, kind: 'step', logY: false, x: labels.map((_, i) => i), xLabels: labels, series, caption });
  };
  const after = 'Each point is a sample once every client left and the node was idle, after two forced GCs.';
  chart('leaks-heap', 'Heap after GC per storm', 'heap used (MiB)', 'MiB', (p) => p.heapUsedAfterGc, MiB, `${after} A line that rises at every storm is a leak (the leaks check fails it past max(5%, 4 MiB)).`);
  chart('leaks-fds', 'Open file descriptors per storm', 'file descriptors', '', (p) => p.openFds, 1, `${after} Must stay at the baseline.`);
  chart('leaks-handles', 'Active handles per storm', 'handles (all types)', '', (p) => p.activeHandles, 1, `${after} Must not rise above the baseline.`);
  chart('leaks-rss', 'Resident memory (RSS) per storm', 'RSS (MiB)', 'MiB', (p) => p.rssBytes, MiB, `${after} RSS is not judged (the allocator keeps pages it may reuse); shown for its trend.`);
  return out;
}

/** Every chart the report gets, in page order; sections without data get none. */
export function chartSpecs(r: Report): ChartSpec[] {
  return [...latencyCharts(r), ...throughputCharts(r), ...herdCharts(r), ...serverCharts(r), ...leakCharts(r)];
}

/** When a fault without `end` stops: instantaneous actions (kill, restart, …) at once; anything else at the run's end (still active). */
export function faultEnd(f: { kind: string; start: number; end?: number | undefined }, runEnd: number): { end: number; instant: boolean; healed: boolean } {
  if (f.end !== undefined) return { end: f.end, instant: f.end <= f.start, healed: true };
  if (/kill|restart|crash|signal|flush|reset/i.test(f.kind)) return { end: f.start, instant: true, healed: true };
  return { end: Math.max(runEnd, f.start), instant: false, healed: false };
}
