// The reconnect herd: what a disconnect storm does to the connection lifecycle, derived
// after the run from the fleet's `conn` facts, the fault timeline and the nodes' counters.
// For each cut (faults that drop client connections, started together), who was connected,
// who was dropped, and how fast they came back (welcomed, then synced) measured from the
// cut's start; over the whole run, connection attempts, welcomes and syncs per bucket and
// the peak rates, with the server's accept rate beside the fleet's.
import type { Fact, FaultEvent } from '../model/facts.ts';
import type { ServerSamples } from './sampler.ts';

/** Fault kinds that close client connections (a node's or a client link's). */
const CUTTING = /^(toxic:(reset_peer|limit_data)|link:disable|node:(restart|kill|stop))$/;
/** faults starting within this of an instantaneous cut's start belong to it */
const GROUP_MS = 500;
/** a connection closed this long after its cut healed still counts as dropped by it (a close is noticed late) */
const DROP_GRACE_MS = 1000;
/**
 * Faults are recorded from their request (harness/env/topology.ts), and a link's first
 * closes can come with it: a cut's drops are looked for from this long before its start
 * (never before the previous cut's window ended).
 */
const LOOKBACK_MS = 1000;

export interface HerdPercentiles {
  /** ms from the cut's start until this share of the dropped devices was back; null when fewer were back before the final sync */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface HerdCut {
  /** ms since the epoch: the first fault's recorded start, or the first connection it dropped when earlier; and when the last one healed (its start for an instant one) */
  at: number;
  healedAt: number;
  /** the faults, e.g. `toxic:reset_peer on client-link:node-1` */
  faults: string[];
  /** devices with a welcomed connection open LOOKBACK_MS before the fault's recorded start */
  connected: number;
  /** of those, devices whose connection closed by DROP_GRACE_MS after `healedAt` */
  dropped: number;
  droppedRatio: number;
  /** from `at` to the dropped devices' next welcome */
  welcomedMs: HerdPercentiles;
  /** from `at` to the dropped devices' next `synced` (caught up on their backlog) */
  syncedMs: HerdPercentiles;
  /** dropped devices not synced again before the final sync began */
  notBack: number;
  /** connection attempts from `at` until the last dropped device was back (or the next cut) */
  attempts: number;
  /** the fleet's welcomes per second in that span, best 1 s window */
  peakWelcomesPerSec: number;
  /** the nodes' accepted WebSocket upgrades per second in that span, summed over nodes (server samples), best sample */
  peakAcceptsPerSec: number | null;
}

export interface HerdReport {
  bucketMs: number;
  /** bucket starts (ms since the epoch) and counts per bucket: connection attempts, welcomes, syncs, welcomed connections closed */
  series: { t: number[]; attempts: number[]; welcomes: number[]; synced: number[]; drops: number[] };
  /** best 1 s window over the run, fleet side */
  peakAttemptsPerSec: number;
  peakWelcomesPerSec: number;
  /** the nodes' accepted upgrades per second summed over nodes, best sample; null without server samples */
  peakAcceptsPerSec: number | null;
  cuts: HerdCut[];
}

export interface HerdInput {
  facts: Iterable<Fact>;
  faults: readonly FaultEvent[];
  server?: ServerSamples;
  /** when each final sync began: a device synced again only then was not back from the storm */
  syncStarts: readonly number[];
  bucketMs?: number;
}

type ConnFact = Extract<Fact, { k: 'conn' }>;

/** One welcomed connection of a device: welcome, synced and close times. */
interface Life {
  welcome: number;
  synced?: number;
  close?: number;
}

/** The herd section, or null when the run had no fault that cuts client connections. */
export function herdReport(input: HerdInput): HerdReport | null {
  const cuts = groupCuts(input.faults);
  if (!cuts.length) return null;
  const bucketMs = input.bucketMs ?? 250;
  const conns: ConnFact[] = [];
  for (const f of input.facts) if (f.k === 'conn') conns.push(f);
  conns.sort((a, b) => a.at - b.at);

  // every device's welcomed connections in order, and the run's buckets
  const lives = new Map<string, Life[]>();
  const byConn = new Map<string, Life>();
  const first = conns[0]?.at ?? cuts[0]!.at;
  const last = conns[conns.length - 1]?.at ?? first;
  const n = Math.floor((last - first) / bucketMs) + 1;
  const t0 = Math.floor(first / bucketMs) * bucketMs;
  const series = { t: Array.from({ length: n }, (_, i) => t0 + i * bucketMs), attempts: new Array<number>(n).fill(0), welcomes: new Array<number>(n).fill(0), synced: new Array<number>(n).fill(0), drops: new Array<number>(n).fill(0) };
  const bucket = (at: number) => Math.min(n - 1, Math.max(0, Math.floor((at - t0) / bucketMs)));
  for (const f of conns) {
    switch (f.event) {
      case 'connect':
        series.attempts[bucket(f.at)]!++;
        break;
      case 'welcome': {
        const life: Life = { welcome: f.at };
        byConn.set(f.conn, life);
        let l = lives.get(f.client);
        if (!l) lives.set(f.client, (l = []));
        l.push(life);
        series.welcomes[bucket(f.at)]!++;
        break;
      }
      case 'synced': {
        const life = byConn.get(f.conn);
        if (life && life.synced === undefined) life.synced = f.at;
        series.synced[bucket(f.at)]!++;
        break;
      }
      case 'close': {
        const life = byConn.get(f.conn);
        if (life && life.close === undefined) {
          life.close = f.at;
          series.drops[bucket(f.at)]!++;
        }
        break;
      }
    }
  }
  const perSec = (col: number[], from: number, to: number) => peakPerSecond(series.t, col, bucketMs, from, to);
  const accepts = acceptRates(input.server);

  let prevEnd = -Infinity;
  const out: HerdCut[] = cuts.map((cut, i) => {
    const next = cuts[i + 1]?.at ?? Infinity;
    const from = Math.max(cut.at - LOOKBACK_MS, prevEnd);
    prevEnd = cut.healedAt + DROP_GRACE_MS;
    // back: synced again before the final sync (a device still down when the next cut came counts
    // when it is back, so overlapping storms show as long recoveries rather than vanish)
    const until = input.syncStarts.find((s) => s > cut.at) ?? Infinity;
    let connected = 0;
    const welcomed: number[] = [];
    const synced: number[] = [];
    let dropped = 0;
    let notBack = 0;
    let backEnd = cut.healedAt;
    // the cut's moment: its recorded start, or its first drop when that came earlier
    let at = cut.at;
    const downs: Array<{ closedAt: number; again?: Life; back?: Life }> = [];
    for (const l of lives.values()) {
      const open = l.find((x) => x.welcome <= from && (x.close === undefined || x.close > from));
      if (!open) continue;
      connected++;
      if (open.close === undefined || open.close > cut.healedAt + DROP_GRACE_MS) continue;
      const closedAt = open.close;
      at = Math.min(at, closedAt);
      downs.push({ closedAt, again: l.find((x) => x.welcome > closedAt), back: l.find((x) => x.welcome > closedAt && x.synced !== undefined && x.synced < until) });
    }
    for (const d of downs) {
      dropped++;
      if (d.again && d.again.welcome < until) welcomed.push(d.again.welcome - at);
      if (d.back) {
        synced.push(d.back.synced! - at);
        backEnd = Math.max(backEnd, d.back.synced!);
      } else notBack++;
    }
    // attempts and peaks up to the next cut: its own herd is its own
    const spanEnd = Math.min(backEnd, next);
    return {
      at,
      healedAt: cut.healedAt,
      faults: cut.faults,
      connected,
      dropped,
      droppedRatio: connected ? round3(dropped / connected) : 0,
      welcomedMs: shares(welcomed, dropped),
      syncedMs: shares(synced, dropped),
      notBack,
      attempts: attemptsIn(conns, at, spanEnd),
      peakWelcomesPerSec: perSec(series.welcomes, at, spanEnd),
      peakAcceptsPerSec: accepts ? peakIn(accepts, at, spanEnd + 1000) : null,
    };
  });
  return {
    bucketMs,
    series,
    peakAttemptsPerSec: perSec(series.attempts, -Infinity, Infinity),
    peakWelcomesPerSec: perSec(series.welcomes, -Infinity, Infinity),
    peakAcceptsPerSec: accepts ? peakIn(accepts, -Infinity, Infinity) : null,
    cuts: out,
  };
}

/** Faults that cut client connections, grouped by start: one storm may be several steps. */
function groupCuts(faults: readonly FaultEvent[]): Array<{ at: number; healedAt: number; faults: string[] }> {
  const cutting = faults.filter((f) => CUTTING.test(f.kind) && (f.kind.startsWith('node:') || f.target.startsWith('client-link:'))).sort((a, b) => a.start - b.start);
  const out: Array<{ at: number; healedAt: number; faults: string[] }> = [];
  for (const f of cutting) {
    const cur = out[out.length - 1];
    const end = f.end ?? f.start;
    // steps planned together start a few ms apart, or seconds apart on a busy machine: a fault that starts before the cut healed belongs to it
    if (cur && f.start <= Math.max(cur.healedAt, cur.at + GROUP_MS)) {
      cur.healedAt = Math.max(cur.healedAt, end);
      cur.faults.push(`${f.kind} on ${f.target}`);
    } else out.push({ at: f.start, healedAt: end, faults: [`${f.kind} on ${f.target}`] });
  }
  return out;
}

/**
 * The time by which half, 99% and all of `total` devices were back; the values are those
 * that came back (ms from the cut), the rest count as never.
 */
function shares(values: number[], total: number): HerdPercentiles {
  const xs = [...values].sort((a, b) => a - b);
  const at = (q: number): number | null => {
    if (total === 0) return null;
    const k = Math.ceil(q * total);
    return k <= xs.length ? xs[Math.max(0, k - 1)]! : null;
  };
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** The nodes' accepted upgrades per second summed over nodes, per sample time. */
function acceptRates(server: ServerSamples | undefined): Array<[number, number]> | null {
  const nodes = server?.targets.filter((t) => t.kind === 'node' && t.values['acceptsPerSec']) ?? [];
  if (!nodes.length) return null;
  const sum = new Map<number, number>();
  for (const n of nodes) {
    const col = n.values['acceptsPerSec']!;
    n.t.forEach((t, i) => {
      const v = col[i];
      if (v !== null && v !== undefined) sum.set(t, (sum.get(t) ?? 0) + v);
    });
  }
  return [...sum].sort((a, b) => a[0] - b[0]);
}

function peakIn(points: Array<[number, number]>, from: number, to: number): number {
  let best = 0;
  for (const [t, v] of points) if (t >= from && t <= to) best = Math.max(best, v);
  return round3(best);
}

/** The most counted in any 1 s window of whole buckets within [from, to], per second. */
function peakPerSecond(t: number[], col: number[], bucketMs: number, from: number, to: number): number {
  const w = Math.max(1, Math.round(1000 / bucketMs));
  let best = 0;
  let sum = 0;
  const inSpan = (i: number) => t[i]! + bucketMs > from && t[i]! <= to;
  for (let i = 0; i < col.length; i++) {
    sum += inSpan(i) ? col[i]! : 0;
    if (i >= w) sum -= inSpan(i - w) ? col[i - w]! : 0;
    best = Math.max(best, sum);
  }
  return round3((best * 1000) / (w * bucketMs));
}

function attemptsIn(conns: readonly ConnFact[], from: number, to: number): number {
  let s = 0;
  for (const f of conns) if (f.event === 'connect' && f.at >= from && f.at <= to) s++;
  return s;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
