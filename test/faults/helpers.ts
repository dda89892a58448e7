// Real sockets on 127.0.0.1 for the fault-proxy tests: tiny upstream servers
// and a client that records what arrives and when.

import net from 'node:net';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { startToxiproxyServer, type ToxiproxyServer } from '../../harness/faults/index.ts';

export const HOST = '127.0.0.1';

export interface TcpServer {
  readonly port: number;
  readonly upstream: string;
  /** Sockets accepted so far, in order. */
  readonly accepted: net.Socket[];
  close(): Promise<void>;
}

export async function startTcpServer(onConnection: (socket: net.Socket) => void): Promise<TcpServer> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    upstream: `${HOST}:${port}`,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes everything back. */
export const echo = (socket: net.Socket): void => {
  socket.pipe(socket);
};

/** Sends `payload` as soon as a client connects, then closes its side. */
export const sendAndClose =
  (payload: Buffer) =>
  (socket: net.Socket): void => {
    socket.end(payload);
  };

/** Records what a socket receives, when, and how it ends. */
export class Recorder {
  readonly socket: net.Socket;
  readonly chunks: Array<{ data: Buffer; at: number }> = [];
  ended: { how: 'end' | 'reset' | 'error'; code?: string; at: number } | undefined;
  #waiters = new Set<() => void>();

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => {
      this.chunks.push({ data, at: performance.now() });
      this.#wake();
    });
    socket.on('end', () => this.#finish('end'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.#finish(error.code === 'ECONNRESET' ? 'reset' : 'error', error.code),
    );
    socket.on('close', () => this.#finish('end'));
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks.map((chunk) => chunk.data));
  }

  /** Resolves once `n` bytes have arrived; rejects after `timeoutMs`. */
  async waitForBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.#until(() => this.bytes.length >= n, timeoutMs, `${n} bytes (got ${this.bytes.length})`);
    return this.bytes;
  }

  /** Resolves when the socket ends (FIN), is reset, or errors. */
  async waitForEnd(timeoutMs = 5000): Promise<NonNullable<Recorder['ended']>> {
    await this.#until(() => this.ended !== undefined, timeoutMs, 'the connection to end');
    return this.ended!;
  }

  /** True if nothing ended the socket within `ms`. */
  async staysOpen(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.ended === undefined;
  }

  #finish(how: 'end' | 'reset' | 'error', code?: string): void {
    // The first event wins: 'close' after 'error' must not hide a reset.
    this.ended ??= { how, at: performance.now(), ...(code ? { code } : {}) };
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }
}

export async function connect(port: number): Promise<Recorder> {
  const socket = net.connect(port, HOST);
  const recorder = new Recorder(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return recorder;
}

/** Port a proxy actually listens on ("127.0.0.1:41234" -> 41234). */
export function portOf(proxy: Proxy | { listen: string }): number {
  return Number(proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1));
}

export function payload(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return data;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Round trip of `message` through an echo path, in ms. */
export async function roundTrip(client: Recorder, message: string, timeoutMs = 5000): Promise<number> {
  const before = client.bytes.length;
  const start = performance.now();
  client.socket.write(message);
  await client.waitForBytes(before + Buffer.byteLength(message), timeoutMs);
  return performance.now() - start;
}

export interface Harness {
  server: ToxiproxyServer;
  toxiproxy: Toxiproxy;
  /** A fresh proxy on a free port in front of `upstream`. */
  proxy(upstream: string): Promise<Proxy>;
  /** Deletes every proxy (between tests). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

let proxyCount = 0;

export async function startHarness(): Promise<Harness> {
  const server = await startToxiproxyServer({ host: HOST, port: 0 });
  const toxiproxy = new Toxiproxy(server.url);
  return {
    server,
    toxiproxy,
    proxy: (upstream) => toxiproxy.createProxy({ name: `proxy_${++proxyCount}`, listen: `${HOST}:0`, upstream }),
    async clear() {
      const all = await toxiproxy.getAll();
      await Promise.all(Object.values(all).map((proxy) => proxy.remove()));
    },
    close: () => server.close(),
  };
}
