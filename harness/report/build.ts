// Assembles report.json from what a run measured: merged recorders, sampler output,
// autocannon results, checker verdicts and the fault timeline; then answers the
// thresholds and sets the verdict.
import type { FaultEvent } from '../model/facts.ts';
import type { HttpResult } from '../measure/http-load.ts';
import { LATENCY_LABELS, LATENCY_METRICS, LatencySet, encodeHistogram, type LatencySetSnapshot } from '../measure/latency.ts';
import { seriesInfo, type ServerSamples } from '../measure/sampler.ts';
import { ThroughputSeries, type SeriesSnapshot } from '../measure/series.ts';
import { collectEnvironment } from './environment.ts';
import type { InflightWindow } from './inflight.ts';
import type { LeaksReport } from './leaks.ts';
import { fmtUnit } from './format.ts';
import { REPORT_KIND, REPORT_VERSION, reportSchema, type CheckResult, type EnvironmentReport, type HerdReport, type LatencyMetricReport, type Report } from './schema.ts';
import { evaluateThresholds, type ThresholdSpec } from './thresholds.ts';
import type { Verdict, Witness } from '../checks/verdict.ts';
import { GUARANTEES, GUARANTEE_TITLES } from '../model/guarantees.ts';

/** What the report keeps of a checker's verdict. */
export type VerdictInput = Pick<Verdict, 'guarantee' | 'ok' | 'checked' | 'summary'> & {
  violations: readonly Pick<Witness, 'message' | 'trail' | 'faultWindow'>[];
  /** all violations found (the checker keeps a capped list of witnesses); the list's length when absent */
  violationCount?: number;
};

export interface ReportInput {
  scenario: string | { name: string; description?: string; suite?: string };
  seed: number | string;
  /** ms since the epoch */
  startedAt: number;
  endedAt: number;
  config?: Record<string, unknown>;
  /** a full environment, or fields laid over collectEnvironment()'s (provider, nodes, …) */
  environment?: EnvironmentReport | Partial<EnvironmentReport>;
  thresholds?: readonly ThresholdSpec[];
  verdicts?: readonly VerdictInput[];
  faults?: readonly FaultEvent[];
  /** merged recorders, or one merged snapshot */
  latency?: LatencySet | LatencySetSnapshot;
  series?: ThroughputSeries | SeriesSnapshot;
  server?: ServerSamples;
  http?: readonly HttpResult[];
  /** `error` answers by code, as the fleets counted them */
  errorsByCode?: Readonly<Record<string, number>>;
  /** close codes the devices' connections ended with */
  closesByCode?: Readonly<Record<string, number>>;
  /** in-flight windows as the inflight checker summed them up (harness/checks/inflight.ts) */
  inflight?: readonly InflightWindow[];
  /** the reconnect herd (harness/measure/herd.ts), when the run cut client connections */
  herd?: HerdReport | null;
  /** leak samples as harness/report/leaks.ts's leakReport() shapes them */
  leaks?: LeaksReport;
  notes?: readonly string[];
  /** why the run is incomplete (a fleet agent lost mid-run): the verdict cannot pass */
  incomplete?: readonly string[];
  /** what the run could not check, each with why (reported beside the verdict) */
  notChecked?: readonly string[];
  /** evidence kept per guarantee (default 50 violations, 200 facts per trail) */
  limits?: { violations?: number; trail?: number };
  /** run id; default <UTC time>-<scenario> */
  id?: string;
}

/** "2026-11-27T15-20-56Z": an ISO time usable in a file name, sorting like time. */
export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}

function toLatencySet(l: LatencySet | LatencySetSnapshot | undefined): LatencySet {
  if (l instanceof LatencySet) return l;
  const windowMs = l ? Object.values(l)[0]?.windowMs : undefined;
  const set = new LatencySet(windowMs ? { windowMs } : {});
  if (l) set.merge(l);
  return set;
}

function toSeries(s: ThroughputSeries | SeriesSnapshot | undefined): ThroughputSeries {
  if (s instanceof ThroughputSeries) return s;
  const series = new ThroughputSeries(s ? { intervalMs: s.intervalMs } : {});
  if (s) series.merge(s);
  return series;
}

/** JSON-safe copy (trails hold whatever the checkers put there). */
function plain<T>(x: T): T {
  return JSON.parse(JSON.stringify(x ?? null)) as T;
}

function checksFrom(verdicts: readonly VerdictInput[], limits: { violations: number; trail: number }): CheckResult[] {
  const order = (g: Verdict['guarantee']): number => GUARANTEES.indexOf(g);
  return [...verdicts]
    .sort((a, b) => order(a.guarantee) - order(b.guarantee))
    .map((v) => ({
      guarantee: v.guarantee,
      title: GUARANTEE_TITLES[v.guarantee],
      ok: v.ok,
      checked: v.checked,
      summary: v.summary,
      violations: v.violations.slice(0, limits.violations).map((x) => ({
        message: x.message,
        trail: plain(x.trail.slice(0, limits.trail)),
        faultWindow: plain(x.faultWindow),
      })),
      // the checker keeps at most a capped list of witnesses; the count is of all of them
      violationsTotal: v.violationCount ?? v.violations.length,
    }));
}

