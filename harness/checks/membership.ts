import type { MemberFact } from '../model/facts.ts';

/**
 * Who was a member of a conversation when a message was stored: the initial members (from
 * the Population, or the two users a `dm:` id names) changed by the harness's joins and
 * leaves (MemberFacts).
 *
 * A change with a known `seq` takes effect at that head: joined at J → member of messages
 * with seq > J; left at L → member of messages with seq ≤ L (both: "the change precedes
 * the messages above its seq"). A change without a seq is placed by time against the
 * interval in which the message was stored, [storedLow, storedHigh]: a change that took
 * effect somewhere in [at, until] (until absent: at) precedes when until ≤ storedLow,
 * follows when at ≥ storedHigh, and otherwise overlaps the send: it is ambiguous and
 * the membership is unknown (undefined) — a checker then skips that member rather than
 * guess.
 */
export interface MemberTimeline {
  conv: string;
  initial: ReadonlySet<string>;
  /** per user, the changes in the order they were made (by `at`, then recording order) */
  changes: Map<string, MemberFact[]>;
}

/** The two users of a `dm:<a>:<b>` id, or undefined for any other id. */
export function dmUsers(conv: string): [string, string] | undefined {
  if (!conv.startsWith('dm:')) return undefined;
  const parts = conv.split(':');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
  return [parts[1], parts[2]];
}

export function newTimeline(conv: string, initial: Iterable<string> | undefined): MemberTimeline {
  return { conv, initial: new Set(initial ?? dmUsers(conv) ?? []), changes: new Map() };
}

export function addChange(tl: MemberTimeline, f: MemberFact): void {
  let list = tl.changes.get(f.user);
  if (!list) tl.changes.set(f.user, (list = []));
  list.push(f);
}

/** Call once after every change was added. */
export function sealTimeline(tl: MemberTimeline): void {
  // Array.prototype.sort is stable: equal times keep the recording order
  for (const list of tl.changes.values()) if (list.length > 1) list.sort((a, b) => a.at - b.at);
}

/** Every user who was ever a member. */
export function everMembers(tl: MemberTimeline): Set<string> {
  const s = new Set(tl.initial);
  for (const [u, list] of tl.changes) if (list.some((c) => c.op === 'join')) s.add(u);
  return s;
}

/**
 * Was `user` a member when the message `seq` was stored (somewhere in [storedLow, storedHigh])?
 * true / false, or undefined when a change without a seq falls inside that interval.
 */
export function memberAt(tl: MemberTimeline, user: string, seq: number, storedLow?: number, storedHigh?: number): boolean | undefined {
  let state = tl.initial.has(user);
  const list = tl.changes.get(user);
  if (!list) return state;
  let unknown = false;
  for (const c of list) {
    let precedes: boolean | undefined;
    if (c.seq !== undefined) precedes = seq > c.seq;
    else if (storedLow !== undefined && (c.until ?? c.at) <= storedLow) precedes = true;
    else if (storedHigh !== undefined && c.at >= storedHigh) precedes = false;
    else precedes = undefined;
    if (precedes === true) {
      state = c.op === 'join';
      unknown = false;
    } else if (precedes === undefined) unknown = true;
  }
  return unknown ? undefined : state;
}
