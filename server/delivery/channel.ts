import type { LogEntry } from '../store/log.ts';

/**
 * What a channel needs from its node. One object serves every channel of a node (each
 * callback gets the channel), so a conversation costs a channel and not a set of closures.
 */
export interface ChannelIO<M, V = unknown> {
  /** reads the log from `from` to `to` (inclusive, at most `count` entries), ascending */
  fetch(ch: ConvChannel<M, V>, from: number, to: number, count: number): Promise<LogEntry[]>;
  /** the next seq, in order */
  deliver(ch: ConvChannel<M, V>, seq: number, frame: string): void;
  /** seqs from..to will never come: retention removed them before the node read them */
  skipped(ch: ConvChannel<M, V>, from: number, to: number): void;
  /** the conversation's data was lost and recreated under `epoch`; seqs start over */
  epochChanged(ch: ConvChannel<M, V>, epoch: string): void;
  /** a fill failed (store unavailable); the caller retries through `noteHead` later */
  fillFailed(ch: ConvChannel<M, V>, err: unknown): void;
}

const FILL_BATCH = 200;

/**
 * Bus messages a channel keeps while it cannot deliver them (out of order during a fill,
 * or captured before its start or while held), by count and by bytes; beyond either, a
 * message is not kept and the log fills up to it instead.
 */
export interface ChannelLimits {
  messages: number;
  bytes: number;
}
const DEFAULT_LIMITS: ChannelLimits = { messages: 10_000, bytes: 4 * 1024 * 1024 };

/**
 * Ordering state of one conversation on this node (DESIGN.md: per node and conversation,
 * not per connection). The bus is lossy and may skip seqs; the channel hands seqs to its
 * listener strictly in order, each once, filling holes from the log — one fill at a time
 * per conversation, however many local connections it has.
 */
export class ConvChannel<M = unknown, V = unknown> {
  readonly conv: string;
  epoch: string | null = null;
  /** highest seq delivered, contiguously */
  last = 0;
  /**
   * The local connections holding this conversation (the hub's, read and written there;
   * each sets allocated on first use). A connection live and caught up with `last` is
   * only a member of `quiet` (not yet sent this epoch's `conv` frame) or `told` (sent it):
   * it has been sent every seq up to `last`, in `epoch`, and owes no leave. Any other holds
   * a view of its own (V: its position, a leave, a replay under way) in `views` until it
   * is caught up. (Issue 10: most connections of an idle node are caught up in all their
   * conversations, and a view per connection and conversation was a fifth of its heap.)
   */
  quiet: Set<M> | null = null;
  told: Set<M> | null = null;
  views: Set<V> | null = null;
  /** attaches in progress; the channel stays while any runs */
  pins = 0;
  /**
   * Leaves the bus brought for this conversation. An attach notes it before reading the
   * conversation's state and reads again when it moved: a leave handled while those reads
   * were out finds no view to end, and the answer may predate it (the hub's `readStates`).
   */
  leaves = 0;
  /** a dm's two users, parsed once from its id by the hub, which checks their connections at each of its messages; null for a group */
  dmUsers: readonly [string, string] | null = null;
  private capturing = true;
  /** the bus may be losing messages: buffer what arrives until a resync `resume`s */
  private held = false;
  // allocated on first use: most channels never see an out-of-order message
  private captured: { epoch: string; seq: number; frame: string }[] | null = null;
  private pending: Map<number, string> | null = null;
  /** characters of the frames in `captured` and `pending` */
  private keptChars = 0;
  /** the highest captured seq not kept (the limits), and its epoch: filled from the log on start/resume */
  private overflowSeq = 0;
  private overflowEpoch: string | null = null;
  private fillTarget = 0;
  private filling = false;
  private readonly io: ChannelIO<M, V>;
  private readonly limits: ChannelLimits;

  constructor(conv: string, io: ChannelIO<M, V>, limits: ChannelLimits = DEFAULT_LIMITS) {
    this.conv = conv;
    this.io = io;
    this.limits = limits;
  }

  /** What it keeps now while it cannot deliver (held back by the limits). */
  get kept(): { messages: number; chars: number } {
    return { messages: (this.captured?.length ?? 0) + (this.pending?.size ?? 0), chars: this.keptChars };
  }

  /** no local connection holds it */
  get unheld(): boolean {
    return !this.quiet?.size && !this.told?.size && !this.views?.size;
  }

  get isLive(): boolean {
    return !this.capturing;
  }

  /**
   * Ends capture: the store said the head was `head` in `epoch` at a time after capture
   * began, so captured messages at or below it are already covered and the rest follow.
   */
  start(epoch: string | null, head: number): void {
    if (!this.capturing) return this.noteHead(epoch, head);
    this.capturing = false;
    this.epoch = epoch;
    this.last = head;
    this.replayCaptured();
  }

  /**
   * The bus link dropped: what it brings next may come after a hole, or after a membership
   * change it lost. Nothing is delivered until a resync has read the head (and the hub the
   * memberships) and calls `resume`.
   */
  hold(): void {
    // a channel still capturing stays held after its start, until the resync's resume
    this.held = true;
  }

