// Each toxic's effect on real bytes and timing, driven only through
// toxiproxy-node-client. Timing checks are lower bounds with margin.

import type net from 'node:net';
import type { ICreateToxicBody, Proxy } from 'toxiproxy-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  echo,
  payload,
  portOf,
  Recorder,
  roundTrip,
  sendAndClose,
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

type ToxicBody = Partial<ICreateToxicBody<Record<string, number>>> & { type: string };

function addToxic(proxy: Proxy, body: ToxicBody) {
  return proxy.addToxic(body as ICreateToxicBody<Record<string, number>>);
}

/** A server whose accepted connections are recorded, for upstream-direction checks. */
async function withRecordingServer(onConnection: (socket: net.Socket) => void = () => {}) {
  const recorders: Recorder[] = [];
  const server = await startTcpServer((socket) => {
    recorders.push(new Recorder(socket));
    onConnection(socket);
  });
  return { server, recorders };
}

describe('latency', () => {
  it('delays server→client data by at least `latency` ms (downstream is the default stream)', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'latency', attributes: { latency: 300 } });
    expect(toxic.stream).toBe('downstream');

    const client = await connect(portOf(proxy));
    expect(await roundTrip(client, 'hello')).toBeGreaterThanOrEqual(285);
    expect(await roundTrip(client, 'again')).toBeGreaterThanOrEqual(285);
    expect(client.bytes.toString()).toBe('helloagain');
    client.socket.destroy();
  });

  it('delays client→server data on the upstream stream', async () => {
    const { server, recorders } = await withRecordingServer();
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'latency', stream: 'upstream', attributes: { latency: 250 } });

    const client = await connect(portOf(proxy));
    await sleep(50);
    const sentAt = performance.now();
    client.socket.write('to the server');
    const upstream = recorders[0]!;
    await upstream.waitForBytes(13);
    expect(upstream.chunks[0]!.at - sentAt).toBeGreaterThanOrEqual(235);
    expect(upstream.bytes.toString()).toBe('to the server');
    client.socket.destroy();
    await server.close();
  });

  it('keeps every delay within latency ± jitter', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await addToxic(proxy, { type: 'latency', attributes: { latency: 200, jitter: 100 } });
    const client = await connect(portOf(proxy));
    for (let i = 0; i < 4; i++) expect(await roundTrip(client, `m${i}`)).toBeGreaterThanOrEqual(95);
    client.socket.destroy();
  });
});

describe('bandwidth', () => {
  it('limits server→client throughput to `rate` KB/s (1 KB = 1000 bytes)', async () => {
    const data = payload(100_000);
    const server = await startTcpServer(sendAndClose(data));
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'bandwidth', attributes: { rate: 100 } });

    const start = performance.now();
    const client = await connect(portOf(proxy));
    await client.waitForBytes(data.length, 10_000);
    const elapsed = performance.now() - start;
    // 100 000 bytes at 100 000 bytes/s: at least ~80% of the theoretical second.
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(client.bytes.equals(data)).toBe(true);
    await client.waitForEnd();
    await server.close();
  });

  it('limits client→server throughput on the upstream stream, for chunks smaller than a 100 ms slice too', async () => {
    const { server, recorders } = await withRecordingServer();
    const proxy = await h.proxy(server.upstream);
    // 1000 KB/s: socket reads (<= 64 KiB) stay under the 100 000-byte slice,
    // so only the per-chunk pacing can hold the rate.
    await addToxic(proxy, { type: 'bandwidth', stream: 'upstream', attributes: { rate: 1000 } });

    const data = payload(600_000);
    const client = await connect(portOf(proxy));
    await sleep(50);
    const start = performance.now();
    client.socket.write(data);
    const upstream = recorders[0]!;
    await upstream.waitForBytes(data.length, 10_000);
    expect(performance.now() - start).toBeGreaterThanOrEqual(480);
    expect(upstream.bytes.equals(data)).toBe(true);
    client.socket.destroy();
    await server.close();
  });
});

