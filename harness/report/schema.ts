// report.json, version 1: the one file every other report file is rendered from.
// Documented field by field in harness/report/SCHEMA.md. Rules for changing it: adding an
// optional field keeps version 1; renaming, removing or changing the meaning of a field
// bumps REPORT_VERSION (and readers say which versions they accept).
import { z } from 'zod';
import { faultEvent } from '../model/facts.ts';
import { GUARANTEES } from '../model/guarantees.ts';
import { inflightWindow } from './inflight.ts';
import { leaksReport } from './leaks.ts';

export const REPORT_KIND = 'imstorm.report';
export const REPORT_VERSION = 1;

const ms = z.number();
const nullableNumbers = z.array(z.number().nullable());

export const thresholdOp = z.enum(['<', '<=', '>', '>=', '==', '!=']);
export type ThresholdOp = z.infer<typeof thresholdOp>;

/** A threshold and how the run did against it (k6 style: the scenario states, the report answers). */
export const thresholdResult = z.object({
  /** what people read, e.g. "p99 send→delivered < 500 ms" */
  name: z.string(),
  /** metric path, e.g. `latency.sendToDelivered.p99` (see SCHEMA.md, "Metric paths") */
  metric: z.string(),
  op: thresholdOp,
  limit: z.number(),
  /** unit of `limit` and `observed` (ms, count, bytes, per_s, ratio, …) */
  unit: z.string().optional(),
  /** the run's value of `metric`; null when the run has no such data */
  observed: z.number().nullable(),
  /** observed op limit holds (false when observed is null) */
  pass: z.boolean(),
  /** why it failed without a value, or any remark */
  note: z.string().optional(),
});
export type ThresholdResult = z.infer<typeof thresholdResult>;

/** A witness as stored: the first violating operation, the facts that show it, the faults around it. */
export const violation = z.object({
  /** one line naming exactly what broke, e.g. "dm:a:b seq 7 (cmid c-3) never reached b/d1" */
  message: z.string(),
  /** the facts (or log lines) that show the violation, oldest first */
  trail: z.array(z.unknown()),
  /** the fault events overlapping the violation's time span */
  faultWindow: z.array(faultEvent),
});
export type Violation = z.infer<typeof violation>;

/** A checker verdict (harness/checks/verdict.ts) as stored: the checker's fields plus title and truncation counts. */
export const checkResult = z.object({
  guarantee: z.enum(GUARANTEES),
  /** the guarantee in words */
  title: z.string(),
  /** true when no violation was found */
  ok: z.boolean(),
  /** items checked (messages × members, connections, subscribers, …) */
  checked: z.number().int().nonnegative(),
  /** the checker's one-line summary */
  summary: z.string(),
  /** witnesses, first first; at most `limits.violations` kept, each trail at most `limits.trail` items */
  violations: z.array(violation),
  /** how many violations the checker found in all (≥ violations.length) */
  violationsTotal: z.number().int().nonnegative(),
});
export type CheckResult = z.infer<typeof checkResult>;

export const percentiles = z.object({
  p50: z.number(),
  p75: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  'p99.9': z.number(),
  'p99.99': z.number(),
});

/** One latency metric: summary, percentile curve, percentiles over time, the histogram itself. */
export const latencyMetric = z.object({
  /** connect | helloToWelcome | reconnectToSynced | sendToSent | sendToDelivered */
  name: z.string(),
  /** what it measures, in words */
  label: z.string(),
  /** values recorded */
  count: z.number().int().nonnegative(),
  /** values dropped as not finite */
  invalid: z.number().int().nonnegative(),
  /** ms (all figures below are ms) */
  min: z.number(),
  mean: z.number(),
  stddev: z.number(),
  max: z.number(),
  /** p50 … p99.99, ms */
  percentiles,
  /** the percentile curve: value (ms) at each percentile, 100 = max */
  distribution: z.array(z.object({ percentile: z.number(), value: z.number() })),
  /** percentiles per window of `latency.windowMs`, columns aligned on `t` (window start, ms since the epoch); null = no value in that window */
  windows: z.object({ t: z.array(ms), count: z.array(z.number()), p50: nullableNumbers, p90: nullableNumbers, p99: nullableNumbers, max: nullableNumbers }),
  /** the whole-run HdrHistogram, so other tools can recompute any percentile */
  histogram: z.object({
    /** HdrHistogram V2 compressed, base64 (hdr-histogram-js decodeFromCompressedBase64) */
    encoding: z.literal('hdr-compressed-base64'),
    /** unit of the recorded values */
    unit: z.literal('us'),
    data: z.string(),
  }),
});
export type LatencyMetricReport = z.infer<typeof latencyMetric>;

