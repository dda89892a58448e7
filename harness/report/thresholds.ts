// Thresholds, k6 style: a scenario states "this metric, this operator, this limit"; the
// report answers each one with the observed value and pass/fail. Metrics are named by
// paths into the report (SCHEMA.md, "Metric paths"), e.g. `latency.sendToDelivered.p99`.
import { errorCodes } from '../../server/protocol/codes.ts';
import { HTTP_ROUTE_NAMES } from '../measure/http-load.ts';
import { LATENCY_METRICS } from '../measure/latency.ts';
import { NODE_SERIES, REDIS_SERIES } from '../measure/sampler.ts';
import { THROUGHPUT_COUNTERS } from '../measure/series.ts';
import { GUARANTEES } from '../model/guarantees.ts';
import type { Report, ThresholdOp, ThresholdResult } from './schema.ts';
import { maxOf, minOf } from '../util/extent.ts';

export interface Threshold {
  /** what people read; default "<metric> <op> <limit> <unit>" */
  name?: string;
  metric: string;
  op: ThresholdOp;
  limit: number;
}

/** A threshold object, or its text form "latency.sendToDelivered.p99 < 500" (k6's p(99) is accepted too). */
export type ThresholdSpec = Threshold | string;

/** The parts of a report metrics are read from. */
export type MetricSource = Pick<Report, 'latency' | 'series' | 'server' | 'http' | 'checks' | 'faults' | 'durationMs' | 'errorsByCode' | 'closesByCode' | 'herd'>;

const OPS: readonly ThresholdOp[] = ['<=', '>=', '==', '!=', '<', '>'];

/** "p(99.9)" → "p99.9" */
function normalizeMetric(metric: string): string {
  return metric.trim().replace(/p\((\d+(?:\.\d+)?)\)/g, 'p$1');
}

export function parseThreshold(spec: ThresholdSpec): Threshold {
  if (typeof spec !== 'string') {
    if (!OPS.includes(spec.op)) throw new Error(`threshold ${JSON.stringify(spec)}: op must be one of ${OPS.join(' ')}`);
    if (!Number.isFinite(spec.limit)) throw new Error(`threshold ${JSON.stringify(spec)}: limit must be a finite number`);
    return { ...spec, metric: normalizeMetric(spec.metric) };
  }
  const m = /^\s*(\S+?)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i.exec(spec);
  if (!m) throw new Error(`threshold "${spec}": expected "<metric path> <op> <number>", e.g. "latency.sendToDelivered.p99 < 500"`);
  return { metric: normalizeMetric(m[1]!), op: m[2] as ThresholdOp, limit: Number(m[3]) };
}

export function compareOp(observed: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}

