// A report whose per-second columns are longer than a spread into Math.max can take
// (~125,000 items): a soak of a day and a half. Until 2026-12-05 the thresholds, the HTML
// page and the summary threw RangeError on it, after the whole run.
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../harness/report/html.ts';
import { renderSummary } from '../../harness/report/markdown.ts';
import { resolveMetric } from '../../harness/report/thresholds.ts';
import type { Report } from '../../harness/report/schema.ts';
import { syntheticReport } from './synthetic.ts';

const N = 130_000;

/** the 60 s synthetic report, every per-second column repeated out to N seconds */
function longReport(): Report {
  const r = structuredClone(syntheticReport());
  const stretch = <T>(col: T[]): T[] => Array.from({ length: N }, (_, i) => col[i % col.length]!);
  const s = r.series;
  const step = s.intervalMs;
  s.t = Array.from({ length: N }, (_, i) => s.t[0]! + i * step);
  for (const k of Object.keys(s.counters)) s.counters[k] = stretch(s.counters[k]!);
  s.connections = stretch(s.connections);
  for (const t of r.server!.targets) {
    const t0 = t.t[0]!;
    t.t = Array.from({ length: N }, (_, i) => t0 + i * r.server!.intervalMs);
    for (const k of Object.keys(t.values)) t.values[k] = stretch(t.values[k]!);
  }
  return r;
}

describe('a report of a very long run', () => {
  const short = syntheticReport();
  const r = longReport();

  it('resolves throughput and server maxima over every second', () => {
    expect(resolveMetric(r, 'throughput.sends.max').value).toBe(resolveMetric(short, 'throughput.sends.max').value);
    expect(resolveMetric(r, 'server.node-1.eventLoopLagMs.max').value).toBe(resolveMetric(short, 'server.node-1.eventLoopLagMs.max').value);
    expect(resolveMetric(r, 'server.*.rssBytes.min').value).toBe(resolveMetric(short, 'server.*.rssBytes.min').value);
  });

  it('renders the HTML page and the summary', () => {
    expect(renderHtml(r)).toContain(`peak ${300}`);
    expect(renderSummary(r)).toMatch(/peak 300 open connections/);
  });
});
