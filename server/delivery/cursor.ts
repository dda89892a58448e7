import type { StoredMark } from '../store/cursors.ts';
import type { ConvState } from '../store/log.ts';

/**
 * Where a device's delivery of a conversation starts (PROTOCOL.md "Connect" 3 and 6): after
 * its stored cursor when that was taken in the conversation's current epoch (another
 * epoch's counts as 0), never before the user's join point (or `joinSeq`, a join the
 * caller learnt of on the bus), and never past the head.
 */
export function startCursor(st: ConvState, stored: StoredMark | null | undefined, joinSeq = 0): number {
  const own = stored && stored.epoch === st.epoch ? stored.seq : 0;
  return Math.min(st.head, Math.max(own, st.join, joinSeq));
}

/**
 * For a member who left and joined again (`prevLeft`): where a connecting device's delivery
 * of that earlier membership starts — after its stored cursor, never before that membership's
 * join — or null when the device is owed nothing of it (PROTOCOL.md guarantee 1: every device
 * of every user who was a member when a message was stored receives it; the new join
 * restarts at its own point). The device then continues from `join`.
 */
export function earlierMembershipStart(st: ConvState, stored: StoredMark | null | undefined): number | null {
  if (st.prevLeft < 0 || st.left >= 0 || st.join < 0) return null;
  const own = stored && stored.epoch === st.epoch ? stored.seq : 0;
  const from = Math.max(own, st.prevJoin);
  return from < Math.min(st.prevLeft, st.head) ? from : null;
}

/** A cursor exists but was taken in another epoch: the device must be told the new one. */
export function cursorOfOtherEpoch(st: ConvState, stored: StoredMark | null | undefined): boolean {
  return stored !== undefined && stored !== null && stored.epoch !== st.epoch;
}
