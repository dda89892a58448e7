import { Notifier } from './sync.ts';

/** A piece of a TCP stream as read from its source socket. */
export interface StreamChunk {
  data: Buffer;
  /**
   * performance.now() when the chunk was read from the source. Latency is
   * measured from here (as Toxiproxy does), so time spent queued behind other
   * chunks counts towards the delay instead of adding to it.
   */
  timestamp: number;
}

/**
 * The channel between two pipeline stages (a Go `chan *StreamChunk` in
 * Toxiproxy).
 *
 * Unlike a Go channel, a send never blocks before the chunk is enqueued: the
 * writer pushes and then waits until the queue is back within `capacity`.
 * A writer that is interrupted while waiting therefore never strands a chunk,
 * which is what lets toxics be added, updated and removed on live
 * connections without losing or reordering data. Memory stays bounded
 * because every writer waits for room after each push.
 */
export class ChunkQueue {
  /** Chunks allowed to sit in the queue before writers wait (0 = rendezvous, like an unbuffered channel). */
  readonly capacity: number;
  /** Notified on every push, shift, drain and close. */
  readonly changed = new Notifier();
  #items: StreamChunk[] = [];
  #closed = false;

  constructor(capacity: number) {
    this.capacity = Math.max(0, capacity);
  }

  get length(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get hasRoom(): boolean {
    return this.#items.length <= this.capacity;
  }

  push(chunk: StreamChunk): void {
    // The consumer has gone away for good; nothing would ever read this.
    if (this.#closed) return;
    this.#items.push(chunk);
    this.changed.notify();
  }

  /**
   * Next chunk; `null` once closed and empty (sticky, like receiving from a
   * closed Go channel); `undefined` when empty but still open.
   */
  shift(): StreamChunk | null | undefined {
    const chunk = this.#items.shift();
    if (chunk !== undefined) {
      this.changed.notify();
      return chunk;
    }
    return this.#closed ? null : undefined;
  }

  /** Removes and returns everything queued. */
  drain(): StreamChunk[] {
    const items = this.#items;
    this.#items = [];
    if (items.length > 0) this.changed.notify();
    return items;
  }

  /** End of stream: the consumer sees queued chunks first, then `null`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.changed.notify();
  }
}
