// One proxy (Toxiproxy's proxy.go): a listener that accepts clients, dials
// the upstream for each, and runs every connection through the proxy's
// toxics.

import net from 'node:net';
import { joinHostPort, resolveListenAddress, splitHostPort } from './address.ts';
import { Connection } from './connection.ts';
import { Mutex } from './sync.ts';
import { ToxicCollection, type ToxicJson } from './toxic-collection.ts';

export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

export interface ProxyConfig {
  name: string;
  /** host:port; port 0 picks a free port, and `listen` then reports the bound one. */
  listen: string;
  upstream: string;
}

/** start() on a running proxy; POST /reset ignores it. */
export class ProxyAlreadyStartedError extends Error {
  constructor() {
    super('Proxy already started');
    this.name = 'ProxyAlreadyStartedError';
  }
}

export class Proxy {
  readonly name: string;
  listen: string;
  upstream: string;
  enabled = false;
  readonly toxics = new ToxicCollection();
  #server: net.Server | null = null;
  readonly #connections = new Set<Connection>();
  readonly #mutex = new Mutex();

  constructor(config: ProxyConfig) {
    this.name = config.name;
    this.listen = config.listen;
    this.upstream = config.upstream;
  }

  /** Connections currently open through the proxy. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  toJSON(): ProxyJson {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxics.list().map((toxic) => toxic.toJSON()),
    };
  }

  start(): Promise<void> {
    return this.#mutex.run(() => this.#start());
  }

  stop(): Promise<void> {
    return this.#mutex.run(() => this.#stop());
  }

  /**
   * Applies a new listen/upstream/enabled. A changed address restarts the
   * proxy, dropping its connections; toxics are kept.
   */
  update(input: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    return this.#mutex.run(async () => {
      if (input.listen !== this.listen || input.upstream !== this.upstream) {
        await this.#stop();
        this.listen = input.listen;
        this.upstream = input.upstream;
      }
      if (input.enabled !== this.enabled) {
        if (input.enabled) await this.#start();
        else await this.#stop();
      }
    });
  }

  async #start(): Promise<void> {
    if (this.enabled) throw new ProxyAlreadyStartedError();
    let bind: { host: string; port: number };
    try {
      bind = await resolveListenAddress(this.listen);
    } catch (error) {
      throw new Error(`listen tcp: ${(error as Error).message}`);
    }
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => this.#accept(client));
    try {
      await listen(server, bind);
    } catch (error) {
      if (bind.host !== '::') throw listenError(this.listen, error);
      // No IPv6 on this machine: fall back to IPv4 for the wildcard.
      try {
        await listen(server, { host: '0.0.0.0', port: bind.port });
      } catch (fallbackError) {
        throw listenError(this.listen, fallbackError);
      }
    }
    // Accept errors (e.g. EMFILE) must not crash the process.
    server.on('error', () => {});
    const address = server.address() as net.AddressInfo;
    this.#server = server;
    this.listen = joinHostPort(address.address, address.port);
    this.enabled = true;
  }

  async #stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.#server;
    this.#server = null;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    for (const connection of [...this.#connections]) connection.destroy();
    await closed;
  }

  #accept(client: net.Socket): void {
    let target: { host: string; port: number };
    try {
      target = splitHostPort(this.upstream);
    } catch {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: target.host || 'localhost', port: target.port, allowHalfOpen: true });
    const connection = new Connection(client, upstream, (dead) => this.#connections.delete(dead));
    this.#connections.add(connection);
    // Links only start once the upstream answers; if it never does, the client is dropped.
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      void this.toxics.startLinks(connection);
    });
    upstream.once('error', () => {
      if (!connected) connection.destroy();
    });
  }
}

function listen(server: net.Server, bind: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host: bind.host, port: bind.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

const BIND_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** Go's *net.OpError wording, e.g. "listen tcp 127.0.0.1:8474: bind: address already in use". */
function listenError(address: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = BIND_ERRORS[code] ?? (error as Error).message;
  return new Error(`listen tcp ${address}: bind: ${reason}`);
}
