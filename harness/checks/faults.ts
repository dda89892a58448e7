import type { FaultEvent } from '../model/facts.ts';

/**
 * The fault timeline as intervals. A FaultEvent without `end` is either instantaneous
 * (a `…:restart`, or `detail.instant === true`) or lasts until it is healed: until the next
 * event on the same target whose action heals (restart, start, resume, unpause, enable,
 * heal, remove, up), else until the end of the run.
 */
export interface FaultTimeline {
  /** sorted by start */
  events: FaultEvent[];
  /** ends[i] = effective end of events[i] */
  ends: number[];
  /** running maximum of ends over events[0..i] (to stop scans early) */
  maxEndUpTo: number[];
}

const INSTANT = /:restart$/;
const HEALS = /:(restart|start|resume|unpause|enable|heal|remove|up)$/;

/**
 * Hostile clients' attacks are on the timeline (a node-exit witness names them), but they
 * are load, not faults: other users must not notice them, so delivery deadlines and
 * presence are not relaxed around them.
 */
export function excusingFaults(faults: readonly FaultEvent[]): FaultEvent[] {
  return faults.filter((f) => !f.kind.startsWith('attack:'));
}

export function faultTimeline(faults: readonly FaultEvent[], runEnd: number): FaultTimeline {
  const events = faults.slice().sort((a, b) => a.start - b.start);
  const ends = events.map((f, i) => {
    if (f.end !== undefined) return f.end;
    if (INSTANT.test(f.kind) || f.detail?.instant === true) return f.start;
    for (let j = i + 1; j < events.length; j++) {
      const g = events[j]!;
      if (g.target === f.target && HEALS.test(g.kind)) return g.start;
    }
    return Math.max(runEnd, f.start);
  });
  const maxEndUpTo: number[] = [];
  let m = -Infinity;
  for (const e of ends) maxEndUpTo.push((m = Math.max(m, e)));
  return { events, ends, maxEndUpTo };
}

/** The fault events whose interval overlaps [from, to]. */
export function faultsOverlapping(tl: FaultTimeline, from: number, to: number): FaultEvent[] {
  const out: FaultEvent[] = [];
  for (let i = firstEndingAtOrAfter(tl, from); i < tl.events.length; i++) {
    const f = tl.events[i]!;
    if (f.start > to) break;
    if (tl.ends[i]! >= from) out.push(f);
  }
  return out;
}

/**
 * When delivery of a message stored at `storedAt` is due: `withinMs` after storedAt, pushed
 * to `withinMs` after the end of any fault overlapping the window so far (repeated: a
 * fault that starts inside the extended window extends it again). `since` is the time the
 * clock started from (storedAt, or the last overlapping fault's end).
 */
export function deliveryDeadline(tl: FaultTimeline, storedAt: number, withinMs: number): { since: number; deadline: number } {
  let since = storedAt;
  let deadline = storedAt + withinMs;
  for (let i = firstEndingAtOrAfter(tl, storedAt); i < tl.events.length; i++) {
    const f = tl.events[i]!;
    if (f.start > deadline) break;
    const end = tl.ends[i]!;
    if (end >= storedAt && end > since) {
      since = end;
      deadline = end + withinMs;
    }
  }
  return { since, deadline };
}

/** The first index from which some event may end at or after `t` (every earlier one ended before it). */
function firstEndingAtOrAfter(tl: FaultTimeline, t: number): number {
  let lo = 0;
  let hi = tl.maxEndUpTo.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tl.maxEndUpTo[mid]! >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
