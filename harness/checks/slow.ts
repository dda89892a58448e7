import { fmtT, indexFacts, type FactIndex } from './fact-index.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { witness } from './witness.ts';
import type { DrainFact } from '../model/facts.ts';

/**
 * slow — a reader that falls behind is cut 4413 once the node holds more than
 * SLOW_CONSUMER_BYTES of live bytes for it, rather than buffered for (PROTOCOL.md). Judged
 * per device, from the device's side: when its read stall (client modes pause, throttle)
 * ended, it noted what the kernel held of its connection (its receive queue and the node's
 * send queue, /proc/net/tcp), then counted what it read on that connection until the first
 * message stored after it read again (`drain` facts; `page` replies left out: pages are
 * paced, not cut). What it read beyond the kernel's share the node had kept in its own
 * memory. That may be at most SLOW_CONSUMER_BYTES, plus REPLAY_PACE_BYTES (the node's pace
 * of anything it paces by the socket draining) and READ_AHEAD_BYTES the device itself had
 * read before it stopped. A node that cut it leaves only the kernel's share, then the close.
 * Only stalls that ended on a synced connection are judged: one still replaying its backlog
 * is sent more of it as it drains.
 *
 * Needs both ends' queues in this host's table (the local environment, client links not
 * proxied: a proxy buffers too); a drain without them is counted, not judged.
 *
 * checked = stalls whose drain was measured.
 */
const REPLAY_PACE_BYTES = 256 * 1024;
const READ_AHEAD_BYTES = 64 * 1024;

export interface SlowOptions {
  /** the nodes' SLOW_CONSUMER_BYTES */
  limitBytes: number;
  /** the nodes' MAX_BODY_BYTES (bounds a history page) */
  maxBodyBytes: number;
  /** client links go through the proxy, which buffers as well: nothing is judged */
  proxied?: boolean;
}

export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const o = input.options?.slow ?? { limitBytes: 1_048_576, maxBodyBytes: 16_384 };
  const findings = new Findings();
  let checked = 0;
  let unmeasured = 0;
  let replaying = 0;
  let cut = 0;
  let maxKept = -Infinity;
  for (const d of ix.drains) {
    if (d.kernelBytes === undefined || o.proxied) {
      unmeasured++;
      continue;
    }
    // a connection still replaying its backlog gets more of it as it drains: what it reads is not what waited
    if (!d.synced) {
      replaying++;
      continue;
    }
    checked++;
    const kept = d.bytes - d.kernelBytes;
    maxKept = Math.max(maxKept, kept);
    if (d.ended === 'closed' && d.code !== 1000) cut++;
    const allowed = o.limitBytes + REPLAY_PACE_BYTES + READ_AHEAD_BYTES;
    if (kept <= allowed) continue;
    findings.add(d.at, () => slowWitness(ix, d, kept, allowed, o));
  }
  const notes = [`${plural(checked, 'read stall')} measured when the device read again (${cut} of them cut by the node)`];
  if (checked) notes.push(`most the node kept for one: ${mb(Math.max(0, maxKept))} beyond the kernel's share`);
  if (replaying) notes.push(`${plural(replaying, 'stall')} that ended while the connection was still replaying its backlog not judged`);
  if (unmeasured) notes.push(`${plural(unmeasured, 'stall')} not judged: ${o.proxied ? 'client links go through the proxy, which buffers too' : "the kernel's queues of the connection were not readable (/proc/net/tcp, both ends on this host)"}`);
  return findings.verdict('slow', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function slowWitness(ix: FactIndex, d: DrainFact, kept: number, allowed: number, o: SlowOptions) {
  // the client mode's stall that ended then (a fleet process's own freeze may overlap it)
  const stall = (ix.stalls.get(d.client) ?? []).filter((s) => s.mode !== 'freeze' && Math.abs(s.end - d.at) < 5000).sort((a, b) => Math.abs(a.end - d.at) - Math.abs(b.end - d.at))[0];
  const life = ix.conns.get(d.conn);
  const how = d.ended === 'caught-up' ? `until it caught up at ${fmtT(ix, d.until)}` : d.ended === 'closed' ? `until the connection closed ${d.code ?? ''} at ${fmtT(ix, d.until)}` : `in the 10 s after (it had not caught up)`;
  const message =
    `${d.client} ${stall ? `stopped reading (${stall.mode}) at ${fmtT(ix, stall.at)}` : 'stalled'} on connection ${d.conn}${life?.welcome?.node ? ` (${life.welcome.node})` : ''} and read again at ${fmtT(ix, d.at)} on the same connection: ` +
    `it then read ${mb(d.bytes)} in ${plural(d.frames, 'frame')} ${how}, of which the kernel held ${mb(d.kernelBytes!)} (its receive queue ${mb(d.rxQueue ?? 0)}, the node's send queue ${mb(d.txQueue ?? 0)}): ` +
    `the node kept ${mb(kept)} for it in memory, more than SLOW_CONSUMER_BYTES ${mb(o.limitBytes)} and the slack allow (${mb(allowed)}), instead of cutting it 4413`;
  // its connection's life and its stalls
  return witness(ix, message, d, [...(life ? [life.welcome, life.end].filter((f) => f !== undefined) : []), ...(ix.stalls.get(d.client) ?? [])]);
}

function mb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}
