// `imstorm compare <a> <b>`: a regression table between two runs (a = baseline,
// b = candidate) that fails when a metric moved the wrong way by more than its rule allows.
import { LATENCY_METRICS } from '../measure/latency.ts';
import { fmtNumber, fmtUnit, mdCell } from './format.ts';
import type { Report } from './schema.ts';
import { resolveMetric } from './thresholds.ts';

export interface RegressionRule {
  /** metric path, as in thresholds (e.g. latency.sendToDelivered.p99) */
  metric: string;
  /** lower: an increase is a regression (latency, memory); higher: a decrease is (throughput) */
  better: 'lower' | 'higher';
  /** largest change in the wrong direction that still passes, in % of a */
  maxChangePct: number;
  /** changes smaller than this (in the metric's unit) always pass: keeps noise on tiny values out */
  minAbsChange?: number;
}

/**
 * A rule, or its text form: "<metric> +10%" (fails if it rises more than 10%) or
 * "<metric> -10%" (fails if it falls more than 10%); an optional "(±2)" sets minAbsChange.
 */
export type RuleSpec = RegressionRule | string;

export interface CompareRow {
  metric: string;
  unit: string;
  a: number | null;
  b: number | null;
  /** (b − a) / |a| in %; null when either side is missing; ±Infinity when a = 0 ≠ b */
  deltaPct: number | null;
  /** the rule, e.g. "+10%" or "−10% (±1)" */
  limit: string;
  pass: boolean;
  note?: string;
}

export interface Comparison {
  a: { id: string; scenario: string; seed: number | string };
  b: { id: string; scenario: string; seed: number | string };
  rows: CompareRow[];
  pass: boolean;
}

export function parseRule(spec: RuleSpec): RegressionRule {
  if (typeof spec !== 'string') return spec;
  const m = /^\s*(\S+)\s+([+-])\s*(\d+(?:\.\d+)?)\s*%\s*(?:\(\s*±?\s*(\d+(?:\.\d+)?)\s*\))?\s*$/.exec(spec);
  if (!m) throw new Error(`regression rule "${spec}": expected "<metric> +N%" or "<metric> -N%" (optionally "(±abs)")`);
  return { metric: m[1]!, better: m[2] === '+' ? 'lower' : 'higher', maxChangePct: Number(m[3]), ...(m[4] ? { minAbsChange: Number(m[4]) } : {}) };
}

/**
 * Rules for the metrics both runs can have: p50 and p99 of each latency up ≤ 10% (±1 ms),
 * each HTTP route's p99 up ≤ 10% (±1 ms) and req/s down ≤ 10%, deliveries/s down ≤ 10%,
 * peak RSS up ≤ 10% (±8 MiB), peak event-loop lag up ≤ 25% (±5 ms), the longest event-loop
 * delay up ≤ 50% (±20 ms) when either run sampled it, and no new violations.
 */
export function defaultRules(a: Report, b: Report): RegressionRule[] {
  const rules: RegressionRule[] = [];
  const latency = new Set([...a.latency.metrics, ...b.latency.metrics].map((m) => m.name));
  for (const m of LATENCY_METRICS) {
    if (!latency.has(m)) continue;
    rules.push({ metric: `latency.${m}.p50`, better: 'lower', maxChangePct: 10, minAbsChange: 1 });
    rules.push({ metric: `latency.${m}.p99`, better: 'lower', maxChangePct: 10, minAbsChange: 1 });
  }
  for (const name of new Set([...a.http, ...b.http].map((x) => x.name))) {
    rules.push({ metric: `http.${name}.p99`, better: 'lower', maxChangePct: 10, minAbsChange: 1 });
    rules.push({ metric: `http.${name}.rps`, better: 'higher', maxChangePct: 10 });
  }
  if (a.series.t.length || b.series.t.length) rules.push({ metric: 'throughput.deliveries.mean', better: 'higher', maxChangePct: 10 });
  if (a.server || b.server) {
    rules.push({ metric: 'server.*.rssBytes.max', better: 'lower', maxChangePct: 10, minAbsChange: 8 * 1024 * 1024 });
    rules.push({ metric: 'server.*.eventLoopLagMs.max', better: 'lower', maxChangePct: 25, minAbsChange: 5 });
    // Reports from before the gauge (2026-12-07) have no such series: no row then, rather than
    // one saying "in neither run". A single worst turn moves more between runs than a p99
    // (hostile-ci: 58–110 ms over six runs of the same code), hence the wider limits.
    if (sampled(a, 'eventLoopDelayMaxMs') || sampled(b, 'eventLoopDelayMaxMs')) {
      rules.push({ metric: 'server.*.eventLoopDelayMaxMs.max', better: 'lower', maxChangePct: 50, minAbsChange: 20 });
    }
  }
  rules.push({ metric: 'checks.violations', better: 'lower', maxChangePct: 0 });
  return rules;
}