  /** The end of `hold`: fill up to the store's head, then take what arrived meanwhile, in order. */
  resume(epoch: string | null, head: number): void {
    if (!this.held) return this.noteHead(epoch, head);
    this.held = false;
    this.noteHead(epoch, head);
    this.replayCaptured();
  }

  /** What arrived while capturing or held, in order; then the log up to what was not kept. */
  private replayCaptured(): void {
    const captured = this.captured;
    this.captured = null;
    if (captured) {
      for (const m of captured) {
        this.keptChars -= m.frame.length;
        this.onBus(m.epoch, m.seq, m.frame);
      }
    }
    const { overflowSeq, overflowEpoch } = this;
    this.overflowSeq = 0;
    if (overflowSeq > this.last && overflowEpoch === this.epoch) this.fillTo(overflowSeq);
  }

  /** Room for one more kept frame (counted in when there is). */
  private keep(frame: string): boolean {
    const count = (this.captured?.length ?? 0) + (this.pending?.size ?? 0);
    if (count >= this.limits.messages || this.keptChars + frame.length > this.limits.bytes) return false;
    this.keptChars += frame.length;
    return true;
  }

  /** A message from the bus. */
  onBus(epoch: string, seq: number, frame: string): void {
    if (this.capturing || this.held) {
      if (this.keep(frame)) (this.captured ??= []).push({ epoch, seq, frame });
      else if (seq > this.overflowSeq || epoch !== this.overflowEpoch) {
        this.overflowSeq = seq;
        this.overflowEpoch = epoch;
      }
      return;
    }
    if (epoch !== this.epoch) this.resetEpoch(epoch);
    if (seq <= this.last) return;
    if (seq === this.last + 1 && !this.filling) {
      this.advance(seq, frame);
      this.drainPending();
      return;
    }
    if (this.pending?.has(seq)) return;
    if (this.keep(frame)) {
      (this.pending ??= new Map()).set(seq, frame);
      this.fillTo(seq - 1);
    } else this.fillTo(seq); // not kept: the log brings it with the rest
  }

  private takePending(seq: number): string | undefined {
    const frame = this.pending?.get(seq);
    if (frame !== undefined) {
      this.pending!.delete(seq);
      this.keptChars -= frame.length;
    }
    return frame;
  }

  /** The store's head, learnt out of band (a resync after the bus was lost). */
  noteHead(epoch: string | null, head: number): void {
    if (this.capturing) return this.start(epoch, head);
    if (epoch === null) return; // the conversation is gone; its next message brings the new epoch
    if (epoch !== this.epoch) this.resetEpoch(epoch);
    if (head > this.last) this.fillTo(head);
  }

  private resetEpoch(epoch: string): void {
    this.epoch = epoch;
    this.last = 0;
    for (const f of this.pending?.values() ?? []) this.keptChars -= f.length;
    this.pending = null;
    this.fillTarget = 0;
    this.io.epochChanged(this, epoch);
  }

  private advance(seq: number, frame: string): void {
    this.last = seq;
    this.io.deliver(this, seq, frame);
  }

  private drainPending(): void {
    this.drainPendingContiguous();
    // Anything left above a hole keeps a fill going.
    if (this.pending && this.pending.size > 0 && !this.filling) {
      let max = 0;
      for (const s of this.pending.keys()) if (s > max) max = s;
      this.fillTo(max - 1);
    }
  }

  private fillTo(target: number): void {
    if (target > this.fillTarget) this.fillTarget = target;
    if (this.filling || this.fillTarget <= this.last) return;
    this.filling = true;
    void this.fill();
  }

  private async fill(): Promise<void> {
    const epoch = this.epoch;
    try {
      while (this.last < this.fillTarget && this.epoch === epoch) {
        if (this.pending?.has(this.last + 1)) {
          this.drainPendingContiguous();
          continue;
        }
        const to = Math.min(this.fillTarget, this.last + FILL_BATCH);
        const entries = await this.io.fetch(this, this.last + 1, to, FILL_BATCH);
        if (this.epoch !== epoch) break;
        if (entries.length === 0) {
          // The log has nothing there: retention trimmed it, or the conversation was lost.
          this.io.skipped(this, this.last + 1, to);
          this.last = to;
          continue;
        }
        for (const e of entries) {
          if (e.seq <= this.last) continue;
          if (e.seq > this.last + 1) {
            this.io.skipped(this, this.last + 1, e.seq - 1);
            this.last = e.seq - 1;
          }
          this.takePending(e.seq);
          this.advance(e.seq, e.frame);
        }
      }
    } catch (err) {
      this.filling = false;
      this.io.fillFailed(this, err);
      return;
    }
    this.filling = false;
    this.drainPending();
  }

  private drainPendingContiguous(): void {
    if (!this.pending) return;
    for (;;) {
      const next = this.takePending(this.last + 1);
      if (next === undefined) break;
      this.advance(this.last + 1, next);
    }
    // what a skip (retention) passed over will never be delivered
    for (const seq of this.pending.keys()) if (seq <= this.last) this.takePending(seq);
  }
}