/** Throughput per interval as the fleets counted it. */
export const seriesReport = z.object({
  intervalMs: z.number(),
  /** interval starts, ms since the epoch */
  t: z.array(ms),
  /** counter name → count per interval: sends, sent, deliveries, errors, connects, disconnects (and any other the fleet kept) */
  counters: z.record(z.string(), z.array(z.number())),
  /** open client connections at the end of each interval (connects − disconnects so far) */
  connections: z.array(z.number()),
});
export type SeriesReport = z.infer<typeof seriesReport>;

export const serverTarget = z.object({
  /** node id, or `redis` */
  target: z.string(),
  kind: z.enum(['node', 'redis']),
  /** where it was scraped (node base URL, or redis:// URL) */
  url: z.string(),
  /** sample times, ms since the epoch */
  t: z.array(ms),
  /** series key → value per sample, null where the scrape failed (see `series` for units) */
  values: z.record(z.string(), nullableNumbers),
  /** failed scrapes: when and why (timeouts, refused connections, HTTP errors) */
  gaps: z.array(z.object({ t: ms, error: z.string() })),
  /** for counter series (…PerSec): increase over the sampled period */
  totals: z.record(z.string(), z.number()),
});

/** The server sampler's time series: each node's /metrics and Redis INFO. */
export const serverReport = z.object({
  intervalMs: z.number(),
  startedAt: ms,
  endedAt: ms,
  /** series key → unit (count, bytes, ms, per_s) and label */
  series: z.record(z.string(), z.object({ unit: z.string(), label: z.string() })),
  targets: z.array(serverTarget),
});
export type ServerReport = z.infer<typeof serverReport>;

/** One autocannon run against one HTTP route. */
export const httpReport = z.object({
  /** route name, e.g. postMessage, history, healthz (`http.<name>.<stat>`) */
  name: z.string(),
  method: z.string(),
  path: z.string(),
  url: z.string(),
  connections: z.number(),
  durationSec: z.number(),
  startedAt: ms,
  /** responses received */
  total: z.number(),
  /** requests sent */
  sent: z.number(),
  /** responses per second over the run's seconds */
  rps: z.object({ mean: z.number(), min: z.number(), max: z.number() }),
  /** response latency, ms */
  latency: z.object({ mean: z.number(), min: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), 'p99.9': z.number(), max: z.number() }),
  /** responses by HTTP status */
  statusCodes: z.record(z.string(), z.number()),
  non2xx: z.number(),
  /** connection errors (timeouts included) */
  errors: z.number(),
  timeouts: z.number(),
  /** stopped by the hard time cap */
  capped: z.boolean(),
});
export type HttpReport = z.infer<typeof httpReport>;

const herdShares = z.object({ p50: z.number().nullable(), p99: z.number().nullable(), max: z.number().nullable() });

/** The reconnect herd (harness/measure/herd.ts): each cut of client connections and how fast the devices came back. */
export const herdReport = z.object({
  /** width of the buckets of `series` */
  bucketMs: z.number(),
  /** bucket starts (ms since the epoch) and per bucket: connection attempts, welcomes, syncs, welcomed connections closed */
  series: z.object({ t: z.array(ms), attempts: z.array(z.number()), welcomes: z.array(z.number()), synced: z.array(z.number()), drops: z.array(z.number()) }),
  /** best 1 s window of the run, fleet side, per second */
  peakAttemptsPerSec: z.number(),
  peakWelcomesPerSec: z.number(),
  /** the nodes' accepted WebSocket upgrades per second summed over nodes (server samples), best sample */
  peakAcceptsPerSec: z.number().nullable(),
  cuts: z.array(
    z.object({
      /** the first fault's recorded start (from its request), or its first dropped connection when earlier, and when the last one healed; ms since the epoch */
      at: ms,
      healedAt: ms,
      faults: z.array(z.string()),
      /** devices with a welcomed connection open 1 s before the fault's recorded start (or when the previous cut's window ended); of those, the ones whose connection closed by `healedAt` + 1 s */
      connected: z.number(),
      dropped: z.number(),
      droppedRatio: z.number(),
      /** ms from `at` until 50%, 99% and all of the dropped devices were welcomed / synced again (null: fewer came back before the final sync) */
      welcomedMs: herdShares,
      syncedMs: herdShares,
      /** dropped devices not synced again before the final sync */
      notBack: z.number(),
      /** connection attempts from `at` until the last dropped device was back (or the next cut) */
      attempts: z.number(),
      peakWelcomesPerSec: z.number(),
      peakAcceptsPerSec: z.number().nullable(),
    }),
  ),
});
export type HerdReport = z.infer<typeof herdReport>;

