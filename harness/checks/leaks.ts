import type { FaultEvent } from '../model/facts.ts';
import { faultTimeline, faultsOverlapping } from './faults.ts';
import type { GoneKeysSample, LeakInput, ServerSample } from './samples.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type CheckOptions, type LeakPerConnectionOptions, type Verdict, type Witness } from './verdict.ts';

/**
 * leaks — guarantee 5: after every client left, per node (matched to its baseline by
 * `node`): the open-connection gauge is 0, open fds are exactly at baseline, heap in use
 * after GC is at most max(5%, 4 MiB) above baseline, no active handle type has more
 * handles than at baseline; no Redis keys of gone connections remain; and across repeated
 * identical runs the post-run heap of a node does not rise at every run by more than the
 * tolerance in all (the signal that catches slow leaks; one dip clears it as noise).
 * Heap growth is also divided by the connections the node admitted meanwhile
 * (imstorm_connections_opened_total): above `leakPerConnection.maxBytes` a connection fails
 * once at least `minConnections` were opened (below that the figure is noise and is
 * reported, not judged). A leak of a few KiB per connection shows after a few thousand
 * connections, where the fixed tolerance would hide it. With repeated storms the figure runs
 * from the sample after the first storm (see perConnectionFrom), else from the baseline.
 *
 * checked = comparisons made (one per gauge, fd count, heap, handle type, key count, series,
 * judged per-connection figure).
 */
export function check(input: CheckInput): Verdict {
  if (!input.leaks) return { guarantee: 'leaks', ok: true, checked: 0, violations: [], violationCount: 0, summary: 'not checked: no server samples given' };
  return checkLeaks(input.leaks, input.options, input.faults);
}

/** What a leak witness points at: a server sample or the gone-keys reading. */
type Sample = ServerSample | GoneKeysSample;

export const MiB = 1024 * 1024;

/** The heap tolerance above a baseline: max(5%, 4 MiB). */
export function heapTolerance(baseline: number): number {
  return Math.max(0.05 * baseline, 4 * MiB);
}

/** One node's heap growth per connection it admitted between two samples. */
export interface PerConnectionFigure {
  node: string;
  /** connections admitted between the two samples */
  opened: number;
  /** heap after GC, later − earlier (bytes; may be negative) */
  growthBytes: number;
  /** growthBytes / opened; null when nothing was opened */
  bytesPerConnection: number | null;
  /** whether enough connections were opened for the figure to be judged */
  judged: boolean;
  /** judged and above the bound */
  over: boolean;
}

/** Heap growth per connection opened from `b` to `a` (null when either server did not count connections). */
export function perConnection(b: ServerSample, a: ServerSample, o: LeakPerConnectionOptions = DEFAULTS.leakPerConnection): PerConnectionFigure | null {
  if (a.connectionsOpened === undefined || b.connectionsOpened === undefined) return null;
  const opened = a.connectionsOpened - b.connectionsOpened;
  const growthBytes = a.heapUsedAfterGc - b.heapUsedAfterGc;
  const bytesPerConnection = opened > 0 ? growthBytes / opened : null;
  const judged = opened >= o.minConnections;
  return { node: a.node, opened, growthBytes, bytesPerConnection, judged, over: judged && bytesPerConnection !== null && bytesPerConnection > o.maxBytes };
}

/**
 * Where the per-connection figure starts: with two or more storm samples of the node, the
 * one after the first storm — what the first storm warms up (compiled code, the per-user
 * state of users every later storm brings back) is a few MiB a node, not a leak, and over a
 * few thousand connections would read as hundreds of bytes each; a leak of the connections
 * keeps growing in every storm after it. Else the baseline.
 */
export function perConnectionFrom(baseline: ServerSample, runs: LeakInput['runs']): { from: ServerSample; label: string } {
  const first = runs && runs.length >= 2 ? runs[0]!.find((s) => s.node === baseline.node && s.connectionsOpened !== undefined) : undefined;
  return first ? { from: first, label: 'after storm 1' } : { from: baseline, label: 'baseline' };
}

/** "+1,234 B a connection (heap +5.0 MiB over 4,210 connections opened)" */
export function describePerConnection(f: PerConnectionFigure): string {
  const per = f.bytesPerConnection === null ? 'no connection opened' : `${f.bytesPerConnection >= 0 ? '+' : '−'}${Math.round(Math.abs(f.bytesPerConnection)).toLocaleString('en-US')} B a connection`;
  return `${per} (heap ${f.growthBytes >= 0 ? '+' : '−'}${mib(Math.abs(f.growthBytes))} over ${f.opened.toLocaleString('en-US')} connections opened)`;
}

