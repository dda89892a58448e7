// The report's in-flight section: per fault step, what the devices on the node it hit had
// at risk when it began (sends written and unanswered, pushes held but not acked) and what
// became of each (harness/checks/inflight.ts). Its schema, and its Markdown and HTML.
import { z } from 'zod';
import { escapeHtml as h, fmtNumber, mdCell as c } from './format.ts';

const count = z.number().int().nonnegative();

export const inflightWindow = z.object({
  /** w1, w2, …: one per fault step, in the order they began */
  id: z.string(),
  /** the fault step in words, e.g. "cut redis-link:node-2 at 9000 ms" */
  fault: z.string(),
  /** when the window opened (just before the step acted), ms since the epoch */
  at: z.number(),
  /** the node the step hit; absent for Redis itself (every node) */
  node: z.string().optional(),
  /** devices connected to that node then (null: the fleet did not answer in time) */
  devicesConnected: count.nullable(),
  /** devices with a send in flight or a push unacked */
  devicesAtRisk: count,
  sends: z.object({
    /** written on the connection and not answered */
    inFlight: count,
    /** stored exactly once and received by every member device */
    storedOnce: count,
    /** answered with a non-retryable error in the end: never stored, never owed */
    refused: count,
    /** never stored nor answered, and the device never synced again (it could not resend) */
    abandoned: count,
    /** stored in an epoch the store later lost */
    superseded: count,
    /** not recovered: stored twice, missing on a member device, or never stored though the device could resend (witnesses under `checks`, guarantee inflight) */
    failed: count,
  }),
  pushes: z.object({
    /** messages the device held above the last ack it wrote */
    unacked: count,
    /** covered by an ack the device wrote afterwards */
    acked: count,
    /** the server had no ack for them and sent them again (backlog, live or history) */
    redelivered: count,
    /** no later conv frame and no ack covering them (e.g. the device never came back) */
    unresolved: count,
    /** of an epoch the store later lost, or of a conversation the device's user joined or left meanwhile */
    superseded: count,
    /** not recovered: a cursor past them without the device's ack, or never sent again */
    failed: count,
  }),
});
export type InflightWindow = z.infer<typeof inflightWindow>;

const recovered = (w: InflightWindow): number => w.sends.storedOnce + w.sends.refused + w.pushes.acked + w.pushes.redelivered;
const failed = (w: InflightWindow): number => w.sends.failed + w.pushes.failed;

function offset(startedAt: number, t: number): string {
  return `+${fmtNumber((t - startedAt) / 1000, 1)} s`;
}

/** summary.md: one row per window that had something at risk, and a line for the rest. */
export function inflightMarkdown(windows: readonly InflightWindow[] | undefined, startedAt: number): string[] {
  if (!windows?.length) return [];
  const risky = windows.filter((w) => w.sends.inFlight + w.pushes.unacked > 0);
  const out = ['### In flight at each fault', ''];
  const sends = windows.reduce((n, w) => n + w.sends.inFlight, 0);
  const pushes = windows.reduce((n, w) => n + w.pushes.unacked, 0);
  const bad = windows.reduce((n, w) => n + failed(w), 0);
  out.push(`${fmtNumber(windows.length)} fault step(s) opened a window; ${fmtNumber(sends)} send(s) in flight and ${fmtNumber(pushes)} push(es) unacked in all; ${bad ? `**${fmtNumber(bad)} not recovered**` : 'all recovered'}.`, '');
  if (risky.length) {
    out.push('| window | fault | at | devices at risk / connected | sends in flight | stored once | refused | unacked pushes | acked later | sent again | not recovered |');
    out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const w of risky) {
      out.push(
        `| ${c(w.id)} | ${c(w.fault)} | ${offset(startedAt, w.at)} | ${fmtNumber(w.devicesAtRisk)} / ${fmtNumber(w.devicesConnected)} | ${fmtNumber(w.sends.inFlight)} | ${fmtNumber(w.sends.storedOnce)} | ${fmtNumber(w.sends.refused)} | ${fmtNumber(w.pushes.unacked)} | ${fmtNumber(w.pushes.acked)} | ${fmtNumber(w.pushes.redelivered)} | ${failed(w) ? `**${fmtNumber(failed(w))}**` : '0'} |`,
      );
    }
    out.push('');
  }
  return out;
}

/** report.html: the same, every window listed. */
export function inflightHtml(windows: readonly InflightWindow[] | undefined, startedAt: number): string {
  if (!windows?.length) return '<p class="empty">No fault step opened an in-flight window in this run.</p>';
  const rows = windows.map((w) => {
    const other = w.sends.abandoned + w.sends.superseded + w.pushes.unresolved + w.pushes.superseded;
    return (
      `<tr class="${failed(w) ? 'bad' : ''}"><td class="mono">${h(w.id)}</td><td class="mono small">${h(w.fault)}</td><td class="num">${offset(startedAt, w.at)}</td><td class="mono">${h(w.node ?? 'all nodes')}</td>` +
      `<td class="num">${fmtNumber(w.devicesAtRisk)} / ${fmtNumber(w.devicesConnected)}</td><td class="num">${fmtNumber(w.sends.inFlight)}</td><td class="num">${fmtNumber(w.sends.storedOnce)}</td><td class="num">${fmtNumber(w.sends.refused)}</td>` +
      `<td class="num">${fmtNumber(w.pushes.unacked)}</td><td class="num">${fmtNumber(w.pushes.acked)}</td><td class="num">${fmtNumber(w.pushes.redelivered)}</td>` +
      `<td class="num">${fmtNumber(other)}</td><td class="num ${failed(w) ? 'bad-text' : ''}">${fmtNumber(failed(w))}</td></tr>`
    );
  });
  const total = windows.reduce((n, w) => n + w.sends.inFlight + w.pushes.unacked, 0);
  const rec = windows.reduce((n, w) => n + recovered(w), 0);
  return (
    `<p class="muted">Just before each fault step acted, every device connected to the node it hit recorded what it had at risk: sends written and not answered, and messages held above the last ack it wrote. ` +
    `Each is followed to its end (guarantee <b>inflight</b>): a send must be stored once and reach every member device; a push must be covered by a later ack of the device, or sent again when the server had no ack. ` +
    `${fmtNumber(rec)} of ${fmtNumber(total)} recovered; "other" counts sends of devices that never synced again, pushes with no later conv frame nor ack, and anything of an epoch the store lost.</p>` +
    `<table><thead><tr><th>window</th><th>fault step</th><th class="num">at</th><th>node</th><th class="num">devices at risk / connected</th><th class="num">sends in flight</th><th class="num">stored once</th><th class="num">refused</th><th class="num">unacked pushes</th><th class="num">acked later</th><th class="num">sent again</th><th class="num">other</th><th class="num">not recovered</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}
