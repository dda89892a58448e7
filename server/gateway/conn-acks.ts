import type { StoredMark } from '../store/cursors.ts';

/** A conversation's highest acked mark on one connection, updated in place; `due` until a write takes it. */
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
 * and which of them are due, i.e. not yet taken by a write to its device's cursor
 * (ack-flusher.ts writes them; a write the store did not confirm makes its marks due again).
 *
 * The marks stay from one flush to the next and are updated in place; a flush takes a
 * snapshot that lives only while its write is in flight. Before (issue 10), each flush took
 * the connection's Map of marks away and the next ack started a fresh one: Map and marks
 * lived about a second, past two young-generation collections, so they were promoted to old
 * space and left there for a major collection to sweep — 7.5 % of the bytes the 1:1
 * bench's node promoted (docs/performance-journal.md, "Acks and rate buckets kept in place"). The price: a
 * connection keeps one small object per conversation it acked, up to KEPT; one holding more
 * drops them all at each flush and starts over, as every connection did before.
 */
export class ConnAcks {
  /**
   * Marks kept from one flush to the next. A device in a few conversations (the common case)
   * keeps all of its own; past this many a flush drops them, so what a connection holds and
   * a flush walks stays bounded however many conversations it has acked in (a user other
   * users keep opening dms with, say).
   */
  static readonly KEPT = 32;

  private readonly marks = new Map<string, AckMark>();
  /** how many marks are due */
  private dueCount = 0;

  /** How many conversations have a mark no write has taken yet. */
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
    // the snapshot holds what was taken; a failed write gives it back (giveBack records it)
    if (this.marks.size > ConnAcks.KEPT) this.marks.clear();
    return taken;
  }

  /**
   * The store did not confirm the write of `taken`: each of its marks is due again, unless
   * what the connection holds now is ahead of it — a higher seq, or a mark of another epoch
   * (acked since, so the newer). Several batches of one connection may fail in any order.
   */
  giveBack(taken: ReadonlyMap<string, StoredMark>): void {
    for (const [conv, t] of taken) {
      const m = this.marks.get(conv);
      // dropped by take (past KEPT) and not acked since: recorded again
      if (m === undefined) this.record(conv, t);
      else if (m.epoch === t.epoch && (t.seq > m.seq || (t.seq === m.seq && !m.due))) {
        m.seq = t.seq;
        if (!m.due) {
          m.due = true;
          this.dueCount++;
        }
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
