// Conn.sendAndDrain over a real `ws` connection on loopback: what the request pacer waits for.
// A reply queued behind less than HOLD_MAX_BYTES counts as sent at once (it leaves by the end
// of the turn's hold, turn-cork.ts), so a request's objects need not live to the turn's end;
// behind a peer that stopped reading, the reply waits until the bytes reach the kernel.
import { once } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Conn, type ClientSocket } from '../../server/gateway/connection.ts';
import { HOLD_MAX_BYTES, holdForTurn } from '../../server/util/turn-cork.ts';
import { sleep } from '../helpers/procs.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  cleanups.push(() => wss.close());
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  cleanups.push(() => client.terminate());
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  cleanups.push(() => server.terminate());
  await once(client, 'open');
  return { server, client };
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: net.Socket })._socket;

describe('Conn.sendAndDrain', () => {
  it('a reply held by this turn behind less than HOLD_MAX_BYTES resolves before the turn ends, and still arrives', async () => {
    const { server, client } = await pair();
    const conn = new Conn('c1', server as unknown as ClientSocket, Date.now());
    const got = once(client, 'message');
    holdForTurn(socketOf(server));
    let resolved = false;
    void conn.sendAndDrain('{"t":"ok","id":"r1"}').then(() => (resolved = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toBe(true);
    // not written yet: the turn's hold has it
    expect(socketOf(server).writableLength).toBeGreaterThan(0);
    const [data] = (await got) as [Buffer];
    expect(String(data)).toBe('{"t":"ok","id":"r1"}');
  });

  it('behind a peer that stopped reading, it resolves only once the peer reads again', async () => {
    const { server, client } = await pair();
    const conn = new Conn('c1', server as unknown as ClientSocket, Date.now());
    socketOf(client).pause();
    const chunk = 'x'.repeat(64 * 1024);
    // fill the kernel's buffers both ways until the node's own queue passes the bound (bounded: 32 MiB)
    for (let i = 0; i < 512 && server.bufferedAmount < HOLD_MAX_BYTES; i++) {
      conn.send(chunk);
      await new Promise((r) => setImmediate(r));
    }
    expect(server.bufferedAmount).toBeGreaterThanOrEqual(HOLD_MAX_BYTES);
    let resolved = false;
    const p = conn.sendAndDrain('{"t":"ok","id":"r2"}').then(() => (resolved = true));
    await sleep(100);
    expect(resolved).toBe(false);
    socketOf(client).resume();
    await Promise.race([p, sleep(5000).then(() => Promise.reject(new Error('not resolved 5 s after the peer read again')))]);
    expect(resolved).toBe(true);
  });
});
