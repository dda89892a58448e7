// The toxic contract, after Toxiproxy's toxics/toxic.go.
//
// A toxic only holds its settings and a `pipe()` loop; everything per
// connection lives on the ToxicStub it is handed. One toxic object therefore
// serves every connection of a proxy, and replacing it (an API update) only
// means interrupting each stub and running the new object on it.

import type { ChunkQueue, StreamChunk } from '../chunk-queue.ts';
import { Notifier, preciseTimer, type TimerHandle } from '../sync.ts';

export const INTERRUPTED: unique symbol = Symbol('interrupted');
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** What a read can yield: a chunk, `null` at end of stream, or why it gave up. */
export type ReadResult = StreamChunk | null | typeof INTERRUPTED;

/** Go integer kinds of toxic attributes; they pick the decode error wording. */
export type AttributeKind = 'int64' | 'int';

export interface Toxic {
  /**
   * Moves chunks from `stub.input` to `stub.output` until the stream ends
   * (then `stub.close()`) or the stub is interrupted (then return promptly,
   * without dropping a chunk already taken from the input).
   */
  pipe(stub: ToxicStub): Promise<void>;
  /** Attribute values in Toxiproxy's JSON field order. */
  attributes(): Record<string, number>;
  /** Chunks the previous stage may queue ahead of this toxic (Go channel buffer size). */
  readonly bufferSize?: number;
  /** Per-connection state that survives updates of the toxic (StatefulToxic). */
  newState?(): unknown;
  /** Called when the toxic is removed from a live connection (CleanupToxic). */
  cleanup?(stub: ToxicStub): void;
}

/** A registered toxic type: its attributes and how to build it from them. */
export interface ToxicDefinition {
  readonly type: string;
  /** Attribute names in JSON order; every attribute defaults to 0. */
  readonly fields: Readonly<Record<string, AttributeKind>>;
  create(attributes: Readonly<Record<string, number>>): Toxic;
}

export interface StubHooks {
  /** Make every later close of this connection's sockets a TCP RST (SO_LINGER 0). */
  resetPeer(): void;
}

/**
 * One toxic's place in one direction of one connection: its input and output
 * queues, its per-connection state, and the interrupt/abort signals.
 */
export class ToxicStub {
  readonly input: ChunkQueue;
  /** Rewired by the link when toxics are added or removed behind this one. */
  output: ChunkQueue;
  state: unknown = undefined;
  /**
   * Drawn once per connection per toxic and compared with the toxic's
   * current toxicity each time it (re)starts, so a connection keeps its
   * verdict until the toxicity itself changes.
   */
  readonly roll = Math.random();
  readonly #signals = new Notifier();
  readonly #hooks: StubHooks;
  #running: Promise<void> = Promise.resolve();
  #interrupting = false;
  #aborted = false;
  #closing = false;
  #closed = false;

  constructor(input: ChunkQueue, output: ChunkQueue, hooks: StubHooks) {
    this.input = input;
    this.output = output;
    this.#hooks = hooks;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True once the toxic should stop: an interrupt is pending or the connection is gone. */
  get interrupted(): boolean {
    return this.#interrupting || this.#aborted;
  }

  run(toxic: Toxic): void {
    this.#running = (async () => {
      try {
        await toxic.pipe(this);
      } catch {
        // A broken toxic must not wedge the connection: end its stream.
        this.close();
      }
    })();
  }

  /**
   * Next chunk from the input, `null` at end of stream, INTERRUPTED, or
   * TIMED_OUT when `timeoutMs` passes first.
   */
  read(): Promise<ReadResult>;
  read(timeoutMs: number): Promise<ReadResult | typeof TIMED_OUT>;
  read(timeoutMs?: number): Promise<ReadResult | typeof TIMED_OUT> {
    const ready = this.#tryRead();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => {
      let settled = false;
      let timer: TimerHandle | undefined;
      const finish = (result: ReadResult | typeof TIMED_OUT): void => {
        if (settled) return;
        settled = true;
        unsubscribeInput();
        unsubscribeSignals();
        timer?.cancel();
        resolve(result);
      };
      // Guarded by `settled`: a read takes the chunk, so it must happen once.
      const check = (): void => {
        if (settled) return;
        const result = this.#tryRead();
        if (result !== undefined) finish(result);
      };
      const unsubscribeInput = this.input.changed.subscribe(check);
      const unsubscribeSignals = this.#signals.subscribe(check);
      if (timeoutMs !== undefined) timer = preciseTimer(Math.max(0, timeoutMs), () => finish(TIMED_OUT));
    });
  }

  /** Sleeps `ms`; false if interrupted first. Non-positive durations return at once. */
  sleep(ms: number): Promise<boolean> {
    if (this.interrupted) return Promise.resolve(false);
    if (!(ms > 0)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (completed: boolean): void => {
        if (settled) return;
        settled = true;
        unsubscribe();
        timer.cancel();
        resolve(completed);
      };
      const unsubscribe = this.#signals.subscribe(() => {
        if (this.interrupted) finish(false);
      });
      const timer = preciseTimer(ms, () => finish(true));
    });
  }

  /**
   * Sleeps `ms` and cannot be interrupted (only a dying connection cuts it
   * short). Pair with `commitClose()`: Toxiproxy's reset_peer blocks in a
   * plain `<-time.After()` once it has decided to reset.
   */
  hold(ms: number): Promise<void> {
    if (this.#aborted || !(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        unsubscribe();
        timer.cancel();
        resolve();
      };
      const unsubscribe = this.#signals.subscribe(() => {
        if (this.#aborted) finish();
      });
      const timer = preciseTimer(ms, finish);
    });
  }

  /**
   * Hands a chunk to the next stage and waits until that stage has room
   * (backpressure), or until interrupted. The chunk is delivered either way.
   */
  write(chunk: StreamChunk): Promise<void> {
    const out = this.output;
    out.push(chunk);
    const done = (): boolean => out.hasRoom || out.closed || this.interrupted;
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      let settled = false;
      const check = (): void => {
        if (settled || !done()) return;
        settled = true;
        unsubscribeOut();
        unsubscribeSignals();
        resolve();
      };
      const unsubscribeOut = out.changed.subscribe(check);
      const unsubscribeSignals = this.#signals.subscribe(check);
    });
  }

  /** Ends this stub's stream: the next stage sees end-of-stream after what is queued. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.output.close();
    this.#signals.notify();
  }

  /** The running toxic has decided to close this stub; later interrupts find it closed. */
  commitClose(): void {
    this.#closing = true;
  }

  /** Ask for this connection to be torn down with RST rather than FIN. */
  resetPeer(): void {
    this.#hooks.resetPeer();
  }

  /**
   * Stops the running toxic so another can take over (InterruptToxic).
   * Resolves false when the stub is closed (or closing), true once the
   * toxic's pipe() has returned.
   */
  async interrupt(): Promise<boolean> {
    if (this.#closed || this.#closing || this.#aborted) return false;
    this.#interrupting = true;
    this.#signals.notify();
    try {
      await this.#running;
    } finally {
      this.#interrupting = false;
    }
    return !this.#closed;
  }

  /** The connection is gone: stop for good and cancel timers. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#signals.notify();
  }

  #tryRead(): ReadResult | undefined {
    if (this.interrupted) return INTERRUPTED;
    return this.input.shift();
  }
}
