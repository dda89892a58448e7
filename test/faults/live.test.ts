// Toxics and proxy changes acting on connections that are already open,
// plus the proxy lifecycle: enable/disable, reset, delete, populate,
// backpressure. Driven only through toxiproxy-node-client and real sockets.

import net from 'node:net';
import type { ICreateToxicBody, Proxy } from 'toxiproxy-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  echo,
  HOST,
  payload,
  portOf,
  roundTrip,
  sleep,
  startHarness,
  startTcpServer,
  type Harness,
  type TcpServer,
} from './helpers.ts';

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

function addToxic(proxy: Proxy, body: Partial<ICreateToxicBody<Record<string, number>>> & { type: string }) {
  return proxy.addToxic(body as ICreateToxicBody<Record<string, number>>);
}

function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('toxics on open connections', () => {
  it('a toxic added after the connection opened applies to it', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const client = await connect(portOf(proxy));
    await roundTrip(client, 'before');

    await addToxic(proxy, { type: 'latency', attributes: { latency: 300 } });
    expect(await roundTrip(client, 'after')).toBeGreaterThanOrEqual(285);
    expect(client.bytes.toString()).toBe('beforeafter');
    client.socket.destroy();
  });

  it('updating a toxic changes its effect on the open connection', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'latency', attributes: { latency: 10 } });
    const client = await connect(portOf(proxy));
    await roundTrip(client, 'a');

    const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 400, jitter: 0 } });
    expect(updated.attributes).toEqual({ latency: 400, jitter: 0 });
    expect(await roundTrip(client, 'b')).toBeGreaterThanOrEqual(380);
    client.socket.destroy();
  });

  it('removing a toxic releases data it was holding on the open connection', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'latency', attributes: { latency: 5000 } });
    const client = await connect(portOf(proxy));
    const sentAt = performance.now();
    client.socket.write('held');
    await sleep(200);
    expect(client.bytes.length).toBe(0);

    await toxic.remove();
    await client.waitForBytes(4, 3000);
    // Far sooner than the 5 s the toxic would have imposed.
    expect(performance.now() - sentAt).toBeLessThan(3000);
    expect(client.bytes.toString()).toBe('held');
    client.socket.destroy();
  });

  it('limit_data raised on an open connection counts the bytes already passed', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'limit_data', attributes: { bytes: 100 } });
    const client = await connect(portOf(proxy));
    await roundTrip(client, 'x'.repeat(60));

    await toxic.update({ ...toxic.toJson(), attributes: { bytes: 70 } });
    client.socket.write('y'.repeat(60));
    await client.waitForEnd();
    expect(client.bytes.toString()).toBe('x'.repeat(60) + 'y'.repeat(10));
  });

  it('keeps every byte in order while toxics come and go mid-transfer', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const client = await connect(portOf(proxy));
    const data = payload(1_000_000);
    const pieces = 50;
    const size = data.length / pieces;

    const churn = (async () => {
      const latency = await addToxic(proxy, { type: 'latency', attributes: { latency: 5, jitter: 5 } });
      const bandwidth = await addToxic(proxy, { type: 'bandwidth', attributes: { rate: 20_000 } });
      const slicer = await addToxic(proxy, {
        type: 'slicer',
        stream: 'upstream',
        attributes: { average_size: 4000, size_variation: 1000, delay: 0 },
      });
      await sleep(30);
      await latency.update({ ...latency.toJson(), attributes: { latency: 15, jitter: 0 } });
      await sleep(30);
      await bandwidth.remove();
      await sleep(30);
      await slicer.remove();
      await latency.remove();
    })();
    for (let i = 0; i < pieces; i++) {
      client.socket.write(data.subarray(i * size, (i + 1) * size));
      await sleep(4);
    }
    await churn;
    await client.waitForBytes(data.length, 15_000);
    expect(client.bytes.equals(data)).toBe(true);
    client.socket.destroy();
  });
});