export function buildReport(input: ReportInput): Report {
  const scenario = typeof input.scenario === 'string' ? { name: input.scenario } : { ...input.scenario };
  const limits = { violations: input.limits?.violations ?? 50, trail: input.limits?.trail ?? 200 };
  const env = input.environment && 'hostname' in input.environment && 'node' in input.environment
    ? (input.environment as EnvironmentReport)
    : collectEnvironment(input.environment ?? {});

  const latency = toLatencySet(input.latency);
  const series = toSeries(input.series);

  // One time range for every over-time column, so charts line up with the fault timeline.
  const spans = [latency.windowMs, series.intervalMs];
  const step = Math.max(...spans);
  let from = input.startedAt;
  let to = input.endedAt;
  for (const m of LATENCY_METRICS) {
    const s = latency.get(m).span();
    if (s) {
      from = Math.min(from, s.first);
      to = Math.max(to, s.last + latency.windowMs);
    }
  }
  const ss = series.span();
  if (ss) {
    from = Math.min(from, ss.first);
    to = Math.max(to, ss.last + series.intervalMs);
  }
  from = Math.floor(from / step) * step;

  const metrics: LatencyMetricReport[] = [];
  for (const name of LATENCY_METRICS) {
    const r = latency.get(name);
    if (r.count === 0 && r.invalidCount === 0) continue;
    const s = r.summary();
    metrics.push({
      name,
      label: LATENCY_LABELS[name],
      count: s.count,
      invalid: r.invalidCount,
      min: s.min,
      mean: s.mean,
      stddev: s.stddev,
      max: s.max,
      percentiles: s.percentiles,
      distribution: r.distribution(),
      windows: r.windowSeries({ from, to }),
      histogram: { encoding: 'hdr-compressed-base64', unit: 'us', data: encodeHistogram(r.histogram()) },
    });
  }

  const cols = series.columns({ from, to });
  const server = input.server
    ? {
        intervalMs: input.server.intervalMs,
        startedAt: input.server.startedAt,
        endedAt: input.server.endedAt,
        series: Object.fromEntries(
          [...new Set(input.server.targets.flatMap((t) => Object.keys(t.values)))].sort().map((k) => [k, seriesInfo(k)]),
        ),
        targets: input.server.targets.map((t) => plain(t)),
      }
    : undefined;

  const faults = [...(input.faults ?? [])].sort((a, b) => a.start - b.start).map((f) => plain(f));
  const checks = checksFrom(input.verdicts ?? [], limits);
  const partial = {
    kind: REPORT_KIND,
    version: REPORT_VERSION,
    id: input.id ?? `${timeStamp(input.startedAt)}-${slug(scenario.name)}`,
    scenario,
    seed: input.seed,
    startedAt: input.startedAt,
    endedAt: input.endedAt,
    durationMs: input.endedAt - input.startedAt,
    config: plain(input.config ?? {}),
    environment: env,
    thresholds: [],
    checks,
    faults,
    latency: { windowMs: latency.windowMs, metrics },
    series: { intervalMs: cols.intervalMs, t: cols.t, counters: cols.counters, connections: cols.connections },
    ...(server ? { server } : {}),
    http: (input.http ?? []).map((h) => plain(h)),
    ...(input.herd ? { herd: plain(input.herd) } : {}),
    ...(input.errorsByCode ? { errorsByCode: { ...input.errorsByCode } } : {}),
    ...(input.closesByCode ? { closesByCode: { ...input.closesByCode } } : {}),
    ...(input.inflight ? { inflight: plain([...input.inflight]) } : {}),
    ...(input.leaks ? { leaks: plain(input.leaks) } : {}),
    limits,
    notes: [...(input.notes ?? [])],
    ...(input.incomplete?.length ? { incomplete: [...input.incomplete] } : {}),
    ...(input.notChecked?.length ? { notChecked: [...input.notChecked] } : {}),
  } satisfies Omit<Report, 'verdict'> as Omit<Report, 'verdict'>;

  const thresholds = evaluateThresholds(input.thresholds ?? [], partial);
  const failures = [
    ...(input.incomplete ?? []).map((x) => `run incomplete: ${x}`),
    ...thresholds.filter((t) => !t.pass).map((t) => `threshold ${t.name}: observed ${t.observed === null ? 'no data' : fmtUnit(t.observed, t.unit)}${t.note ? ` (${t.note})` : ''}`),
    ...checks.filter((c) => !c.ok).map((c) => `guarantee ${c.guarantee}: ${c.violationsTotal} violation(s); first: ${c.violations[0]?.message ?? c.summary}`),
  ];
  const report: Report = {
    ...partial,
    thresholds,
    verdict: {
      pass: failures.length === 0,
      thresholds: { total: thresholds.length, failed: thresholds.filter((t) => !t.pass).length },
      guarantees: { total: checks.length, failed: checks.filter((c) => !c.ok).length },
      failures,
    },
  };
  // Fail here, at the writer, rather than in whoever reads the file later.
  return reportSchema.parse(report);
}
