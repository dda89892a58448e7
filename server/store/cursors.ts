/**
 * Per-device delivery cursors and per-user read marks. Redis implementation:
 * redis/redis-cursors.ts; in-memory: memory/memory-store.ts.
 *
 * A mark is a seq *in an epoch*: a mark of another epoch than the conversation's current
 * one counts as 0. Contract: every write is forward-only per conversation within an epoch
 * (a lower seq in the same epoch is ignored; a mark of another epoch replaces the old
 * one), so concurrent and repeated writes commute. Errors: ProtocolError `unavailable`
 * when the store did not confirm (the write may or may not have happened).
 */
export interface CursorStore {
  /** Every cursor of one device. */
  cursors(user: string, device: string): Promise<Map<string, StoredMark>>;
  cursorOf(user: string, device: string, conv: string): Promise<StoredMark | null>;
  /** Advances several cursors of one device atomically; marks must already be clamped to the head. */
  advanceCursors(user: string, device: string, marks: readonly ConvMark[]): Promise<void>;
  /** Every read mark of a user (all devices share them). */
  reads(user: string): Promise<Map<string, StoredMark>>;
  /**
   * Advances a read mark; when it moved, publishes the `r` bus payload (atomically with
   * the write) so the user's other connections learn it. Returns whether it moved.
   */
  advanceRead(user: string, mark: ConvMark, originConn: string): Promise<boolean>;
}

/** A cursor as stored: the seq and the epoch it was taken in. */
export interface StoredMark {
  epoch: string;
  seq: number;
}

export interface ConvMark extends StoredMark {
  conv: string;
}
