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
  /** Advances several cursors of one device atomically (conversation → mark); marks must already be clamped to the head. */
  advanceCursors(user: string, device: string, marks: ReadonlyMap<string, StoredMark>): Promise<void>;
  /**
   * Advances the cursors of several devices in one round trip (a pipeline on Redis): each
   * device's marks as advanceCursors writes them (atomically, forward only), the devices
   * independently of each other. Resolves with one entry per device, in order: true when
   * the store confirmed that device's write, false when it did not (it may or may not have
   * happened). Rejects (`unavailable`) when the store confirmed none of them.
   */
  advanceCursorsBatch(batch: readonly DeviceMarks[]): Promise<boolean[]>;
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

/** One device's marks in a batch: conversation → mark (a connection's coalesced acks as they are). */
export interface DeviceMarks {
  user: string;
  device: string;
  marks: ReadonlyMap<string, StoredMark>;
}
