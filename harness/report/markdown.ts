// summary.md: for CI job summaries ($GITHUB_STEP_SUMMARY and the like). The verdict
// table first, then the key figures; report.html has the rest.
import { faultEnd, seriesCounted } from './charts.ts';
import { closeCodes, errorCodes, fmtBytes, fmtClock, fmtDuration, fmtMs, fmtNumber, fmtOp, fmtTime, fmtUnit, mdCell as c } from './format.ts';
import { inflightMarkdown } from './inflight.ts';
import { leaksMarkdown } from './leaks.ts';
import type { Report } from './schema.ts';
import { maxOf } from '../util/extent.ts';

const mark = (pass: boolean): string => (pass ? '✅ pass' : '❌ **FAIL**');

function sampledMax(col: ReadonlyArray<number | null> | undefined): number | null {
  const xs = (col ?? []).filter((v): v is number => v !== null);
  return xs.length ? maxOf(xs) : null;
}

export function renderSummary(r: Report): string {
  const out: string[] = [];
  const v = r.verdict;
  out.push(`## imstorm \`${c(r.scenario.name)}\`: ${v.pass ? '✅ PASS' : '❌ FAIL'}`);
  out.push('');
  out.push(
    `${fmtTime(r.startedAt)} · ${fmtDuration(r.durationMs)} · seed \`${c(String(r.seed))}\` · ` +
      `${v.thresholds.total - v.thresholds.failed}/${v.thresholds.total} thresholds · ${v.guarantees.total - v.guarantees.failed}/${v.guarantees.total} guarantees · ${r.faults.length} fault(s)`,
  );
  out.push('');
  if (r.notChecked?.length) {
    // beside the verdict, not in the notes: a PASS here covers less than the scenario says
    out.push(`**Not checked in this run** (${r.notChecked.length}):`, '');
    for (const x of r.notChecked) out.push(`- ${c(x)}`);
    out.push('');
  }
  if (r.thresholds.length || r.checks.length) {
    out.push('| result | check | observed | limit |');
    out.push('|---|---|--:|--:|');
    for (const t of r.thresholds) {
      out.push(`| ${mark(t.pass)} | ${c(t.name)} | ${t.observed === null ? `no data${t.note ? ` (${c(t.note)})` : ''}` : c(fmtUnit(t.observed, t.unit))} | ${c(fmtOp(t.op))} ${c(fmtUnit(t.limit, t.unit))} |`);
    }
    for (const k of r.checks) {
      out.push(`| ${mark(k.ok)} | guarantee **${k.guarantee}**: ${c(k.summary)} | ${fmtNumber(k.violationsTotal)} violation(s) of ${fmtNumber(k.checked)} checked | 0 |`);
    }
    out.push('');
  } else {
    out.push('_No thresholds stated and no checkers run._', '');
  }
  for (const k of r.checks.filter((x) => x.violations.length)) {
    out.push(`<details><summary><b>${k.guarantee}</b>: ${k.violationsTotal} witness(es)</summary>`, '');
    for (const w of k.violations.slice(0, 20)) {
      const faults = w.faultWindow.map((f) => `${f.kind} on ${f.target} at ${fmtClock(f.start)}`).join('; ');
      out.push(`- ${c(w.message)}${faults ? ` — during: ${c(faults)}` : ''}`);
    }
    if (k.violationsTotal > 20) out.push(`- … ${k.violationsTotal - 20} more in report.json`);
    out.push('', '</details>', '');
  }

  out.push('### Key figures', '');
  if (r.latency.metrics.length) {
    out.push('| latency | count | p50 | p90 | p99 | p99.9 | max |');
    out.push('|---|--:|--:|--:|--:|--:|--:|');
    for (const m of r.latency.metrics) {
      out.push(`| ${c(m.label)} | ${fmtNumber(m.count)} | ${fmtMs(m.percentiles.p50)} | ${fmtMs(m.percentiles.p90)} | ${fmtMs(m.percentiles.p99)} | ${fmtMs(m.percentiles['p99.9'])} | ${fmtMs(m.max)} |`);
    }
    out.push('');
  }
  const s = r.series;
  if (seriesCounted(r)) {
    const total = (k: string): number => (s.counters[k] ?? []).reduce((a, b) => a + b, 0);
    const secs = (s.t.length * s.intervalMs) / 1000;
    out.push(
      `Throughput: ${fmtNumber(total('sends'))} sends (${fmtNumber(total('sends') / secs)}/s), ${fmtNumber(total('deliveries'))} deliveries (${fmtNumber(total('deliveries') / secs)}/s), ` +
        `${fmtNumber(total('errors'))} errors; peak ${fmtNumber(Math.max(0, maxOf(s.connections)))} open connections.` +
        (errorCodes(r) ? ` Error answers by code, every attempt counted (a send retried after \`unavailable\` counts each time): ${errorCodes(r)}.` : '') +
        (closeCodes(r) ? ` Connection closes by code, as the devices saw them: ${closeCodes(r)}.` : ''),
      '',
    );
  }
  if (r.herd) {
    const hd = r.herd;
    const pct = (x: number | null) => (x === null ? '**not reached**' : fmtMs(x));
    out.push(
      `Reconnect herd: peak ${fmtNumber(hd.peakAttemptsPerSec)} connection attempts/s and ${fmtNumber(hd.peakWelcomesPerSec)} welcomes/s (fleet, best 1 s); ` +
        `the nodes accepted at most ${hd.peakAcceptsPerSec === null ? '— (not sampled)' : `${fmtNumber(hd.peakAcceptsPerSec)} upgrades/s`}.`,
      '',
    );
    out.push('| cut | at | faults | dropped / connected | welcomed again 50% / 99% | synced again 50% / 99% / all | not back | attempts | peak welcomes/s | peak accepts/s |');
    out.push('|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|');
    hd.cuts.forEach((x, i) => {
      out.push(
        `| ${i + 1} | +${fmtNumber((x.at - r.startedAt) / 1000, 1)} s | ${c(x.faults.join(', '))} | ${fmtNumber(x.dropped)} / ${fmtNumber(x.connected)} (${fmtNumber(x.droppedRatio * 100, 1)}%) | ${pct(x.welcomedMs.p50)} / ${pct(x.welcomedMs.p99)} | ${pct(x.syncedMs.p50)} / ${pct(x.syncedMs.p99)} / ${pct(x.syncedMs.max)} | ${fmtNumber(x.notBack)} | ${fmtNumber(x.attempts)} | ${fmtNumber(x.peakWelcomesPerSec)} | ${x.peakAcceptsPerSec === null ? '—' : fmtNumber(x.peakAcceptsPerSec)} |`,
      );
    });
    out.push('');
  }
  const nodes = r.server?.targets.filter((t) => t.kind === 'node') ?? [];
  if (nodes.length) {
    out.push('| node | peak RSS | peak heap | fds first → last | peak lag | scrape gaps |');
    out.push('|---|--:|--:|--:|--:|--:|');
    for (const n of nodes) {
      const fds = (n.values['openFds'] ?? []).filter((x): x is number => x !== null);
      out.push(
        `| ${c(n.target)} | ${fmtBytes(sampledMax(n.values['rssBytes']))} | ${fmtBytes(sampledMax(n.values['heapUsedBytes']))} | ${fmtNumber(fds[0] ?? null)} → ${fmtNumber(fds[fds.length - 1] ?? null)} | ${fmtMs(sampledMax(n.values['eventLoopLagMs']))} | ${n.gaps.length} |`,
      );
    }
    out.push('');
  }
  if (r.http.length) {
    out.push('| HTTP route | responses | req/s | p50 | p99 | non-2xx | errors | status codes |');
    out.push('|---|--:|--:|--:|--:|--:|--:|---|');
    for (const x of r.http) {
      const codes = Object.entries(x.statusCodes).map(([code, n]) => `${code}: ${fmtNumber(n)}`).join(', ');
      out.push(`| \`${c(x.method)} ${c(x.path)}\` | ${fmtNumber(x.total)} | ${fmtNumber(x.rps.mean)} | ${fmtMs(x.latency.p50)} | ${fmtMs(x.latency.p99)} | ${fmtNumber(x.non2xx)} | ${fmtNumber(x.errors)} | ${c(codes)} |`);
    }
    out.push('');
  }
  if (r.faults.length) {
    out.push('Faults: ' + r.faults.map((f, i) => {
      const e = faultEnd(f, r.endedAt);
      return `F${i + 1} \`${c(f.kind)}\` on ${c(f.target)} at +${fmtNumber((f.start - r.startedAt) / 1000, 1)} s${e.instant ? '' : e.healed ? ` for ${fmtDuration(e.end - f.start)}` : ' (not healed)'}`;
    }).join(' · '), '');
  }
  out.push(...inflightMarkdown(r.inflight, r.startedAt));
  out.push(...leaksMarkdown(r.leaks));
  // what a scenario's attack tried, per attack, and its figures (the report's notes that say so)
  const attack = r.notes.filter((n) => n.startsWith('attack'));
  if (attack.length) out.push(...attack.map((n) => `- ${c(n)}`), '');
  out.push(`Run \`${c(r.id)}\` — full report: \`report.html\` (charts, witnesses, fault timeline), data: \`report.json\`.`, '');
  return out.join('\n');
}

