// One proxied TCP connection: the accepted client socket, the socket to the
// upstream, and the two links (one per direction) pumping data between them.

import type { Socket } from 'node:net';
import type { ToxicLink } from './link.ts';

/**
 * One side of a connection. `close()` is Go's conn.Close() as a link sees it:
 * stop reading, then close the socket once what was written has been
 * flushed; with SO_LINGER 0 (`lingerZero`) the close is an immediate RST.
 */
export class Endpoint {
  readonly socket: Socket;
  lingerZero = false;
  #closed = false;
  readonly #closeListeners: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    // Go's TCPConn default; without it Nagle would merge what slicer splits.
    socket.setNoDelay(true);
    // Errors only matter as "this socket is gone", which 'close' reports.
    socket.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs when this endpoint is closed locally (the link reading from it must stop). */
  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    if (!this.#markClosed()) return;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.lingerZero) {
      socket.resetAndDestroy();
      return;
    }
    // Go's Write returns only once the kernel has the data, so its Close
    // never discards writes; end() flushes Node's own buffer first.
    socket.end(() => socket.destroy());
  }

  /** Close now, discarding anything not yet flushed (proxy disabled or deleted). */
  destroy(): void {
    this.#markClosed();
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.lingerZero) socket.resetAndDestroy();
    else socket.destroy();
  }

  #markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    for (const listener of this.#closeListeners) listener();
    return true;
  }
}

export class Connection {
  readonly client: Endpoint;
  readonly upstream: Endpoint;
  #links: ToxicLink[] = [];
  #dead = false;
  readonly #onDead: (connection: Connection) => void;

  constructor(client: Socket, upstream: Socket, onDead: (connection: Connection) => void) {
    this.client = new Endpoint(client);
    this.upstream = new Endpoint(upstream);
    this.#onDead = onDead;
    let open = 2;
    const socketClosed = (): void => {
      open -= 1;
      // Nothing can be delivered any more: stop the links' timers and toxics.
      if (open === 0) this.#die();
    };
    client.once('close', socketClosed);
    upstream.once('close', socketClosed);
  }

  get dead(): boolean {
    return this.#dead;
  }

  attach(links: readonly ToxicLink[]): void {
    this.#links = [...links];
    if (this.#dead) for (const link of links) link.kill();
  }

  /** SO_LINGER 0 on both sockets: any later close sends RST (reset_peer). */
  setLingerZero(): void {
    this.client.lingerZero = true;
    this.upstream.lingerZero = true;
  }

  /** Drop the connection at once (proxy stopped). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
    this.#die();
  }

  #die(): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const link of this.#links) link.kill();
    this.#onDead(this);
  }
}
