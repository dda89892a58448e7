// A ToxicLink pumps one direction of one connection through its chain of
// toxics (Toxiproxy's link.go):
//
//   source socket > input > [noop] > queue > [toxic] > ... > output > dest socket
//
// The chain mirrors the proxy's ToxicCollection. Toxics are added at the end
// and removed from anywhere while data is flowing: the affected stubs are
// interrupted, queues are rewired, and the stubs restarted, without dropping
// or reordering a byte.

import type { Socket } from 'node:net';
import { ChunkQueue, type StreamChunk } from './chunk-queue.ts';
import type { Endpoint } from './connection.ts';
import { Notifier, waitUntil } from './sync.ts';
import type { Direction, ToxicWrapper } from './toxic-collection.ts';
import { NoopToxic, ToxicStub, type StubHooks } from './toxics/index.ts';

const NOOP = new NoopToxic();

export class ToxicLink {
  readonly direction: Direction;
  /** Fed by the source socket; head of the chain. */
  readonly input: ChunkQueue;
  /** Drained into the destination socket; tail of the chain, whatever toxics come and go. */
  readonly output: ChunkQueue;
  readonly #stubs: ToxicStub[] = [];
  readonly #hooks: StubHooks;
  readonly #killed = new Notifier();
  #dead = false;

  constructor(chain: readonly ToxicWrapper[], direction: Direction, hooks: StubHooks) {
    this.direction = direction;
    this.#hooks = hooks;
    this.input = new ChunkQueue(0);
    let last = this.input;
    chain.forEach((_, i) => {
      const next = new ChunkQueue(chain[i + 1]?.toxic.bufferSize ?? 0);
      this.#stubs.push(new ToxicStub(last, next, hooks));
      last = next;
    });
    this.output = last;
  }

  get dead(): boolean {
    return this.#dead;
  }

  start(source: Endpoint, dest: Endpoint, chain: readonly ToxicWrapper[], onWriterDone: () => void): void {
    this.#read(source);
    chain.forEach((wrapper, i) => {
      const stub = this.#stubs[i];
      if (!stub) return;
      stub.state = wrapper.toxic.newState?.();
      // Toxiproxy sets SO_LINGER 0 on both sockets whenever a reset_peer toxic
      // is in the chain when the link starts, whatever the toxicity roll.
      if (wrapper.type === 'reset_peer') this.#hooks.resetPeer();
      this.#run(stub, wrapper);
    });
    void this.#write(dest).finally(onWriterDone);
  }

  /** Appends a toxic that the collection has just appended to its chain. */
  async addToxic(wrapper: ToxicWrapper, previous: ToxicWrapper): Promise<void> {
    const last = this.#stubs[this.#stubs.length - 1];
    if (!last) return;
    const stub = new ToxicStub(new ChunkQueue(wrapper.toxic.bufferSize ?? 0), last.output, this.#hooks);
    // Pushed even when the link is closing, so stub indexes keep matching the chain.
    this.#stubs.push(stub);
    if (await last.interrupt()) {
      last.output = stub.input;
      stub.state = wrapper.toxic.newState?.();
      this.#run(stub, wrapper);
      this.#run(last, previous);
    }
  }

  /** Restarts the toxic at `index` with its new attributes/toxicity. */
  async updateToxic(wrapper: ToxicWrapper, index: number): Promise<void> {
    const stub = this.#stubs[index];
    if (stub && (await stub.interrupt())) this.#run(stub, wrapper);
  }

  /** Takes out the toxic that was at `index`; `previous` is the chain entry now before the gap. */
  async removeToxic(wrapper: ToxicWrapper, index: number, previous: ToxicWrapper): Promise<void> {
    const stub = this.#stubs[index];
    const before = this.#stubs[index - 1];
    if (!stub || !before) return;
    if (!(await stub.interrupt())) {
      this.#stubs.splice(index, 1);
      return;
    }
    wrapper.toxic.cleanup?.(stub);
    if (stub.closed) {
      this.#stubs.splice(index, 1);
      return;
    }
    const beforeRestarts = await before.interrupt();
    // Whatever was queued for the removed toxic skips it, ahead of anything
    // `before` sends from now on.
    for (const chunk of stub.input.drain()) stub.output.push(chunk);
    this.#stubs.splice(index, 1);
    if (stub.input.closed) {
      stub.close();
      return;
    }
    before.output = stub.output;
    if (beforeRestarts) this.#run(before, previous);
  }

  /** The connection is gone: stop every toxic, timer and waiter for good. */
  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const stub of this.#stubs) stub.abort();
    this.#killed.notify();
  }

  #run(stub: ToxicStub, wrapper: ToxicWrapper): void {
    if (this.#dead) return;
    stub.run(stub.roll < Math.fround(wrapper.toxicity) ? wrapper.toxic : NOOP);
  }

  #read(source: Endpoint): void {
    const socket = source.socket;
    const input = this.input;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      socket.off('data', onData);
      input.close();
    };
    const onData = (data: Buffer): void => {
      input.push({ data, timestamp: performance.now() });
      if (input.hasRoom) return;
      // Backpressure: leave the data in the kernel until the chain catches up.
      socket.pause();
      void waitUntil(() => input.hasRoom || stopped || this.#dead, [input.changed, this.#killed]).then(() => {
        if (!stopped && !this.#dead) socket.resume();
      });
    };
    if (socket.destroyed || socket.readableEnded || source.closed) {
      stop();
      return;
    }
    socket.on('data', onData);
    socket.once('end', stop);
    socket.once('close', stop);
    source.onClose(stop);
    socket.resume();
  }

  async #write(dest: Endpoint): Promise<void> {
    const socket = dest.socket;
    for (;;) {
      const chunk = await this.#take();
      if (chunk === undefined) return;
      if (chunk === null) break;
      if (chunk.data.length === 0) continue;
      // A failed write ends the link, as io.Copy does in Toxiproxy.
      if (socket.destroyed || dest.closed) break;
      if (!socket.write(chunk.data) && !(await this.#drained(socket))) break;
    }
    dest.close();
  }

  /** Next chunk for the destination; null at end of stream; undefined once killed. */
  async #take(): Promise<StreamChunk | null | undefined> {
    let taken: StreamChunk | null | undefined;
    await waitUntil(() => {
      if (this.#dead) return true;
      taken = this.output.shift();
      return taken !== undefined;
    }, [this.output.changed, this.#killed]);
    return this.#dead ? undefined : taken;
  }

  #drained(socket: Socket): Promise<boolean> {
    if (socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        unsubscribe();
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
      const unsubscribe = this.#killed.subscribe(() => done(false));
    });
  }
}