export const environmentReport = z.object({
  /** where the harness ran */
  hostname: z.string(),
  platform: z.string(),
  release: z.string(),
  arch: z.string(),
  cpus: z.number(),
  cpuModel: z.string(),
  memoryBytes: z.number(),
  /** Node.js version of the harness */
  node: z.string(),
  /** imstorm package version */
  imstorm: z.string(),
  /** git commit of the working tree, when known */
  commit: z.string().optional(),
  /** environment provider: containers, local, external */
  provider: z.string().optional(),
  /** server nodes under test */
  nodes: z.array(z.object({ id: z.string(), url: z.string() })).optional(),
  redisUrl: z.string().optional(),
  /** free-form facts (limits checked, Redis version, …) */
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type EnvironmentReport = z.infer<typeof environmentReport>;

export const reportSchema = z.object({
  /** always "imstorm.report" */
  kind: z.literal(REPORT_KIND),
  /** schema version; this is version 1 */
  version: z.literal(REPORT_VERSION),
  /** run id = the report directory's name: <UTC time>-<scenario> */
  id: z.string(),
  scenario: z.object({
    name: z.string(),
    description: z.string().optional(),
    /** the suite the scenario ran in, if any */
    suite: z.string().optional(),
  }),
  /** the seed every random choice derived from; `--seed` with it repeats the run */
  seed: z.union([z.number(), z.string()]),
  /** ms since the epoch */
  startedAt: ms,
  endedAt: ms,
  durationMs: z.number(),
  /** the scenario's resolved configuration (load, duration, nodes, clients, faults planned, …) */
  config: z.record(z.string(), z.unknown()),
  environment: environmentReport,
  /** the answer: pass when every threshold passed and every guarantee held */
  verdict: z.object({
    pass: z.boolean(),
    thresholds: z.object({ total: z.number(), failed: z.number() }),
    guarantees: z.object({ total: z.number(), failed: z.number() }),
    /** one line per failure, for people */
    failures: z.array(z.string()),
  }),
  thresholds: z.array(thresholdResult),
  checks: z.array(checkResult),
  /** the fault timeline, by start time */
  faults: z.array(faultEvent),
  latency: z.object({
    /** width of the over-time windows */
    windowMs: z.number(),
    /** metrics with at least one value, in LATENCY_METRICS order */
    metrics: z.array(latencyMetric),
  }),
  series: seriesReport,
  server: serverReport.optional(),
  http: z.array(httpReport),
  /** the reconnect herd: present when the run cut client connections (a reset, limit_data or disabled client link, a node restart, kill or stop) */
  herd: herdReport.optional(),
  /** `error` answers the fleets got, by code (every answer, a retried send's included); absent in reports before it existed */
  errorsByCode: z.record(z.string(), z.number()).optional(),
  /** close codes the devices' connections ended with (the server's 4408/4409/4413…, 1006 when the device or the network dropped it, 1000 for its own closes); absent in reports before it existed */
  closesByCode: z.record(z.string(), z.number()).optional(),
  /** in-flight windows, one per fault step: what the devices on the node it hit had at risk and what became of it (harness/report/inflight.ts); absent when no step ran */
  inflight: z.array(inflightWindow).optional(),
  /** leak samples per node (baseline, after each storm, end) and heap growth per connection opened (harness/report/leaks.ts); absent when checks.leaks is off */
  leaks: leaksReport.optional(),
  /** how much evidence was kept (violations per guarantee, facts per trail) */
  limits: z.object({ violations: z.number(), trail: z.number() }),
  /** free remarks: warnings, skipped parts */
  notes: z.array(z.string()),
  /** why the run is incomplete (a fleet agent lost mid-run, its facts up to then kept): such a run never passes; absent when complete */
  incomplete: z.array(z.string()).optional(),
  /**
   * what this run could not check, each with why (a run against servers the harness did not
   * start: fault steps not run, checks without their inputs); absent when everything was
   */
  notChecked: z.array(z.string()).optional(),
});
export type Report = z.infer<typeof reportSchema>;

/** Validates parsed JSON as a report; throws with every problem listed (path: message). */
export function parseReport(json: unknown): Report {
  const head = json as { kind?: unknown; version?: unknown } | null;
  if (head && typeof head === 'object' && head.kind === REPORT_KIND && head.version !== REPORT_VERSION) {
    throw new Error(`report.json has schema version ${String(head.version)}; this imstorm reads version ${REPORT_VERSION}`);
  }
  const r = reportSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.slice(0, 20).map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`not a valid imstorm report:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** JSON Schema (draft 2020-12) of report.json, for tools outside this repository. */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(reportSchema, { unrepresentable: 'any' });
}
