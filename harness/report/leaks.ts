// The leak samples as the report keeps them: per node, its baseline, the sample after each
// storm (runs with checks.storms > 1) and the one after every client left, with heap
// growth per connection opened; and how summary.md and report.html show them.
import { z } from 'zod';
import { perConnection, perConnectionFrom } from '../checks/leaks.ts';
import type { ServerSample } from '../checks/samples.ts';
import type { LeakPerConnectionOptions } from '../checks/verdict.ts';
import { escapeHtml as h, fmtBytes, fmtNumber, mdCell as c } from './format.ts';

export const leakPoint = z.object({
  /** `baseline`, `storm N` (after storm N, everyone gone), `end` (after every client left, HTTP load included) */
  label: z.string(),
  /** ms since the epoch */
  at: z.number(),
  heapUsedAfterGc: z.number(),
  openFds: z.number(),
  /** active handles, every type */
  activeHandles: z.number(),
  rssBytes: z.number().nullable(),
  /** imstorm_connections_opened_total at the sample; null from a server that does not count them */
  connectionsOpened: z.number().nullable(),
});
export type LeakPoint = z.infer<typeof leakPoint>;

export const leaksReport = z.object({
  /** checks.leakPerConnection of the run */
  maxBytesPerConnection: z.number(),
  minConnections: z.number(),
  nodes: z.array(
    z.object({
      node: z.string(),
      points: z.array(leakPoint),
      /** `from` (baseline, or after storm 1 with several storms) → end, nodes up the whole run only; null without both or without connection counts */
      perConnection: z
        .object({ from: z.string().optional(), opened: z.number(), growthBytes: z.number(), bytesPerConnection: z.number().nullable(), judged: z.boolean(), over: z.boolean() })
        .nullable(),
    }),
  ),
});
export type LeaksReport = z.infer<typeof leaksReport>;

const point = (label: string, s: ServerSample): LeakPoint => ({
  label,
  at: s.at,
  heapUsedAfterGc: s.heapUsedAfterGc,
  openFds: s.openFds,
  activeHandles: Object.values(s.activeHandles).reduce((a, b) => a + b, 0),
  rssBytes: s.rssBytes ?? null,
  connectionsOpened: s.connectionsOpened ?? null,
});

/** The report's leaks section from the run's samples; `stable`: the nodes compared with their baseline. */
export function leakReport(input: { baseline: readonly ServerSample[]; runs: readonly (readonly ServerSample[])[]; after: readonly ServerSample[]; stable: readonly string[]; options: LeakPerConnectionOptions }): LeaksReport {
  const ids = [...new Set([...input.baseline, ...input.runs.flat(), ...input.after].map((s) => s.node))].sort();
  return {
    maxBytesPerConnection: input.options.maxBytes,
    minConnections: input.options.minConnections,
    nodes: ids.map((node) => {
      const b = input.baseline.find((s) => s.node === node);
      const a = input.after.find((s) => s.node === node);
      const points: LeakPoint[] = [];
      if (b) points.push(point('baseline', b));
      input.runs.forEach((run, i) => {
        const s = run.find((x) => x.node === node);
        if (s) points.push(point(`storm ${i + 1}`, s));
      });
      if (a) points.push(point('end', a));
      const ref = b ? perConnectionFrom(b, input.runs) : null;
      const pc = b && a && ref && input.stable.includes(node) ? perConnection(ref.from, a, input.options) : null;
      return { node, points, perConnection: pc && ref ? { from: ref.label, opened: pc.opened, growthBytes: pc.growthBytes, bytesPerConnection: pc.bytesPerConnection, judged: pc.judged, over: pc.over } : null };
    }),
  };
}

/** One row per sample: what changed since the previous one, and per connection opened in between. */
function rows(n: LeaksReport['nodes'][number]): Array<{ p: LeakPoint; dHeap: number | null; opened: number | null; perConn: number | null }> {
  return n.points.map((p, i) => {
    const prev = i > 0 ? n.points[i - 1]! : null;
    const dHeap = prev ? p.heapUsedAfterGc - prev.heapUsedAfterGc : null;
    const opened = prev && p.connectionsOpened !== null && prev.connectionsOpened !== null ? p.connectionsOpened - prev.connectionsOpened : null;
    return { p, dHeap, opened, perConn: dHeap !== null && opened ? dHeap / opened : null };
  });
}