const LATENCY_STATS = ['count', 'min', 'mean', 'stddev', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'p99.99'] as const;
const HTTP_STATS = ['p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'min', 'rps', 'total', 'sent', 'non2xx', 'errors', 'timeouts', 'non2xxRatio', 'errorRatio'] as const;
const SERVER_AGGS = ['min', 'max', 'mean', 'first', 'last', 'delta', 'total', 'gaps'] as const;
const SERIES_AGGS = ['total', 'mean', 'max', 'min', 'last'] as const;

/** A value, or why there is none. */
export type Resolved = { value: number; unit: string } | { value: null; unit: string; reason: string };

const none = (unit: string, reason: string): Resolved => ({ value: null, unit, reason });

function numbers(col: ReadonlyArray<number | null>): number[] {
  return col.filter((v): v is number => v !== null && Number.isFinite(v));
}

function aggregate(col: ReadonlyArray<number | null>, agg: string): number | null {
  const xs = numbers(col);
  if (xs.length === 0) return null;
  switch (agg) {
    case 'min':
      return minOf(xs);
    case 'max':
      return maxOf(xs);
    case 'mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'first':
      return xs[0]!;
    case 'last':
      return xs[xs.length - 1]!;
    case 'delta':
      return xs[xs.length - 1]! - xs[0]!;
    default:
      return null;
  }
}

function resolveLatency(src: MetricSource, rest: string): Resolved {
  const dot = rest.indexOf('.');
  const name = dot < 0 ? rest : rest.slice(0, dot);
  const stat = dot < 0 ? '' : rest.slice(dot + 1);
  if (!(LATENCY_STATS as readonly string[]).includes(stat)) return none('ms', `unknown latency stat "${stat}" (one of ${LATENCY_STATS.join(', ')})`);
  const m = src.latency.metrics.find((x) => x.name === name);
  const unit = stat === 'count' ? 'count' : 'ms';
  if (!m) return stat === 'count' ? { value: 0, unit } : none(unit, `no ${name} latencies recorded`);
  if (stat === 'count') return { value: m.count, unit };
  if (stat.startsWith('p')) return { value: m.percentiles[stat as keyof typeof m.percentiles], unit };
  return { value: m[stat as 'min' | 'mean' | 'stddev' | 'max'], unit };
}

function resolveSeries(src: MetricSource, rest: string): Resolved {
  const dot = rest.lastIndexOf('.');
  const name = rest.slice(0, dot);
  const agg = rest.slice(dot + 1);
  if (dot < 0 || !(SERIES_AGGS as readonly string[]).includes(agg)) return none('count', `unknown throughput aggregate in "${rest}" (one of ${SERIES_AGGS.join(', ')})`);
  const s = src.series;
  const col = name === 'connections' ? s.connections : s.counters[name];
  if (!col) return none('count', `no throughput counter "${name}"`);
  if (col.length === 0) return agg === 'total' ? { value: 0, unit: 'count' } : none('count', 'no throughput intervals recorded');
  if (name === 'connections') {
    if (agg === 'total') return none('count', 'connections is a level: use max, min, mean or last');
    return { value: aggregate(col, agg)!, unit: 'count' };
  }
  const total = col.reduce((a, b) => a + b, 0);
  const perSec = (n: number): number => n / (s.intervalMs / 1000);
  switch (agg) {
    case 'total':
      return { value: total, unit: 'count' };
    case 'mean':
      return { value: perSec(total / col.length), unit: 'per_s' };
    default:
      return { value: perSec(aggregate(col, agg)!), unit: 'per_s' };
  }
}

function resolveServer(src: MetricSource, rest: string): Resolved {
  const parts = rest.split('.');
  if (parts.length < 3) return none('count', `expected server.<target|*>.<series>.<aggregate>, got "server.${rest}"`);
  const target = parts[0]!;
  const agg = parts[parts.length - 1]!;
  const key = parts.slice(1, -1).join('.');
  const unit = src.server?.series[key]?.unit ?? (key.endsWith('PerSec') ? 'per_s' : 'count');
  if (!(SERVER_AGGS as readonly string[]).includes(agg)) return none(unit, `unknown server aggregate "${agg}" (one of ${SERVER_AGGS.join(', ')})`);
  if (!src.server) return none(unit, 'no server samples in this run');
  const targets = target === '*' ? src.server.targets.filter((x) => x.kind === 'node') : src.server.targets.filter((x) => x.target === target);
  if (targets.length === 0) return none(unit, target === '*' ? 'no nodes were sampled' : `no sampled target "${target}"`);
  const per: number[] = [];
  for (const tg of targets) {
    let v: number | null;
    if (agg === 'gaps') v = tg.gaps.length;
    else if (agg === 'total') v = tg.totals[key] ?? (tg.values[key] ? 0 : null);
    else v = tg.values[key] ? aggregate(tg.values[key], agg) : null;
    if (v !== null) per.push(v);
  }
  if (per.length === 0) return none(unit, `no samples of "${key}"`);
  const out = agg === 'gaps' || agg === 'total' ? per.reduce((a, b) => a + b, 0) : agg === 'min' ? Math.min(...per) : Math.max(...per);
  return { value: out, unit: agg === 'gaps' ? 'count' : agg === 'total' ? 'count' : unit };
}

function resolveHttp(src: MetricSource, rest: string): Resolved {
  const dot = rest.indexOf('.');
  const name = rest.slice(0, dot);
  const stat = rest.slice(dot + 1);
  if (dot < 0 || !(HTTP_STATS as readonly string[]).includes(stat)) return none('ms', `unknown http stat in "${rest}" (one of ${HTTP_STATS.join(', ')})`);
  const h = src.http.find((x) => x.name === name);
  const unit = ['rps'].includes(stat) ? 'per_s' : stat.endsWith('Ratio') ? 'ratio' : ['total', 'sent', 'non2xx', 'errors', 'timeouts'].includes(stat) ? 'count' : 'ms';
  if (!h) return none(unit, `no HTTP run named "${name}"`);
  switch (stat) {
    case 'rps':
      return { value: h.rps.mean, unit };
    case 'total':
    case 'sent':
    case 'non2xx':
    case 'errors':
    case 'timeouts':
      return { value: h[stat], unit };
    case 'non2xxRatio':
      return { value: h.total === 0 ? 0 : h.non2xx / h.total, unit };
    case 'errorRatio':
      return { value: h.sent === 0 ? 0 : (h.non2xx + h.errors) / h.sent, unit };
    default:
      return { value: h.latency[stat as keyof HttpLatency], unit };
  }
}
type HttpLatency = Report['http'][number]['latency'];

/** Run-wide figures of the herd section: `herd.<name>`. */
const HERD_RUN = ['cuts', 'peakAttemptsPerSec', 'peakWelcomesPerSec', 'peakAcceptsPerSec'] as const;
/** Per-cut figures, aggregated over the cuts: `herd.<stat>.<min|max|mean|total>`. */
const HERD_CUT_STATS = ['connected', 'dropped', 'droppedRatio', 'notBack', 'attempts', 'welcomedP50Ms', 'welcomedP99Ms', 'syncedP50Ms', 'syncedP99Ms', 'syncedMaxMs', 'peakWelcomesPerSec', 'peakAcceptsPerSec'] as const;
const HERD_AGGS = ['min', 'max', 'mean', 'total'] as const;
type HerdCut = NonNullable<Report['herd']>['cuts'][number];

function herdCutValue(c: HerdCut, stat: (typeof HERD_CUT_STATS)[number]): number | null {
  switch (stat) {
    case 'welcomedP50Ms':
      return c.welcomedMs.p50;
    case 'welcomedP99Ms':
      return c.welcomedMs.p99;
    case 'syncedP50Ms':
      return c.syncedMs.p50;
    case 'syncedP99Ms':
      return c.syncedMs.p99;
    case 'syncedMaxMs':
      return c.syncedMs.max;
    default:
      return c[stat];
  }
}

function resolveHerd(src: MetricSource, rest: string): Resolved {
  const [stat, agg] = rest.split('.');
  const unit = stat?.endsWith('Ms') ? 'ms' : stat?.endsWith('PerSec') ? 'per_s' : stat === 'droppedRatio' ? 'ratio' : 'count';
  const h = src.herd;
  if ((HERD_RUN as readonly string[]).includes(stat ?? '') && agg === undefined) {
    if (stat === 'cuts') return { value: h?.cuts.length ?? 0, unit };
    if (!h) return none(unit, 'no herd section: the run cut no client connections');
    const v = h[stat as Exclude<(typeof HERD_RUN)[number], 'cuts'>];
    return v === null ? none(unit, 'no server samples of acceptsPerSec') : { value: v, unit };
  }
  if (!(HERD_CUT_STATS as readonly string[]).includes(stat ?? '') || !(HERD_AGGS as readonly string[]).includes(agg ?? '')) {
    return none(unit, `expected herd.<${HERD_RUN.join('|')}> or herd.<cut stat>.<${HERD_AGGS.join('|')}>, got "herd.${rest}"`);
  }
  if (!h || !h.cuts.length) return none(unit, 'no herd section: the run cut no client connections');
  const values: number[] = [];
  for (const [i, c] of h.cuts.entries()) {
    const v = herdCutValue(c, stat as (typeof HERD_CUT_STATS)[number]);
    // a share of devices that never came back has no time: the threshold cannot hold
    if (v === null) return none(unit, `cut ${i + 1} (${c.faults[0] ?? '?'}…) has no ${stat}: too few of its ${c.dropped} dropped devices were back before the final sync (${c.notBack} not back)`);
    values.push(v);
  }
  switch (agg) {
    case 'min':
      return { value: Math.min(...values), unit };
    case 'max':
      return { value: Math.max(...values), unit };
    case 'mean':
      return { value: values.reduce((a, b) => a + b, 0) / values.length, unit };
    default:
      return { value: values.reduce((a, b) => a + b, 0), unit };
  }
}

function resolveChecks(src: MetricSource, rest: string): Resolved {
  if (rest === 'violations') return { value: src.checks.reduce((a, c) => a + c.violationsTotal, 0), unit: 'count' };
  if (rest === 'failed') return { value: src.checks.filter((c) => !c.ok).length, unit: 'count' };
  const [g, stat] = rest.split('.');
  if (!(GUARANTEES as readonly string[]).includes(g ?? '')) return none('count', `unknown guarantee "${g}" (one of ${GUARANTEES.join(', ')})`);
  const c = src.checks.find((x) => x.guarantee === g);
  if (!c) return none('count', `guarantee "${g}" was not checked in this run`);
  if (stat === 'violations') return { value: c.violationsTotal, unit: 'count' };
  if (stat === 'checked') return { value: c.checked, unit: 'count' };
  if (stat === 'ok') return { value: c.ok ? 1 : 0, unit: 'bool' };
  return none('count', `unknown check stat "${stat}" (violations, checked, ok)`);
}

/**
 * Why `metric` can never name a value in a report (a typo: an unknown head, metric,
 * counter, series, route, guarantee, code or statistic), or null when it can. Checked when
 * a scenario is defined, so a misspelt threshold fails before the run, not after it.
 */
export function metricPathProblem(metric: string): string | null {
  const path = normalizeMetric(metric);
  const parts = path.split('.');
  const [head] = parts;
  const oneOf = (what: string, got: string | undefined, known: readonly string[]) => (got !== undefined && known.includes(got) ? null : `${what} "${got ?? ''}" in "${metric}" is not one of ${known.join(', ')}`);
  const tail = (n: number) => parts.slice(n).join('.');
  switch (head) {
    case 'latency':
      return oneOf('latency metric', parts[1], LATENCY_METRICS) ?? oneOf('latency statistic', tail(2), LATENCY_STATS);
    case 'throughput':
      return oneOf('throughput counter', parts[1], [...Object.keys(THROUGHPUT_COUNTERS), 'connections']) ?? oneOf('throughput aggregate', tail(2), SERIES_AGGS);
    case 'server': {
      const target = parts[1] ?? '';
      if (!/^(\*|redis|node-\d+)$/.test(target)) return `server target "${target}" in "${metric}" must be *, redis or node-N`;
      const keys = target === 'redis' ? REDIS_SERIES.map((s) => s.key) : NODE_SERIES.map((s) => s.key);
      return oneOf(`${target === 'redis' ? 'Redis' : 'node'} series`, parts.slice(2, -1).join('.') || undefined, keys) ?? oneOf('server aggregate', parts.length > 3 ? parts.at(-1) : undefined, SERVER_AGGS);
    }
    case 'http':
      return oneOf('HTTP route', parts[1], HTTP_ROUTE_NAMES) ?? oneOf('HTTP statistic', tail(2), HTTP_STATS);
    case 'checks':
      if (parts.length === 2) return oneOf('checks total', parts[1], ['violations', 'failed']);
      return oneOf('guarantee', parts[1], GUARANTEES) ?? oneOf('check statistic', tail(2), ['violations', 'checked', 'ok']);
    case 'errors':
      return oneOf('error code', tail(1), Object.keys(errorCodes));
    case 'closes':
      return /^\d{4}$/.test(tail(1)) ? null : `"${metric}": expected closes.<WebSocket close code>, e.g. closes.4408`;
    case 'faults':
      return path === 'faults.count' ? null : `"${metric}": faults has only .count`;
    case 'run':
      return path === 'run.durationSec' ? null : `"${metric}": run has only .durationSec`;
    case 'herd':
      if (parts.length === 2) return oneOf('herd figure', parts[1], HERD_RUN);
      return oneOf('herd cut statistic', parts[1], HERD_CUT_STATS) ?? oneOf('herd aggregate over the cuts', tail(2), HERD_AGGS);
    default:
      return `unknown metric path "${metric}" (latency., throughput., server., http., checks., errors., closes., herd., faults.count, run.durationSec)`;
  }
}

/** The value of a metric path in a report. */
export function resolveMetric(src: MetricSource, metric: string): Resolved {
  const path = normalizeMetric(metric);
  const dot = path.indexOf('.');
  const head = dot < 0 ? path : path.slice(0, dot);
  const rest = dot < 0 ? '' : path.slice(dot + 1);
  switch (head) {
    case 'latency':
      return resolveLatency(src, rest);
    case 'throughput':
      return resolveSeries(src, rest);
    case 'server':
      return resolveServer(src, rest);
    case 'http':
      return resolveHttp(src, rest);
    case 'checks':
      return resolveChecks(src, rest);
    case 'errors':
      // a code no device got is 0, not "no data": a threshold like `errors.internal == 0` holds then
      return /^[a-z_]+$/.test(rest) ? { value: src.errorsByCode?.[rest] ?? 0, unit: 'count' } : none('count', `expected errors.<code> (e.g. errors.unavailable), got "${metric}"`);
    case 'closes':
      // a code no connection ended with is 0: `closes.4408 == 0` holds then
      return /^\d{4}$/.test(rest) ? { value: src.closesByCode?.[rest] ?? 0, unit: 'count' } : none('count', `expected closes.<code> (e.g. closes.4408), got "${metric}"`);
    case 'faults':
      return rest === 'count' ? { value: src.faults.length, unit: 'count' } : none('count', 'faults has only .count');
    case 'run':
      return rest === 'durationSec' ? { value: src.durationMs / 1000, unit: 's' } : none('s', 'run has only .durationSec');
    case 'herd':
      return resolveHerd(src, rest);
    default:
      return none('', `unknown metric path "${metric}" (latency., throughput., server., http., checks., errors., herd., faults.count, run.durationSec)`);
  }
}

function fmtLimit(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

export function evaluateThreshold(spec: ThresholdSpec, src: MetricSource): ThresholdResult {
  const t = parseThreshold(spec);
  const r = resolveMetric(src, t.metric);
  const unit = r.unit || undefined;
  const name = t.name ?? `${t.metric} ${t.op} ${fmtLimit(t.limit)}${unit && unit !== 'count' && unit !== 'bool' ? ` ${unit}` : ''}`;
  if (r.value === null) return { name, metric: t.metric, op: t.op, limit: t.limit, unit, observed: null, pass: false, note: r.reason };
  const observed = Math.round(r.value * 1000) / 1000;
  return { name, metric: t.metric, op: t.op, limit: t.limit, unit, observed, pass: compareOp(r.value, t.op, t.limit) };
}

export function evaluateThresholds(specs: readonly ThresholdSpec[], src: MetricSource): ThresholdResult[] {
  return specs.map((s) => evaluateThreshold(s, src));
}