describe('enable / disable', () => {
  it('disabling drops open connections and refuses new ones; enabling restores the same address', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const port = portOf(proxy);
    const client = await connect(port);
    await roundTrip(client, 'up');

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    await client.waitForEnd();
    expect(await refused(port)).toBe('ECONNREFUSED');

    const enabled = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.enabled).toBe(true);
    expect(enabled.listen).toBe(proxy.listen);
    const again = await connect(port);
    await roundTrip(again, 'back');
    expect(again.bytes.toString()).toBe('back');
    again.socket.destroy();
  });

  it('toxics survive a disable/enable cycle', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await addToxic(proxy, { type: 'latency', attributes: { latency: 250 } });
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    const client = await connect(portOf(proxy));
    expect(await roundTrip(client, 'slow')).toBeGreaterThanOrEqual(235);
    client.socket.destroy();
  });
});

describe('reset', () => {
  it('re-enables every proxy and removes every toxic', async () => {
    const first = await h.proxy(echoServer.upstream);
    const second = await h.proxy(echoServer.upstream);
    await addToxic(first, { type: 'timeout', attributes: { timeout: 0 } });
    await addToxic(first, { type: 'latency', stream: 'upstream', attributes: { latency: 1000 } });
    await second.update({ enabled: false, listen: second.listen, upstream: second.upstream });

    await h.toxiproxy.reset();

    const all = await h.toxiproxy.getAll();
    expect(all[first.name]?.enabled).toBe(true);
    expect(all[second.name]?.enabled).toBe(true);
    const raw = (await (await fetch(`${h.server.url}/proxies/${first.name}/toxics`)).json()) as unknown[];
    expect(raw).toEqual([]);
    for (const proxy of [first, second]) {
      const client = await connect(portOf(proxy));
      await roundTrip(client, 'clean');
      expect(client.bytes.toString()).toBe('clean');
      client.socket.destroy();
    }
  });
});

describe('proxy lifecycle', () => {
  it('deleting a proxy closes its connections and frees its port', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const port = portOf(proxy);
    const client = await connect(port);
    await roundTrip(client, 'hi');

    await proxy.remove();
    await client.waitForEnd();
    expect(await refused(port)).toBe('ECONNREFUSED');
  });

  it('closes the client when the upstream cannot be reached', async () => {
    const proxy = await h.proxy(`${HOST}:${await freePort()}`);
    const client = await connect(portOf(proxy));
    await client.waitForEnd(3000);
    expect(client.bytes.length).toBe(0);
  });

  it('populate creates proxies that carry traffic, and keeps unchanged ones as they are', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const config = [
      { name: 'populated_a', listen: `${HOST}:${portA}`, upstream: echoServer.upstream },
      { name: 'populated_b', listen: `${HOST}:${portB}`, upstream: echoServer.upstream },
    ];
    const created = await h.toxiproxy.populate(config);
    expect(Object.keys(created).sort()).toEqual(['populated_a', 'populated_b']);
    expect(created['populated_a']?.listen).toBe(`${HOST}:${portA}`);

    const client = await connect(portA);
    await roundTrip(client, 'populated');
    await addToxic(created['populated_a']!, { type: 'latency', attributes: { latency: 1 } });

    // Same listen and upstream: the existing proxy, its toxic and its connection stay.
    const again = await h.toxiproxy.populate(config);
    expect(again['populated_a']?.listen).toBe(`${HOST}:${portA}`);
    expect(await client.staysOpen(100)).toBe(true);
    const toxics = (await (await fetch(`${h.server.url}/proxies/populated_a/toxics`)).json()) as unknown[];
    expect(toxics).toHaveLength(1);

    const other = await connect(portB);
    await roundTrip(other, 'b');
    expect(other.bytes.toString()).toBe('b');
    client.socket.destroy();
    other.socket.destroy();
  });
});

describe('backpressure', () => {
  it('stops reading from the upstream while the client is not reading', async () => {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    const server = await startTcpServer((socket) => {
      const chunk = Buffer.alloc(256 * 1024, 7);
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
    const proxy = await h.proxy(server.upstream);
    const client = await connect(portOf(proxy));
    client.socket.pause();
    await sleep(800);
    // Kernel buffers on both hops plus a few chunks inside the proxy; without
    // backpressure the proxy would have swallowed all 64 MB.
    expect(sent).toBeLessThan(total / 2);

    let received = 0;
    client.socket.removeAllListeners('data');
    client.socket.on('data', (data: Buffer) => {
      received += data.length;
    });
    client.socket.resume();
    await client.waitForEnd(20_000);
    expect(received).toBe(total);
    await server.close();
  });
});