function sampled(r: Report, series: string): boolean {
  return r.server?.targets.some((t) => t.kind === 'node' && t.values[series] !== undefined) ?? false;
}

function limitText(r: RegressionRule, unit: string): string {
  const pct = `${r.better === 'lower' ? '+' : '−'}${fmtNumber(r.maxChangePct)}%`;
  return r.minAbsChange !== undefined ? `${pct} (±${fmtUnit(r.minAbsChange, unit)})` : pct;
}

export function compareRow(a: Report, b: Report, rule: RegressionRule): CompareRow {
  const ra = resolveMetric(a, rule.metric);
  const rb = resolveMetric(b, rule.metric);
  const unit = ra.unit || rb.unit;
  const base = { metric: rule.metric, unit, a: ra.value, b: rb.value, limit: limitText(rule, unit) };
  if (ra.value === null || rb.value === null) {
    const note = ra.value === null && rb.value === null ? 'in neither run' : ra.value === null ? 'not in run a' : 'not in run b';
    return { ...base, deltaPct: null, pass: true, note };
  }
  const diff = rb.value - ra.value;
  const deltaPct = ra.value === 0 ? (diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity) : (diff / Math.abs(ra.value)) * 100;
  const worse = rule.better === 'lower' ? deltaPct : -deltaPct;
  const withinAbs = rule.minAbsChange !== undefined && Math.abs(diff) <= rule.minAbsChange;
  const pass = worse <= rule.maxChangePct || withinAbs;
  return { ...base, deltaPct: Number.isFinite(deltaPct) ? Math.round(deltaPct * 100) / 100 : deltaPct, pass, ...(withinAbs && worse > rule.maxChangePct ? { note: 'within absolute tolerance' } : {}) };
}

/** Compares run b against baseline a, metric by metric (default rules when none are given). */
export function compare(a: Report, b: Report, rules?: readonly RuleSpec[]): Comparison {
  const parsed = rules && rules.length ? rules.map(parseRule) : defaultRules(a, b);
  const rows = parsed.map((r) => compareRow(a, b, r));
  const who = (r: Report): Comparison['a'] => ({ id: r.id, scenario: r.scenario.name, seed: r.seed });
  return { a: who(a), b: who(b), rows, pass: rows.every((r) => r.pass) };
}

function deltaText(d: number | null): string {
  if (d === null) return '—';
  if (!Number.isFinite(d)) return d > 0 ? '+∞%' : '−∞%';
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${fmtNumber(Math.abs(d))}%`;
}

function cells(r: CompareRow): string[] {
  return [r.metric, fmtUnit(r.a, r.unit), fmtUnit(r.b, r.unit), deltaText(r.deltaPct), r.limit, r.pass ? 'pass' : 'FAIL', r.note ?? ''];
}

const HEAD = ['metric', 'a', 'b', 'delta', 'limit', 'result', 'note'];

/** A plain-text table for terminals. */
export function formatComparisonText(c: Comparison): string {
  const rows = [HEAD, ...c.rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const right = new Set([1, 2, 3]);
  const line = (r: string[]): string => r.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const failed = c.rows.filter((r) => !r.pass).length;
  return [
    `a (baseline):  ${c.a.id} (${c.a.scenario}, seed ${c.a.seed})`,
    `b (candidate): ${c.b.id} (${c.b.scenario}, seed ${c.b.seed})`,
    '',
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    c.pass ? `PASS: no regression beyond the limits (${c.rows.length} metrics)` : `FAIL: ${failed} of ${c.rows.length} metrics regressed beyond their limits`,
  ].join('\n');
}

/** A Markdown table (CI job summaries, PR comments). */
export function formatComparisonMarkdown(c: Comparison): string {
  const failed = c.rows.filter((r) => !r.pass).length;
  return [
    `## imstorm compare: ${c.pass ? '✅ no regression' : `❌ ${failed} regression(s)`}`,
    '',
    `a (baseline): \`${mdCell(c.a.id)}\` · b (candidate): \`${mdCell(c.b.id)}\``,
    '',
    '| metric | a | b | delta | limit | result |',
    '|---|--:|--:|--:|--:|---|',
    ...c.rows.map((r) => {
      const [metric, a, b, d, limit] = cells(r);
      return `| \`${mdCell(metric!)}\` | ${mdCell(a!)} | ${mdCell(b!)} | ${mdCell(d!)} | ${mdCell(limit!)} | ${r.pass ? '✅' : '❌ **FAIL**'}${r.note ? ` ${mdCell(r.note)}` : ''} |`;
    }),
    '',
  ].join('\n');
}
