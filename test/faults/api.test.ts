// The HTTP API as toxiproxy-node-client sees it: every call the client
// offers, and the errors it surfaces.

import type { ICreateToxicBody, Latency } from 'toxiproxy-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOST, portOf, startHarness, startTcpServer, echo, type Harness, type TcpServer } from './helpers.ts';

let h: Harness;
let echoServer: TcpServer;

beforeAll(async () => {
  h = await startHarness();
  echoServer = await startTcpServer(echo);
});
afterEach(async () => h.clear());
afterAll(async () => {
  await h.close();
  await echoServer.close();
});

const latencyBody = (attributes: Partial<Latency>, extra: Partial<ICreateToxicBody<Latency>> = {}) =>
  ({ type: 'latency', attributes, ...extra }) as ICreateToxicBody<Latency>;

describe('proxies through the client', () => {
  it('reports the server version', async () => {
    const version = await h.toxiproxy.getVersion();
    expect(JSON.parse(version)).toEqual({ version: expect.stringMatching(/^2\.\d+\.\d+$/) });
  });

  it('creates a proxy on port 0 and reports the port actually bound', async () => {
    const proxy = await h.toxiproxy.createProxy({ name: 'db', listen: `${HOST}:0`, upstream: echoServer.upstream });
    expect(proxy.name).toBe('db');
    expect(proxy.enabled).toBe(true);
    expect(proxy.upstream).toBe(echoServer.upstream);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(portOf(proxy)).toBeGreaterThan(0);
  });

  it('resolves "localhost" listen addresses to IPv4 as Toxiproxy does', async () => {
    const proxy = await h.toxiproxy.createProxy({ name: 'named', listen: 'localhost:0', upstream: echoServer.upstream });
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('gets one proxy and lists all of them', async () => {
    const created = await h.proxy(echoServer.upstream);
    const fetched = await h.toxiproxy.get(created.name);
    expect(fetched.toJson()).toEqual(created.toJson());
    const all = await h.toxiproxy.getAll();
    expect(Object.keys(all)).toEqual([created.name]);
    expect(all[created.name]?.listen).toBe(created.listen);
  });

  it('creates a disabled proxy without listening, and enables it later', async () => {
    const proxy = await h.toxiproxy.createProxy({
      name: 'later',
      listen: `${HOST}:0`,
      upstream: echoServer.upstream,
      enabled: false,
    });
    expect(proxy.enabled).toBe(false);
    expect(proxy.listen).toBe(`${HOST}:0`);
    const enabled = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.enabled).toBe(true);
    expect(portOf(enabled)).toBeGreaterThan(0);
  });

  it('moves a proxy to a new upstream', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const updated = await proxy.update({ enabled: true, listen: proxy.listen, upstream: `${HOST}:1` });
    expect(updated.upstream).toBe(`${HOST}:1`);
    expect(updated.listen).toBe(proxy.listen);
  });

  it('removes a proxy', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await proxy.remove();
    await expect(h.toxiproxy.get(proxy.name)).rejects.toThrow('status code 404');
  });

  it('populates several proxies at once', async () => {
    const proxies = await h.toxiproxy.populate([
      { name: 'one', listen: `${HOST}:0`, upstream: echoServer.upstream },
      { name: 'two', listen: `${HOST}:0`, upstream: echoServer.upstream, enabled: false },
    ]);
    expect(proxies['one']?.enabled).toBe(true);
    expect(portOf(proxies['one']!)).toBeGreaterThan(0);
    expect(proxies['two']?.enabled).toBe(false);
  });
});

describe('toxics through the client', () => {
  it('fills in Toxiproxy defaults: name <type>_<stream>, downstream, toxicity 1, zero attributes', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await proxy.addToxic(latencyBody({ latency: 100 }));
    expect(toxic.toJson()).toEqual({
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 100, jitter: 0 },
    });
    const upstream = await proxy.addToxic(latencyBody({ latency: 5 }, { stream: 'upstream', toxicity: 0.25 }));
    expect(upstream.name).toBe('latency_upstream');
    expect(upstream.toxicity).toBe(0.25);
  });

  it('gets, updates and removes a named toxic', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await proxy.addToxic(latencyBody({ latency: 100, jitter: 10 }, { name: 'slow' }));
    const fetched = await proxy.getToxic<Latency>('slow');
    expect(fetched.attributes).toEqual({ latency: 100, jitter: 10 });

    const updated = await fetched.update({ ...fetched.toJson(), attributes: { latency: 300, jitter: 10 }, toxicity: 0.5 });
    expect(updated.attributes).toEqual({ latency: 300, jitter: 10 });
    expect(updated.toxicity).toBe(0.5);
    expect((await proxy.getToxic<Latency>('slow')).attributes.latency).toBe(300);

    await updated.remove();
    await expect(proxy.getToxic('slow')).rejects.toThrow('status code 404');
  });

  it('shows toxics on the proxy, upstream ones first', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await proxy.addToxic({ type: 'bandwidth', attributes: { rate: 1 } } as ICreateToxicBody<{ rate: number }>);
    await proxy.addToxic(latencyBody({ latency: 1 }, { stream: 'upstream' }));
    const body = (await (await fetch(`${h.server.url}/proxies/${proxy.name}`)).json()) as { toxics: { name: string }[] };
    expect(body.toxics.map((t) => t.name)).toEqual(['latency_upstream', 'bandwidth_downstream']);
  });
});

describe('errors surfaced by the client', () => {
  it('404 for an unknown proxy or toxic', async () => {
    await expect(h.toxiproxy.get('missing')).rejects.toThrow('Request failed with status code 404');
    const proxy = await h.proxy(echoServer.upstream);
    await expect(proxy.getToxic('missing')).rejects.toThrow('status code 404');
  });

  it('409 for a duplicate proxy or toxic name', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await expect(
      h.toxiproxy.createProxy({ name: proxy.name, listen: `${HOST}:0`, upstream: echoServer.upstream }),
    ).rejects.toThrow('status code 409');
    await proxy.addToxic(latencyBody({ latency: 1 }));
    await expect(proxy.addToxic(latencyBody({ latency: 2 }))).rejects.toThrow('status code 409');
  });

  it('400 for an invalid toxic type, an invalid stream or a missing field', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await expect(proxy.addToxic({ type: 'nope', attributes: {} } as unknown as ICreateToxicBody<object>)).rejects.toThrow(
      'status code 400',
    );
    await expect(proxy.addToxic(latencyBody({ latency: 1 }, { stream: 'sideways' as 'upstream' }))).rejects.toThrow(
      'status code 400',
    );
    await expect(
      h.toxiproxy.createProxy({ name: 'no_upstream', listen: `${HOST}:0` } as { name: string; listen: string; upstream: string }),
    ).rejects.toThrow('status code 400');
  });

  it('500 when the listen address is taken', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await expect(
      h.toxiproxy.createProxy({ name: 'clash', listen: proxy.listen, upstream: echoServer.upstream }),
    ).rejects.toThrow('status code 500');
    await expect(h.toxiproxy.get('clash')).rejects.toThrow('status code 404');
  });
});
