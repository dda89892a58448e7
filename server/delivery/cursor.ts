import type { StoredMark } from '../store/cursors.ts';
import type { ConvState } from '../store/log.ts';

/** A device's stored cursor where it counts: taken in the conversation's current epoch (another epoch's counts as 0). */
export function ownCursor(st: ConvState, stored: StoredMark | null | undefined): number {
  return stored && stored.epoch === st.epoch ? stored.seq : 0;
}

/**
 * Where a device's delivery of a conversation starts (PROTOCOL.md "Connect" 3 and 6): after
 * its stored cursor when that was taken in the conversation's current epoch (another
 * epoch's counts as 0), never before the user's join point (or `joinSeq`, a join the
 * caller learnt of on the bus), and never past the head.
 */
export function startCursor(st: ConvState, stored: StoredMark | null | undefined, joinSeq = 0): number {
  return Math.min(st.head, Math.max(ownCursor(st, stored), st.join, joinSeq));
}

/** The next stretch of a conversation a device is owed, after a position. */
export interface Owed {
  /** delivery starts after this seq */
  from: number;
  /** and ends with this one (Infinity: the user is a member now, so it goes on) */
  until: number;
  /** a later membership follows `until`: the device is owed that one next */
  more: boolean;
}

/**
 * What a device at position `after` is owed next (PROTOCOL.md guarantee 1: every device of
 * every user who was a member when a message was stored receives it, and no other): the
 * first of the user's memberships — the ended ones in `earlier`, then the one `join`/`left`
 * describe — that ends past `after`, from `after` but never before its join, and never
 * past the head. Null when nothing is owed (never a member, or every membership ended at or
 * before `after`).
 */
export function owedAfter(st: ConvState, after: number): Owed | null {
  if (st.join < 0) return null;
  const e = st.earlier;
  for (let i = 0; i < e.length; i += 2) {
    const from = Math.max(after, e[i]!);
    const end = Math.min(e[i + 1]!, st.head);
    if (from < end) return { from, until: e[i + 1]!, more: true };
  }
  const from = Math.min(st.head, Math.max(after, st.join));
  if (st.left < 0) return { from, until: Infinity, more: false };
  return from < st.left ? { from, until: st.left, more: false } : null;
}

/** A cursor exists but was taken in another epoch: the device must be told the new one. */
export function cursorOfOtherEpoch(st: ConvState, stored: StoredMark | null | undefined): boolean {
  return stored !== undefined && stored !== null && stored.epoch !== st.epoch;
}
