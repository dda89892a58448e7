/**
 * The conversation log: the truth of every conversation (DESIGN.md "The conversation log
 * is the truth"). Redis implementation: redis/redis-log.ts; in-memory: memory/memory-store.ts.
 *
 * Contract for every method: it completes, or throws a ProtocolError — `unavailable` when
 * the store did not confirm in time (the effect is then unknown: the caller must not
 * assume it failed), the protocol's own codes (`forbidden`, `not_found`) for refusals.
 * Seqs of a conversation start at 1 and rise by exactly 1 within an epoch; an epoch is
 * a random id that changes when the conversation's data was lost and recreated.
 */
export interface ConversationLog {
  /**
   * Stores one message, atomically: membership check (groups), dedupe, append, retention
   * and publication of the `m` bus payload happen as one step, so the bus never carries a
   * message the log does not hold, and two sends of one (conv, sender, cmid) within
   * DEDUPE_TTL_MS get one seq (the second answers `dup` with the first's seq and ts).
   * A dm's first message indexes the conversation for both users before it is stored,
   * and may be refused `rate_limited` when its sender started too many dms this minute.
   */
  send(req: SendRequest): Promise<SendResult>;
  /**
   * One state per conversation, in order, for `user`, in one round trip. `afterLog`: the
   * caller issued a `range` of this log just before, in the same turn, and needs the states
   * read after it (a leave stored meanwhile must show); without it the read may run on
   * another link than `range`'s, in any order with it.
   */
  states(user: string, convs: readonly string[], afterLog?: boolean): Promise<ConvState[]>;
  /** Epoch and head per conversation (no membership check), in one round trip. */
  heads(convs: readonly string[]): Promise<ConvHead[]>;
  /** Stored messages with from ≤ seq ≤ to (to null: no bound), at most `count`, ascending. */
  range(conv: string, from: number, to: number | null, count: number): Promise<LogEntry[]>;
  /** A history page as PROTOCOL.md `history` defines it; checks membership. */
  history(user: string, conv: string, q: HistoryQuery): Promise<HistoryPage>;
  /**
   * Reclaims, in up to `limit` conversations, what expired (sends trim only the conversation
   * they write to, so one nobody writes to any more is reached only here): messages stored
   * RETENTION_MS ago or earlier are trimmed as a send trims them (the conversation's head,
   * epoch and trimmed mark stay; a trimmed message's dedupe entry still answers `dup` until
   * DEDUPE_TTL_MS), dedupe entries past DEDUPE_TTL_MS are deleted. Every conversation with
   * something to expire is reached within a bounded delay of its expiry by calling this
   * repeatedly (at once again while `more`). Safe to call from several nodes at once (each
   * conversation's step is atomic and idempotent); bounded work per call.
   */
  reclaim(limit: number): Promise<ReclaimResult>;
}

export interface ReclaimResult {
  /** conversations in which something was trimmed or forgotten */
  conversations: number;
  messages: number;
  dedupeEntries: number;
  /** more conversations may be due now than `limit` took */
  more: boolean;
}

export interface SendRequest {
  conv: string;
  isGroup: boolean;
  /** a dm's two users (indexed before its first message); empty for a group */
  dmUsers: readonly string[];
  sender: string;
  cmid: string;
  /** the body as a JSON string literal (JSON.stringify(body)): stored and pushed as is */
  bodyJson: string;
}

export interface SendResult {
  seq: number;
  ts: number;
  epoch: string;
  dup: boolean;
}

export interface ConvHead {
  /** null when the conversation does not exist (yet, or any more) */
  epoch: string | null;
  head: number;
}

/**
 * How many ended memberships of one user in one group the store remembers (the oldest is
 * forgotten past it): a device away across more leave-and-join cycles than this misses the
 * oldest memberships' messages. README "Known limitations".
 */
export const MEMBERSHIPS_KEPT = 32;

/** `earlier` when there is none (shared: most states have none). */
export const NO_EARLIER: readonly number[] = Object.freeze([]);

export interface ConvState extends ConvHead {
  /** last seq removed by retention */
  trimmed: number;
  /** join seq for a group member (or former member), 0 for a dm, -1 when the user never was a member */
  join: number;
  /** for a former group member: the head when it left (its devices get messages up to it); else -1 */
  left: number;
  /**
   * The user's ended memberships before the one `join`/`left` describe, oldest first, as
   * flat pairs [join, left, join, left, …] (at most MEMBERSHIPS_KEPT in all, with that one).
   * Empty for a dm, or for one membership only. A device is owed each (join, left] it lacks,
   * and never a seq stored between two of them (PROTOCOL.md guarantee 1).
   */
  earlier: readonly number[];
}

/** One stored message: its seq and its `msg` frame, ready to write to a socket. */
export interface LogEntry {
  seq: number;
  frame: string;
}

export interface HistoryQuery {
  after?: number | undefined;
  before?: number | undefined;
  limit: number;
}

export interface HistoryPage {
  epoch: string;
  /** each message as a JSON object text (encode.storedMessage), ascending seq */
  msgsJson: string[];
  more: boolean;
}