describe('slow_close', () => {
  it('delivers data at once but holds the close back for `delay` ms', async () => {
    const server = await startTcpServer(sendAndClose(Buffer.from('bye')));
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'slow_close', attributes: { delay: 500 } });

    const client = await connect(portOf(proxy));
    await client.waitForBytes(3);
    const ended = await client.waitForEnd();
    expect(client.bytes.toString()).toBe('bye');
    expect(ended.how).toBe('end');
    expect(ended.at - client.chunks[0]!.at).toBeGreaterThanOrEqual(450);
    await server.close();
  });
});

describe('timeout', () => {
  it('drops the data and closes the connection after `timeout` ms', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await addToxic(proxy, { type: 'timeout', attributes: { timeout: 300 } });

    const client = await connect(portOf(proxy));
    const sentAt = performance.now();
    client.socket.write('ping');
    const ended = await client.waitForEnd();
    expect(ended.at - sentAt).toBeGreaterThanOrEqual(285);
    expect(client.bytes.length).toBe(0);
  });

  it('with timeout 0 drops data and keeps the connection open; removing it closes the connection', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'timeout', attributes: { timeout: 0 } });

    const client = await connect(portOf(proxy));
    client.socket.write('ping');
    expect(await client.staysOpen(700)).toBe(true);
    expect(client.bytes.length).toBe(0);

    // Toxiproxy's timeout toxic closes the stream when it is removed (Cleanup).
    await toxic.remove();
    expect((await client.waitForEnd()).how).toBe('end');
    expect(client.bytes.length).toBe(0);
  });

  it('on the upstream stream, keeps client data from reaching the server', async () => {
    const { server, recorders } = await withRecordingServer();
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'timeout', stream: 'upstream', attributes: { timeout: 200 } });

    const client = await connect(portOf(proxy));
    client.socket.write('lost');
    await client.waitForEnd();
    await sleep(50);
    expect(recorders[0]?.bytes.length ?? 0).toBe(0);
    await server.close();
  });
});

describe('reset_peer', () => {
  it('resets the client (ECONNRESET) `timeout` ms after data arrives', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await addToxic(proxy, { type: 'reset_peer', attributes: { timeout: 200 } });

    const client = await connect(portOf(proxy));
    const sentAt = performance.now();
    client.socket.write('hello');
    const ended = await client.waitForEnd();
    expect(ended.how).toBe('reset');
    expect(ended.code).toBe('ECONNRESET');
    expect(ended.at - sentAt).toBeGreaterThanOrEqual(190);
    expect(client.bytes.length).toBe(0);
  });

  it('resets an already open connection when added to it', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const client = await connect(portOf(proxy));
    await roundTrip(client, 'fine');

    await addToxic(proxy, { type: 'reset_peer', attributes: { timeout: 0 } });
    client.socket.write('doomed');
    const ended = await client.waitForEnd();
    expect(ended.how).toBe('reset');
    expect(client.bytes.toString()).toBe('fine');
  });

  it('like Toxiproxy, makes closes abortive (RST) for connections opened while it exists, even when toxicity spares them', async () => {
    const server = await startTcpServer(sendAndClose(Buffer.from('bye')));
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'reset_peer', stream: 'upstream', toxicity: 0, attributes: { timeout: 0 } });

    const client = await connect(portOf(proxy));
    expect((await client.waitForEnd()).how).toBe('reset');
    await server.close();
  });

  it('on the upstream stream resets both sides right away with timeout 0', async () => {
    const { server, recorders } = await withRecordingServer();
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });

    const client = await connect(portOf(proxy));
    client.socket.write('hello');
    expect((await client.waitForEnd()).how).toBe('reset');
    const upstream = recorders[0]!;
    expect((await upstream.waitForEnd()).how).toBe('reset');
    expect(upstream.bytes.length).toBe(0);
    await server.close();
  });
});

