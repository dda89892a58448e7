// report.html: one self-contained page (uPlot's JS and CSS inlined, no network). The
// verdict table comes first; then the fault timeline, latency, throughput, server and
// HTTP sections. Tables are plain HTML (readable without JS); charts are drawn by uPlot
// from data embedded in the page, by the script in assets/report.js (inlined here).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chartSpecs, faultEnd, seriesCounted, type ChartSpec } from './charts.ts';
import { closeCodes, errorCodes, escapeHtml as h, fmtBytes, fmtClock, fmtDuration, fmtMs, fmtNumber, fmtOp, fmtTime, fmtUnit } from './format.ts';
import { inflightHtml } from './inflight.ts';
import { leaksHtml } from './leaks.ts';
import type { Report } from './schema.ts';
import { maxOf } from '../util/extent.ts';

let uplotAssets: { js: string; css: string } | undefined;

/** uPlot's minified IIFE build and CSS, read once from node_modules/uplot/dist. */
export function uplotSources(): { js: string; css: string } {
  if (!uplotAssets) {
    const dist = path.dirname(createRequire(import.meta.url).resolve('uplot'));
    uplotAssets = {
      js: readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

let reportScriptSource: string | undefined;

/** The page's own script (assets/report.js: draws the charts), read once. */
export function reportScript(): string {
  reportScriptSource ??= readFileSync(new URL('./assets/report.js', import.meta.url), 'utf8');
  return reportScriptSource;
}

/** Text safe inside <script>: no "</script", no U+2028/2029 surprises. */
function scriptSafe(s: string): string {
  return s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function jsonForScript(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const badge = (pass: boolean): string => (pass ? '<span class="badge pass">✔ PASS</span>' : '<span class="badge fail">✘ FAIL</span>');

function since(r: Report, t: number, digits = 1): string {
  const d = (t - r.startedAt) / 1000;
  return `${d >= 0 ? '+' : '−'}${fmtNumber(Math.abs(d), digits)} s`;
}

const TIME_KEYS = ['at', 'intendedAt', 'sentAt', 'answeredAt', 'start', 'end'];

/**
 * One trail item as a line people can scan: its time as an offset from the run's start,
 * its kind, then key=value pairs (times as offsets too). Non-fact items are shown as JSON.
 */
function trailLine(r: Report, item: unknown): string {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return h(JSON.stringify(item));
  const o = item as Record<string, unknown>;
  const isTime = (k: string, v: unknown): v is number => TIME_KEYS.includes(k) && typeof v === 'number' && v > 1e11;
  const when = TIME_KEYS.map((k) => o[k]).find((v, i) => isTime(TIME_KEYS[i]!, v)) as number | undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'k' || v === undefined) continue;
    parts.push(`${h(k)}=${isTime(k, v) ? since(r, v, 3) : h(typeof v === 'string' ? v : JSON.stringify(v))}`);
  }
  const head = `<span class="t">${when !== undefined ? since(r, when, 3).padStart(10) : ''.padStart(10)}</span>`;
  return `${head}  ${typeof o['k'] === 'string' ? `<span class="k">${h(o['k'].padEnd(8))}</span>` : ''}${parts.join(' ')}`;
}

function witnessHtml(r: Report, v: Report['checks'][number]['violations'][number], i: number): string {
  const faults = v.faultWindow.length
    ? `<ul class="faults">${v.faultWindow.map((f) => `<li><b>${h(f.kind)}</b> on ${h(f.target)}: ${fmtClock(f.start)} (${since(r, f.start)})${f.end !== undefined ? ` → ${fmtClock(f.end)} (${fmtDuration(f.end - f.start)})` : ''}</li>`).join('')}</ul>`
    : '<p class="muted">No fault overlapped this violation.</p>';
  const trail = v.trail.length ? `<pre class="trail">${v.trail.map((x) => trailLine(r, x)).join('\n')}</pre>` : '<p class="muted">No trail recorded.</p>';
  return `<details class="witness"${i === 0 ? ' open' : ''}><summary>${h(v.message)}</summary><div class="witness-body"><h4>Fault window</h4>${faults}<h4>Trail (${v.trail.length} facts, oldest first; times from the run's start)</h4>${trail}</div></details>`;
}

function verdictTable(r: Report): string {
  const rows: string[] = [];
  if (r.thresholds.length) {
    rows.push('<tr class="group"><th colspan="4">Thresholds</th></tr>');
    for (const t of r.thresholds) {
      rows.push(
        `<tr class="${t.pass ? 'ok' : 'bad'}"><td>${badge(t.pass)}</td><td>${h(t.name)}<div class="muted mono">${h(t.metric)}</div></td>` +
          `<td class="num">${t.observed === null ? `<span class="muted">no data</span>` : h(fmtUnit(t.observed, t.unit))}${t.note ? `<div class="muted">${h(t.note)}</div>` : ''}</td>` +
          `<td class="num">${h(fmtOp(t.op))} ${h(fmtUnit(t.limit, t.unit))}</td></tr>`,
      );
    }
  }
  if (r.checks.length) {
    rows.push('<tr class="group"><th colspan="4">Guarantees</th></tr>');
    for (const c of r.checks) {
      rows.push(
        `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${badge(c.ok)}</td><td><b>${h(c.guarantee)}</b> — ${h(c.title)}<div class="muted">${h(c.summary)}</div></td>` +
          `<td class="num">${fmtNumber(c.violationsTotal)} violation${c.violationsTotal === 1 ? '' : 's'}<div class="muted">${fmtNumber(c.checked)} checked</div></td><td class="num">0 violations</td></tr>`,
      );
      if (c.violations.length) {
        const more = c.violationsTotal > c.violations.length ? `<p class="muted">${c.violationsTotal - c.violations.length} more violation(s) not kept in the report (limit ${r.limits.violations}).</p>` : '';
        rows.push(`<tr class="witnesses"><td></td><td colspan="3"><div class="muted">Witnesses (click to expand):</div>${c.violations.map((v, i) => witnessHtml(r, v, i)).join('')}${more}</td></tr>`);
      }
    }
  }
  if (!rows.length) return '<p class="empty">This run stated no thresholds and ran no checkers.</p>';
  return `<table class="verdict"><colgroup><col class="result"><col><col class="obs"><col class="limit"></colgroup><thead><tr><th>Result</th><th>Check</th><th class="num">Observed</th><th class="num">Limit</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function faultTable(r: Report): string {
  if (!r.faults.length) return '<p class="empty">No faults were injected in this run.</p>';
  const rows = r.faults.map((f, i) => {
    const e = faultEnd(f, r.endedAt);
    const end = e.instant ? '<span class="muted">instant</span>' : e.healed ? `${fmtClock(e.end)} (${since(r, e.end)})` : '<span class="bad-text">not healed by the end</span>';
    return `<tr><td><span class="fault-tag">F${i + 1}</span></td><td class="mono">${h(f.kind)}</td><td class="mono">${h(f.target)}</td><td>${fmtClock(f.start)} <span class="muted">(${since(r, f.start)})</span></td><td>${end}</td><td class="num">${e.instant ? '—' : fmtDuration(e.end - f.start)}</td><td class="mono small">${f.detail ? h(JSON.stringify(f.detail)) : ''}</td></tr>`;
  });
  return `<table><thead><tr><th>#</th><th>kind</th><th>target</th><th>start (UTC)</th><th>healed</th><th class="num">duration</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function latencyTable(r: Report): string {
  if (!r.latency.metrics.length) return '<p class="empty">No latencies were recorded in this run.</p>';
  const rows = r.latency.metrics.map(
    (m) =>
      `<tr><td>${h(m.label)}<div class="muted mono">latency.${h(m.name)}</div></td><td class="num">${fmtNumber(m.count)}</td><td class="num">${fmtMs(m.min)}</td><td class="num">${fmtMs(m.percentiles.p50)}</td><td class="num">${fmtMs(m.percentiles.p90)}</td><td class="num">${fmtMs(m.percentiles.p99)}</td><td class="num">${fmtMs(m.percentiles['p99.9'])}</td><td class="num">${fmtMs(m.max)}</td><td class="num">${fmtMs(m.mean)}</td></tr>`,
  );
  return `<table><thead><tr><th>metric</th><th class="num">count</th><th class="num">min</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">mean</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function throughputTable(r: Report): string {
  const s = r.series;
  if (!seriesCounted(r)) return '<p class="empty">No throughput was counted in this run.</p>';
  const perSec = s.intervalMs / 1000;
  const rows = Object.entries(s.counters)
    .filter(([, col]) => col.some((n) => n > 0))
    .map(([name, col]) => {
      const total = col.reduce((a, b) => a + b, 0);
      return `<tr><td class="mono">${h(name)}</td><td class="num">${fmtNumber(total)}</td><td class="num">${fmtNumber(total / col.length / perSec)}/s</td><td class="num">${fmtNumber(maxOf(col) / perSec)}/s</td></tr>`;
    });
  const codes = errorCodes(r);
  if (codes) rows.push(`<tr><td class="mono">error answers by code (every attempt)</td><td class="num" colspan="3">${h(codes)}</td></tr>`);
  const closes = closeCodes(r);
  if (closes) rows.push(`<tr><td class="mono">connection closes by code (as devices saw them)</td><td class="num" colspan="3">${h(closes)}</td></tr>`);
  rows.push(`<tr><td class="mono">connections (open)</td><td class="num">—</td><td class="num">—</td><td class="num">peak ${fmtNumber(Math.max(0, maxOf(s.connections)))}</td></tr>`);
  return `<table><thead><tr><th>counter</th><th class="num">total</th><th class="num">mean</th><th class="num">peak</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function herdTable(r: Report): string {
  const hd = r.herd;
  if (!hd) return '<p class="empty">No client connections were cut in this run.</p>';
  const pct = (x: number | null) => (x === null ? '<span class="bad-text">not reached</span>' : fmtMs(x));
  const rows = hd.cuts.map(
    (c, i) =>
      `<tr><td>${i + 1}</td><td>${fmtClock(c.at)} <span class="muted">(${since(r, c.at)})</span><div class="mono small">${c.faults.map((f) => h(f)).join('<br>')}</div></td><td class="num">${fmtNumber(c.connected)}</td><td class="num">${fmtNumber(c.dropped)} <span class="muted">(${fmtNumber(c.droppedRatio * 100, 1)}%)</span></td><td class="num">${pct(c.welcomedMs.p50)} / ${pct(c.welcomedMs.p99)}</td><td class="num">${pct(c.syncedMs.p50)} / ${pct(c.syncedMs.p99)} / ${pct(c.syncedMs.max)}</td><td class="num${c.notBack ? ' bad-text' : ''}">${fmtNumber(c.notBack)}</td><td class="num">${fmtNumber(c.attempts)}</td><td class="num">${fmtNumber(c.peakWelcomesPerSec)}/s</td><td class="num">${c.peakAcceptsPerSec === null ? '—' : `${fmtNumber(c.peakAcceptsPerSec)}/s`}</td></tr>`,
  );
  return `<p>Peak over the run: ${fmtNumber(hd.peakAttemptsPerSec)} connection attempts/s, ${fmtNumber(hd.peakWelcomesPerSec)} welcomes/s (fleet, best 1 s window); the nodes accepted at most ${hd.peakAcceptsPerSec === null ? '— (not sampled)' : `${fmtNumber(hd.peakAcceptsPerSec)} upgrades/s`} (summed over nodes, per 1 s sample).</p>` +
    `<table><thead><tr><th>cut</th><th>when, faults</th><th class="num">connected</th><th class="num">dropped</th><th class="num">welcomed again 50% / 99%</th><th class="num">synced again 50% / 99% / all</th><th class="num">not back</th><th class="num">attempts</th><th class="num">peak welcomes</th><th class="num">peak accepts (server)</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    '<p class="muted">Times are from the cut\'s start until that share of the dropped devices was welcomed, and synced (backlog replayed), again; "not reached": fewer came back before the final sync.</p>';
}

function serverTable(r: Report): string {
  const server = r.server;
  if (!server || !server.targets.length) return '<p class="empty">The server was not sampled in this run.</p>';
  const stat = (col: ReadonlyArray<number | null> | undefined, f: (xs: number[]) => number): number | null => {
    const xs = (col ?? []).filter((v): v is number => v !== null);
    return xs.length ? f(xs) : null;
  };
  const max = (xs: number[]): number => maxOf(xs);
  const first = (xs: number[]): number => xs[0]!;
  const last = (xs: number[]): number => xs[xs.length - 1]!;
  const nodeRows = server.targets
    .filter((t) => t.kind === 'node')
    .map((t) => {
      const v = t.values;
      return `<tr><td class="mono">${h(t.target)}</td><td class="num">${t.t.length}</td><td class="num ${t.gaps.length ? 'bad-text' : ''}">${t.gaps.length}</td><td class="num">${fmtNumber(stat(v['connections'], max))}</td><td class="num">${fmtBytes(stat(v['rssBytes'], max))}</td><td class="num">${fmtBytes(stat(v['heapUsedBytes'], max))}</td><td class="num">${fmtNumber(stat(v['openFds'], first))} → ${fmtNumber(stat(v['openFds'], last))}</td><td class="num">${fmtMs(stat(v['eventLoopLagMs'], max))}</td><td class="num">${fmtNumber(t.totals['sendsPerSec'] ?? null)}</td><td class="num">${fmtNumber(t.totals['errorsPerSec'] ?? null)}</td></tr>`;
    });
  const redis = server.targets.filter((t) => t.kind === 'redis');
  const redisRows = redis.map((t) => `<tr><td class="mono">${h(t.target)}</td><td class="num">${t.t.length}</td><td class="num ${t.gaps.length ? 'bad-text' : ''}">${t.gaps.length}</td><td class="num">${fmtBytes(stat(t.values['usedMemoryBytes'], max))}</td><td class="num">${fmtNumber(stat(t.values['opsPerSec'], max))}/s</td><td class="num">${fmtNumber(stat(t.values['connectedClients'], max))}</td></tr>`);
  const gaps = server.targets.flatMap((t) => t.gaps.slice(0, 5).map((g) => `<li><span class="mono">${h(t.target)}</span> ${fmtClock(g.t)} (${since(r, g.t)}): ${h(g.error)}</li>`));
  const totalGaps = server.targets.reduce((a, t) => a + t.gaps.length, 0);
  return (
    (nodeRows.length
      ? `<table><thead><tr><th>node</th><th class="num">samples</th><th class="num">gaps</th><th class="num">peak connections</th><th class="num">peak RSS</th><th class="num">peak heap</th><th class="num">fds first → last</th><th class="num">peak lag</th><th class="num">stored msgs</th><th class="num">error replies</th></tr></thead><tbody>${nodeRows.join('')}</tbody></table>`
      : '') +
    (redisRows.length
      ? `<table><thead><tr><th>redis</th><th class="num">samples</th><th class="num">gaps</th><th class="num">peak used_memory</th><th class="num">peak ops</th><th class="num">peak clients</th></tr></thead><tbody>${redisRows.join('')}</tbody></table>`
      : '') +
    (totalGaps ? `<details><summary>${totalGaps} failed scrape(s)</summary><ul>${gaps.join('')}</ul></details>` : '')
  );
}

function httpTable(r: Report): string {
  if (!r.http.length) return '<p class="empty">No HTTP load (autocannon) was run.</p>';
  const rows = r.http.map((x) => {
    const codes = Object.entries(x.statusCodes).map(([c, n]) => `${h(c)}: ${fmtNumber(n)}`).join(', ');
    return `<tr><td class="mono">${h(x.name)}</td><td class="mono">${h(x.method)} ${h(x.path)}</td><td class="num">${fmtNumber(x.total)}</td><td class="num">${fmtNumber(x.rps.mean)}/s</td><td class="num">${fmtMs(x.latency.p50)}</td><td class="num">${fmtMs(x.latency.p90)}</td><td class="num">${fmtMs(x.latency.p99)}</td><td class="num">${fmtMs(x.latency.max)}</td><td class="num ${x.non2xx ? 'bad-text' : ''}">${fmtNumber(x.non2xx)}</td><td class="num ${x.errors ? 'bad-text' : ''}">${fmtNumber(x.errors)}${x.timeouts ? ` (${x.timeouts} timeouts)` : ''}</td><td class="small">${codes}${x.capped ? ' <span class="bad-text">(stopped by time cap)</span>' : ''}</td></tr>`;
  });
  return `<p class="muted">autocannon, ${r.http[0]!.connections} connections per route, one route at a time.</p><table><thead><tr><th>route</th><th>request</th><th class="num">responses</th><th class="num">req/s</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th class="num">non-2xx</th><th class="num">errors</th><th>status codes</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function envList(r: Report): string {
  const e = r.environment;
  const items: Array<[string, string]> = [
    ['run id', r.id],
    ['scenario', r.scenario.name + (r.scenario.suite ? ` (suite ${r.scenario.suite})` : '')],
    ['seed', String(r.seed)],
    ['started', fmtTime(r.startedAt)],
    ['duration', fmtDuration(r.durationMs)],
    ['harness host', `${e.hostname} — ${e.platform} ${e.release} ${e.arch}, ${e.cpus} × ${e.cpuModel}, ${fmtBytes(e.memoryBytes)}`],
    ['Node.js', e.node],
    ['imstorm', e.imstorm + (e.commit ? ` @ ${e.commit}` : '')],
  ];
  if (e.provider) items.push(['environment', e.provider]);
  if (e.nodes?.length) items.push(['server nodes', e.nodes.map((n) => `${n.id} ${n.url}`).join(', ')]);
  if (e.redisUrl) items.push(['redis', e.redisUrl]);
  return `<dl>${items.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('')}</dl>${e.extra && Object.keys(e.extra).length ? `<details><summary>more environment facts</summary><pre>${h(JSON.stringify(e.extra, null, 2))}</pre></details>` : ''}`;
}

function chartBlocks(specs: readonly ChartSpec[], section: ChartSpec['section']): string {
  return specs
    .filter((s) => s.section === section)
    .map((s) => `<figure class="chart"><figcaption><h3>${h(s.title)}</h3></figcaption><div class="plot" data-chart="${h(s.id)}"></div><p class="caption">${h(s.caption)}</p></figure>`)
    .join('');
}

const CSS = `
:root { --pass: #1a7f37; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 64px; }
header.top { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; border-bottom: 1px solid var(--line); padding-bottom: 12px; }
header.top h1 { font-size: 22px; margin: 0; }
.big { font-size: 18px; padding: 4px 12px; }
nav { margin: 8px 0 0; font-size: 13px; } nav a { margin-right: 12px; color: #0969da; text-decoration: none; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 4px; } h4 { font-size: 13px; margin: 8px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.group th { background: #eaeef2; text-transform: uppercase; letter-spacing: .04em; font-size: 12px; }
tr.bad td { background: #fff5f5; } tr.witnesses td { background: #fffafa; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-weight: 700; font-size: 12px; color: #fff; white-space: nowrap; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.muted { color: var(--muted); font-size: 12px; } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.small { font-size: 12px; } .bad-text { color: var(--fail); font-weight: 600; } .empty { color: var(--muted); font-style: italic; }
details.witness { margin: 6px 0; border: 1px solid #f1c0c0; border-radius: 4px; background: #fff; }
details.witness > summary { cursor: pointer; padding: 4px 8px; font-weight: 600; color: #82071e; }
.witness-body { padding: 0 10px 8px; }
pre { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; max-height: 360px; font-size: 12px; }
.fault-tag { display: inline-block; background: rgba(220,50,47,.15); color: #8b1a1a; border: 1px solid rgba(220,50,47,.4); border-radius: 3px; padding: 0 5px; font-weight: 700; font-size: 12px; }
figure.chart { margin: 16px 0 24px; } .plot { width: 100%; min-height: 260px; }
.caption { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: var(--muted); } dd { margin: 0; }
.failures { margin: 8px 0 0; padding-left: 20px; color: #82071e; }
table.verdict { table-layout: fixed; } table.verdict col.result { width: 96px; } table.verdict col.obs { width: 190px; } table.verdict col.limit { width: 150px; }
pre.trail { white-space: pre-wrap; overflow-wrap: anywhere; }
.trail .t { color: var(--muted); } .trail .k { font-weight: 700; color: #0550ae; }
.uplot .u-title { font-size: 14px; }
`;

export function renderHtml(r: Report): string {
  const { js, css } = uplotSources();
  const charts = chartSpecs(r);
  const faults = r.faults.map((f, i) => {
    const e = faultEnd(f, r.endedAt);
    return { n: i + 1, start: f.start / 1000, end: e.end / 1000, instant: e.instant };
  });
  // One x range for every time chart (the run, widened to any data outside it), so they line up.
  const times = charts.filter((c) => c.kind === 'time').flatMap((c) => [c.x[0], c.x[c.x.length - 1]]).filter((x): x is number => x !== undefined);
  const timeRange = [Math.min(r.startedAt / 1000, ...times), Math.max(r.endedAt / 1000, ...times)];
  const title = `imstorm — ${r.scenario.name} — ${r.verdict.pass ? 'PASS' : 'FAIL'}`;
  const failures = r.verdict.failures.length ? `<ul class="failures">${r.verdict.failures.map((f) => `<li>${h(f)}</li>`).join('')}</ul>` : '';
  const v = r.verdict;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
<style>${css}</style>
<style>${CSS}</style>
</head>
<body>
<main>
<header class="top">
  <h1>imstorm report: ${h(r.scenario.name)}</h1>
  <span class="badge big ${v.pass ? 'pass' : 'fail'}">${v.pass ? '✔ PASS' : '✘ FAIL'}</span>
  <span class="muted">${fmtTime(r.startedAt)} · ${fmtDuration(r.durationMs)} · seed ${h(String(r.seed))} · ${v.thresholds.total - v.thresholds.failed}/${v.thresholds.total} thresholds · ${v.guarantees.total - v.guarantees.failed}/${v.guarantees.total} guarantees</span>
</header>
${r.scenario.description ? `<p>${h(r.scenario.description)}</p>` : ''}
<nav><a href="#verdict">Verdict</a><a href="#faults">Faults</a>${r.inflight ? '<a href="#inflight">In flight</a>' : ''}<a href="#latency">Latency</a><a href="#throughput">Throughput</a>${r.herd ? '<a href="#herd">Herd</a>' : ''}<a href="#server">Server</a>${r.leaks ? '<a href="#leaks">Leaks</a>' : ''}<a href="#http">HTTP</a><a href="#environment">Environment</a></nav>
<section id="verdict"><h2>Verdict</h2>${failures}${r.notChecked?.length ? `<div class="notchecked"><h3>Not checked in this run</h3><ul>${r.notChecked.map((x) => `<li>${h(x)}</li>`).join('')}</ul></div>` : ''}${verdictTable(r)}</section>
<section id="faults"><h2>Fault timeline</h2>${faultTable(r)}</section>
${r.inflight ? `<section id="inflight"><h2>In flight at each fault</h2>${inflightHtml(r.inflight, r.startedAt)}</section>` : ''}
<section id="latency"><h2>Latency</h2>${latencyTable(r)}${chartBlocks(charts, 'latency')}</section>
<section id="throughput"><h2>Connections and message rates</h2>${throughputTable(r)}${chartBlocks(charts, 'throughput')}</section>
${r.herd ? `<section id="herd"><h2>Reconnect herd</h2>${herdTable(r)}${chartBlocks(charts, 'herd')}</section>\n` : ''}<section id="server"><h2>Server resources</h2>${serverTable(r)}${chartBlocks(charts, 'server')}</section>
${r.leaks ? `<section id="leaks"><h2>Leak samples per storm</h2>${leaksHtml(r.leaks)}${chartBlocks(charts, 'leaks')}</section>` : ''}
<section id="http"><h2>HTTP routes (autocannon)</h2>${httpTable(r)}</section>
<section id="environment"><h2>Environment and configuration</h2>${envList(r)}<h3>Scenario configuration</h3><pre>${h(JSON.stringify(r.config, null, 2))}</pre>${r.notes.length ? `<h3>Notes</h3><ul>${r.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul>` : ''}<p class="muted">Generated from report.json (schema ${h(r.kind)} v${r.version}). Re-render with <code>imstorm report &lt;dir&gt;</code>.</p></section>
</main>
<script type="application/json" id="imstorm-data">${jsonForScript({ charts, faults, timeRange })}</script>
<script>${scriptSafe(js)}</script>
<script>${scriptSafe(reportScript())}</script>
</body>
</html>
`;
}
