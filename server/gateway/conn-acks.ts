import type { StoredMark } from '../store/cursors.ts';

/** A conversation's highest acked mark on one connection, updated in place; `due` until a write of it is confirmed. */
class AckMark implements StoredMark {
  epoch: string;
  seq: number;
  due = true;

  constructor(epoch: string, seq: number) {
    this.epoch = epoch;
    this.seq = seq;
  }
}

/**
 * A connection's coalesced acks (`Conn.acks`): per conversation the highest mark it acked,
 * and which of them are due, i.e. not yet confirmed written to its device's cursor
 * (ack-flusher.ts writes them).
 *
 * The marks stay from one flush to the next and are updated in place; a flush takes a
 * snapshot that lives only while its write is in flight. Before (issue 10), each flush took
 * the connection's Map of marks away and the next ack started a fresh one: Map and marks
 * lived about a second, past two young-generation collections, so they were promoted to old
 * space and left there for a major collection — 7.5 % of the bytes the 1:1 bench's node
 * promoted, and the major collections are what the 5,000 msg/s tail waits on (README,
 * "Where the 5,000 msg/s tail comes from"). The price: a connection that ever acked keeps
 * one small object per conversation it acked until it closes.
 */
export class ConnAcks {
  private readonly marks = new Map<string, AckMark>();
  /** how many marks are due */
  private dueCount = 0;

  /** How many conversations have a mark not yet confirmed written. */
  get due(): number {
    return this.dueCount;
  }

  /**
   * Records an ack's mark (already clamped to the head) if it moves the conversation's on: a
   * higher seq, or another epoch (an epoch change must not carry the old seq over). An older
   * mark than one already written is dropped: cursors only move forward.
   */
  record(conv: string, mark: StoredMark): void {
    if (!mark.epoch) return;
    const m = this.marks.get(conv);
    if (m === undefined) {
      this.marks.set(conv, new AckMark(mark.epoch, mark.seq));
      this.dueCount++;
      return;
    }
    if (m.epoch === mark.epoch && mark.seq <= m.seq) return;
    m.epoch = mark.epoch;
    m.seq = mark.seq;
    if (!m.due) {
      m.due = true;
      this.dueCount++;
    }
  }

  /** The due marks, for one write; from here on they are not due (null: none was). */
  take(): Map<string, StoredMark> | null {
    if (this.dueCount === 0) return null;
    const taken = new Map<string, StoredMark>();
    for (const [conv, m] of this.marks) {
      if (!m.due) continue;
      taken.set(conv, { epoch: m.epoch, seq: m.seq });
      m.due = false;
    }
    this.dueCount = 0;
    return taken;
  }

  /** The store did not confirm the write of `taken`: each of its marks is due again, unless a newer one replaced it meanwhile. */
  giveBack(taken: ReadonlyMap<string, StoredMark>): void {
    for (const [conv, t] of taken) {
      const m = this.marks.get(conv);
      if (m === undefined) this.record(conv, t);
      else if (!m.due && m.epoch === t.epoch && m.seq === t.seq) {
        m.due = true;
        this.dueCount++;
      }
    }
  }

  /** What the next flush would write (a copy; nothing changes). */
  pending(): Map<string, StoredMark> {
    const out = new Map<string, StoredMark>();
    for (const [conv, m] of this.marks) if (m.due) out.set(conv, { epoch: m.epoch, seq: m.seq });
    return out;
  }
}

/** An ack's mark, clamped, kept for the connection's next cursor flush (ack-flusher.ts) if it moves the cursor on. */
export function recordAck(conn: { acks: ConnAcks | null }, conv: string, mark: StoredMark): void {
  if (mark.epoch) (conn.acks ??= new ConnAcks()).record(conv, mark);
}