describe('slicer', () => {
  it('cuts data into ~average_size pieces spaced `delay` µs apart', async () => {
    const data = payload(120);
    const server = await startTcpServer((socket) => socket.write(data));
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'slicer', attributes: { average_size: 10, size_variation: 0, delay: 20_000 } });

    const start = performance.now();
    const client = await connect(portOf(proxy));
    await client.waitForBytes(data.length);
    const elapsed = performance.now() - start;
    expect(client.bytes.equals(data)).toBe(true);
    // 120 bytes in pieces of at most 10: at least 12 pieces, 20 ms apart.
    expect(client.chunks.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...client.chunks.map((c) => c.data.length))).toBeLessThanOrEqual(30);
    expect(elapsed).toBeGreaterThanOrEqual(11 * 20 * 0.8);
    client.socket.destroy();
    await server.close();
  });
});

describe('limit_data', () => {
  it('passes exactly `bytes` bytes server→client, then closes', async () => {
    const data = payload(100);
    const server = await startTcpServer((socket) => socket.write(data));
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'limit_data', attributes: { bytes: 10 } });

    const client = await connect(portOf(proxy));
    const ended = await client.waitForEnd();
    expect(ended.how).toBe('end');
    expect(client.bytes.equals(data.subarray(0, 10))).toBe(true);
    await server.close();
  });

  it('passes exactly `bytes` bytes client→server on the upstream stream', async () => {
    const { server, recorders } = await withRecordingServer();
    const proxy = await h.proxy(server.upstream);
    await addToxic(proxy, { type: 'limit_data', stream: 'upstream', attributes: { bytes: 10 } });

    const data = payload(100);
    const client = await connect(portOf(proxy));
    client.socket.write(data);
    const upstream = await (async () => {
      while (!recorders[0]) await sleep(10);
      return recorders[0];
    })();
    await upstream.waitForEnd();
    expect(upstream.bytes.equals(data.subarray(0, 10))).toBe(true);
    await client.waitForEnd();
    await server.close();
  });
});

describe('toxicity', () => {
  it('applies a toxic with toxicity 1 and skips it with toxicity 0', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    const toxic = await addToxic(proxy, { type: 'timeout', toxicity: 0, attributes: { timeout: 0 } });
    expect(toxic.toxicity).toBe(0);

    const spared = await connect(portOf(proxy));
    await roundTrip(spared, 'through');
    expect(spared.bytes.toString()).toBe('through');

    await toxic.update({ ...toxic.toJson(), toxicity: 1 });
    const hit = await connect(portOf(proxy));
    hit.socket.write('dropped');
    expect(await hit.staysOpen(300)).toBe(true);
    expect(hit.bytes.length).toBe(0);
    spared.socket.destroy();
    hit.socket.destroy();
  });

  it('decides per connection: about half of the connections with toxicity 0.5, each consistently', async () => {
    const proxy = await h.proxy(echoServer.upstream);
    await addToxic(proxy, { type: 'timeout', toxicity: 0.5, attributes: { timeout: 0 } });

    const clients = await Promise.all(Array.from({ length: 40 }, () => connect(portOf(proxy))));
    for (const client of clients) client.socket.write('a');
    await sleep(300);
    for (const client of clients) client.socket.write('b');
    await sleep(300);

    const outcomes = clients.map((client) => client.bytes.toString());
    // Each connection either always passes or never does.
    for (const outcome of outcomes) expect(['ab', '']).toContain(outcome);
    const affected = outcomes.filter((outcome) => outcome === '').length;
    // Binomial(40, 0.5): outside 6..34 has probability ~1e-6.
    expect(affected).toBeGreaterThanOrEqual(6);
    expect(affected).toBeLessThanOrEqual(34);

    // Adding another toxic behind it restarts the timeout toxic on every live
    // connection; each connection keeps its verdict.
    await addToxic(proxy, { type: 'latency', attributes: { latency: 0 } });
    for (const client of clients) client.socket.write('c');
    await sleep(300);
    expect(clients.map((client) => client.bytes.toString())).toEqual(
      outcomes.map((outcome) => (outcome === '' ? '' : 'abc')),
    );
    for (const client of clients) client.socket.destroy();
  });
});
