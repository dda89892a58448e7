import type { LogEntry } from '../store/log.ts';

/**
 * What a channel needs from its node. One object serves every channel of a node (each
 * callback gets the channel), so a conversation costs a channel and not a set of closures.
 */
export interface ChannelIO<M> {
  /** reads the log from `from` to `to` (inclusive, at most `count` entries), ascending */
  fetch(ch: ConvChannel<M>, from: number, to: number, count: number): Promise<LogEntry[]>;
  /** the next seq, in order */
  deliver(ch: ConvChannel<M>, seq: number, frame: string): void;
  /** seqs from..to will never come: retention removed them before the node read them */
  skipped(ch: ConvChannel<M>, from: number, to: number): void;
  /** the conversation's data was lost and recreated under `epoch`; seqs start over */
  epochChanged(ch: ConvChannel<M>, epoch: string): void;
  /** a fill failed (store unavailable); the caller retries through `noteHead` later */
  fillFailed(ch: ConvChannel<M>, err: unknown): void;
}

const FILL_BATCH = 200;
/** Out-of-order bus messages kept while a fill runs; beyond this they are re-read from the log. */
const MAX_PENDING = 10_000;

/**
 * Ordering state of one conversation on this node (DESIGN.md: per node and conversation,
 * not per connection). The bus is lossy and may skip seqs; the channel hands seqs to its
 * listener strictly in order, each once, filling holes from the log — one fill at a time
 * per conversation, however many local connections it has.
 */
export class ConvChannel<M = unknown> {
  readonly conv: string;
  epoch: string | null = null;
  /** highest seq delivered, contiguously */
  last = 0;
  /** the local connections' views of this conversation */
  readonly members = new Set<M>();
  /** attaches in progress; the channel stays while any runs */
  pins = 0;
  private capturing = true;
  /** the bus may be losing messages: buffer what arrives until a resync `resume`s */
  private held = false;
  /** highest seq seen while held beyond what the buffer keeps */
  private heldMax = 0;
  // allocated on first use: most channels never see an out-of-order message
  private captured: { epoch: string; seq: number; frame: string }[] | null = null;
  private pending: Map<number, string> | null = null;
  private fillTarget = 0;
  private filling = false;
  private readonly io: ChannelIO<M>;

  constructor(conv: string, io: ChannelIO<M>) {
    this.conv = conv;
    this.io = io;
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
    const captured = this.captured;
    this.captured = null;
    if (captured) for (const m of captured) this.onBus(m.epoch, m.seq, m.frame);
  }

  /**
   * The bus link dropped: what it brings next may come after a hole, or after a membership
   * change it lost. Nothing is delivered until a resync has read the head (and the hub the
   * memberships) and calls `resume`.
   */
  hold(): void {
    if (!this.capturing) this.held = true;
  }

  /** The end of `hold`: fill up to the store's head, then take what arrived meanwhile, in order. */
  resume(epoch: string | null, head: number): void {
    if (!this.held) return this.noteHead(epoch, head);
    this.held = false;
    const captured = this.captured;
    const heldMax = this.heldMax;
    this.captured = null;
    this.heldMax = 0;
    this.noteHead(epoch, head);
    if (captured) for (const m of captured) this.onBus(m.epoch, m.seq, m.frame);
    if (heldMax > this.last) this.fillTo(heldMax);
  }

  /** A message from the bus. */
  onBus(epoch: string, seq: number, frame: string): void {
    if (this.capturing || this.held) {
      this.captured ??= [];
      // bounded: beyond it only the highest seq is kept, and the log fills up to it
      if (this.held && this.captured.length >= MAX_PENDING) {
        if (epoch === this.epoch) this.heldMax = Math.max(this.heldMax, seq);
      } else this.captured.push({ epoch, seq, frame });
      return;
    }
    if (epoch !== this.epoch) this.resetEpoch(epoch);
    if (seq <= this.last) return;
    if (seq === this.last + 1 && !this.filling) {
      this.advance(seq, frame);
      this.drainPending();
      return;
    }
    this.pending ??= new Map();
    if (this.pending.size < MAX_PENDING) this.pending.set(seq, frame);
    this.fillTo(seq - 1);
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
          this.pending?.delete(e.seq);
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
      const next = this.pending.get(this.last + 1);
      if (next === undefined) return;
      this.pending.delete(this.last + 1);
      this.advance(this.last + 1, next);
    }
  }
}
