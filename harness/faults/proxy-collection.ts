// The set of proxies, guarding name uniqueness (Toxiproxy's proxy_collection.go).

import { canonicalListen } from './address.ts';
import { ErrProxyAlreadyExists, ErrProxyNotFound } from './api-error.ts';
import { Proxy } from './proxy.ts';
import { Mutex } from './sync.ts';

export class ProxyCollection {
  readonly #proxies = new Map<string, Proxy>();
  readonly #mutex = new Mutex();

  /** Sorted by name, the order Go's JSON encoder gives the GET /proxies map. */
  list(): Proxy[] {
    return [...this.#proxies.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Proxy {
    const proxy = this.#proxies.get(name);
    if (!proxy) throw ErrProxyNotFound;
    return proxy;
  }

  /** 409 if the name is taken; the proxy is only registered if it could start. */
  add(proxy: Proxy, start: boolean): Promise<void> {
    return this.#mutex.run(async () => {
      if (this.#proxies.has(proxy.name)) throw ErrProxyAlreadyExists;
      if (start) await proxy.start();
      this.#proxies.set(proxy.name, proxy);
    });
  }

  /**
   * For /populate: keeps an existing proxy (and its toxics and connections)
   * when its address and upstream are unchanged, otherwise replaces it.
   */
  addOrReplace(proxy: Proxy, start: boolean): Promise<Proxy> {
    return this.#mutex.run(async () => {
      const existing = this.#proxies.get(proxy.name);
      if (existing) {
        if (existing.listen === (await canonicalListen(proxy.listen)) && existing.upstream === proxy.upstream) {
          return existing;
        }
        await existing.stop();
      }
      if (start) await proxy.start();
      this.#proxies.set(proxy.name, proxy);
      return proxy;
    });
  }

  remove(name: string): Promise<void> {
    return this.#mutex.run(async () => {
      const proxy = this.get(name);
      await proxy.stop();
      this.#proxies.delete(name);
    });
  }

  /** Stops and forgets every proxy. */
  clear(): Promise<void> {
    return this.#mutex.run(async () => {
      for (const proxy of this.#proxies.values()) await proxy.stop();
      this.#proxies.clear();
    });
  }
}
