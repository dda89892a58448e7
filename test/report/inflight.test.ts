import { describe, expect, it } from 'vitest';
import { inflightHtml, inflightMarkdown, inflightWindow, type InflightWindow } from '../../harness/report/inflight.ts';

const T = 1_700_000_000_000;
const w = (id: string, fault: string, sends: Partial<InflightWindow['sends']>, pushes: Partial<InflightWindow['pushes']>): InflightWindow =>
  inflightWindow.parse({
    id,
    fault,
    at: T + 5000,
    node: 'node-1',
    devicesConnected: 20,
    devicesAtRisk: 7,
    sends: { inFlight: 0, storedOnce: 0, refused: 0, abandoned: 0, superseded: 0, failed: 0, ...sends },
    pushes: { unacked: 0, acked: 0, redelivered: 0, unresolved: 0, superseded: 0, failed: 0, ...pushes },
  });

describe('the in-flight section', () => {
  const ok = w('w1', 'cut client-link:node-1 at 5000 ms', { inFlight: 2, storedOnce: 2 }, { unacked: 115, redelivered: 115 });
  const quiet = w('w2', 'bus-drop node-3 at 6000 ms', {}, {});
  const bad = w('w3', 'toxic reset_peer {"timeout":100} on client-link:node-1 at 7000 ms', { inFlight: 1, storedOnce: 1 }, { unacked: 12, acked: 2, failed: 10 });

  it('summary.md: totals, then a row per window that had something at risk', () => {
    const md = inflightMarkdown([ok, quiet], T).join('\n');
    expect(md).toContain('2 fault step(s) opened a window; 2 send(s) in flight and 115 push(es) unacked in all; all recovered.');
    expect(md).toContain('| w1 | cut client-link:node-1 at 5000 ms | +5 s | 7 / 20 | 2 | 2 | 0 | 115 | 0 | 115 | 0 |');
    expect(md).not.toContain('| w2 |');
    expect(inflightMarkdown([ok, bad], T).join('\n')).toMatch(/\*\*10 not recovered\*\*[\s\S]*\| w3 \| .* \| \*\*10\*\* \|/);
    expect(inflightMarkdown(undefined, T)).toEqual([]);
  });

  it('report.html: every window, escaped, the unrecovered ones marked', () => {
    const html = inflightHtml([ok, quiet, bad], T);
    expect(html).toContain('<td class="mono">w2</td>');
    expect(html).toContain('{&quot;timeout&quot;:100}');
    expect(html).toMatch(/<tr class="bad"><td class="mono">w3<\/td>[\s\S]*?<td class="num bad-text">10<\/td><\/tr>/);
    expect(html).toContain('120 of 130 recovered');
  });
});