const signedBytes = (b: number | null): string => (b === null ? '–' : `${b >= 0 ? '+' : '−'}${fmtBytes(Math.abs(b))}`);
const perConnText = (b: number | null): string => (b === null ? '–' : `${b >= 0 ? '+' : '−'}${fmtNumber(Math.round(Math.abs(b)))} B`);

function figureText(l: LeaksReport, n: LeaksReport['nodes'][number]): string {
  const pc = n.perConnection;
  if (!pc) return `${n.node}: no per-connection figure (restarted during the run, or its server does not count connections opened)`;
  const judged = pc.judged ? (pc.over ? `over the bound of ${fmtNumber(l.maxBytesPerConnection)} B` : `within the bound of ${fmtNumber(l.maxBytesPerConnection)} B`) : `not judged (fewer than ${fmtNumber(l.minConnections)} connections)`;
  return `${n.node}: ${perConnText(pc.bytesPerConnection)} of heap per connection opened (${signedBytes(pc.growthBytes)} over ${fmtNumber(pc.opened)} connections, ${pc.from ?? 'baseline'} → end), ${judged}`;
}

export function leaksMarkdown(l: LeaksReport | undefined): string[] {
  if (!l || !l.nodes.length) return [];
  const out = ['### Leak samples (after GC, every client gone)', ''];
  for (const n of l.nodes) out.push(`- ${c(figureText(l, n))}`);
  out.push('', '| node | sample | heap | Δ heap | fds | handles | RSS | connections opened | Δ heap per connection |', '|---|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of l.nodes) {
    for (const r of rows(n)) {
      out.push(`| ${c(n.node)} | ${c(r.p.label)} | ${fmtBytes(r.p.heapUsedAfterGc)} | ${signedBytes(r.dHeap)} | ${fmtNumber(r.p.openFds)} | ${fmtNumber(r.p.activeHandles)} | ${fmtBytes(r.p.rssBytes)} | ${r.opened === null ? fmtNumber(r.p.connectionsOpened) : `${fmtNumber(r.p.connectionsOpened)} (+${fmtNumber(r.opened)})`} | ${perConnText(r.perConn)} |`);
    }
  }
  out.push('');
  return out;
}

export function leaksHtml(l: LeaksReport | undefined): string {
  if (!l || !l.nodes.length) return '<p class="empty">No leak samples in this run (checks.leaks off).</p>';
  const figures = `<ul>${l.nodes.map((n) => `<li class="${n.perConnection?.over ? 'bad-text' : ''}">${h(figureText(l, n))}</li>`).join('')}</ul>`;
  const body = l.nodes
    .flatMap((n) =>
      rows(n).map(
        (r) =>
          `<tr><td class="mono">${h(n.node)}</td><td>${h(r.p.label)}</td><td class="num">${fmtBytes(r.p.heapUsedAfterGc)}</td><td class="num">${signedBytes(r.dHeap)}</td><td class="num">${fmtNumber(r.p.openFds)}</td><td class="num">${fmtNumber(r.p.activeHandles)}</td><td class="num">${fmtBytes(r.p.rssBytes)}</td><td class="num">${fmtNumber(r.p.connectionsOpened)}${r.opened === null ? '' : ` (+${fmtNumber(r.opened)})`}</td><td class="num">${perConnText(r.perConn)}</td></tr>`,
      ),
    )
    .join('');
  return `${figures}<table><thead><tr><th>node</th><th>sample</th><th class="num">heap after GC</th><th class="num">Δ heap</th><th class="num">fds</th><th class="num">handles</th><th class="num">RSS</th><th class="num">connections opened</th><th class="num">Δ heap per connection</th></tr></thead><tbody>${body}</tbody></table>`;
}