export function checkLeaks(leaks: LeakInput, options: CheckOptions = {}, faults: readonly FaultEvent[] = []): Verdict {
  const findings = new Findings();
  const all: Sample[] = [...leaks.baseline, ...leaks.after, ...(leaks.runs ?? []).flat()];
  if (leaks.goneConnectionKeys) all.push(leaks.goneConnectionKeys);
  const end = all.reduce((m, s) => Math.max(m, s.at), 0);
  const tl = faultTimeline(faults, end);
  const margin = options.faultMarginMs ?? DEFAULTS.faultMarginMs;
  const w = (message: string, first: Sample, trail: Sample[]): Witness => ({
    message,
    first,
    at: first.at,
    trail: trail.slice().sort((a, b) => a.at - b.at),
    trailOmitted: 0,
    faultWindow: faultsOverlapping(tl, first.at - margin, first.at + margin),
  });

  const base = new Map<string, ServerSample>();
  for (const s of leaks.baseline) base.set(s.node, s);
  let checked = 0;
  const unmatched: string[] = [];
  const perConn = options.leakPerConnection ?? DEFAULTS.leakPerConnection;
  const perConnNotes: string[] = [];
  const gaugeOnly: string[] = [];
  for (const a of leaks.after) {
    const b = base.get(a.node);
    checked++;
    if (a.connections !== 0) {
      findings.add(a.at, () => w(`${a.node}: open-connection gauge is ${a.connections} after every client left (must be 0)`, a, b ? [b, a] : [a]));
    }
    if (!b) {
      unmatched.push(a.node);
      continue;
    }
    if (a.gaugeOnly || b.gaugeOnly) {
      gaugeOnly.push(a.node);
      continue;
    }
    checked++;
    if (a.openFds !== b.openFds) {
      const d = a.openFds - b.openFds;
      findings.add(a.at, () => w(`${a.node}: ${a.openFds} open fds after every client left, baseline ${b.openFds} (${d > 0 ? '+' : ''}${d})`, a, [b, a]));
    }
    // first: when both heap checks fail, the witness people read first says per connection
    const ref = perConnectionFrom(b, leaks.runs);
    const pc = perConnection(ref.from, a, perConn);
    if (pc) {
      const verdict = pc.judged ? `bound ${perConn.maxBytes} B` : `not judged: fewer than ${perConn.minConnections.toLocaleString('en-US')} connections`;
      perConnNotes.push(`${a.node} ${describePerConnection(pc)}${ref.label === 'baseline' ? '' : ` ${ref.label}`}, ${verdict}`);
      if (pc.judged) checked++;
      if (pc.over) {
        findings.add(a.at, () =>
          w(
            `${a.node}: heap after GC grew ${Math.round(pc.bytesPerConnection!).toLocaleString('en-US')} B per connection opened: +${mib(pc.growthBytes)} over ${pc.opened.toLocaleString('en-US')} connections (${ref.label} ${mib(ref.from.heapUsedAfterGc)}, after every client left ${mib(a.heapUsedAfterGc)}), bound ${perConn.maxBytes} B a connection from ${perConn.minConnections.toLocaleString('en-US')} connections`,
            a,
            ref.from === b ? [b, a] : [b, ref.from, a],
          ),
        );
      }
    }
    checked++;
    const tol = heapTolerance(b.heapUsedAfterGc);
    if (a.heapUsedAfterGc - b.heapUsedAfterGc > tol) {
      findings.add(a.at, () =>
        w(
          `${a.node}: heap after GC ${mib(a.heapUsedAfterGc)} after every client left, baseline ${mib(b.heapUsedAfterGc)} (+${mib(a.heapUsedAfterGc - b.heapUsedAfterGc)}, tolerance ${mib(tol)})`,
          a,
          [b, a],
        ),
      );
    }
    const types = new Set([...Object.keys(a.activeHandles), ...Object.keys(b.activeHandles)]);
    for (const type of [...types].sort()) {
      checked++;
      const n = a.activeHandles[type] ?? 0;
      const n0 = b.activeHandles[type] ?? 0;
      if (n > n0) findings.add(a.at, () => w(`${a.node}: ${n} active ${type} handles after every client left, baseline ${n0} (+${n - n0})`, a, [b, a]));
    }
  }

  const gone = leaks.goneConnectionKeys;
  if (gone) {
    checked++;
    if (gone.count > 0) {
      const eg = gone.examples?.length ? ` (e.g. ${gone.examples.slice(0, 3).join(', ')})` : '';
      findings.add(gone.at, () => w(`redis: ${plural(gone.count, 'key')} of gone connections remain after every client left${eg}`, gone, [gone]));
    }
  }

  const series = new Map<string, ServerSample[]>();
  for (const run of leaks.runs ?? []) {
    for (const s of run) {
      const l = series.get(s.node);
      if (l) l.push(s);
      else series.set(s.node, [s]);
    }
  }
  for (const [node, l] of series) {
    if (l.length < 2 || l.some((x) => x.gaugeOnly)) continue;
    checked++;
    const first = l[0]!;
    const tol = heapTolerance(base.get(node)?.heapUsedAfterGc ?? first.heapUsedAfterGc);
    const rising = l.every((s, i) => i === 0 || s.heapUsedAfterGc > l[i - 1]!.heapUsedAfterGc);
    const last = l[l.length - 1]!;
    const rise = last.heapUsedAfterGc - first.heapUsedAfterGc;
    if (!rising || rise <= tol) continue;
    const over = l.find((s) => s.heapUsedAfterGc - first.heapUsedAfterGc > tol)!;
    findings.add(over.at, () =>
      w(
        `${node}: heap after GC rose after every one of ${l.length} identical runs: ${l.map((s) => (s.heapUsedAfterGc / MiB).toFixed(1)).join(' → ')} MiB (+${mib(rise)}, tolerance ${mib(tol)})`,
        over,
        l,
      ),
    );
  }

  const notes = [`${plural(checked, 'comparison')} over ${plural(leaks.after.length, 'node')}`];
  if (unmatched.length) notes.push(`no baseline for ${unmatched.join(', ')} (only its gauge checked)`);
  if (gaugeOnly.length) notes.push(`only the open-connection gauge judged for ${gaugeOnly.join(', ')} (read from /metrics: no forced GC, so heap, fds and handles are not compared)`);
  if (series.size) notes.push(`heap series over ${plural(Math.max(...[...series.values()].map((l) => l.length)), 'run')}`);
  if (perConnNotes.length) notes.push(`heap per connection: ${perConnNotes.join('; ')}`);
  return findings.verdict('leaks', checked, notes.join('; '), options.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export type { GoneKeysSample, LeakInput, ServerSample };
