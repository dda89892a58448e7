// The bench's raw-ws client process (harness/bench/raw-clients.ts) against real sockets: a
// handshake the server refuses is reported with its close code, reason and error frame, not
// waited out as "no synced within 30000 ms" (two 100k idle runs ended on that message with
// nothing to say why); one refused 1013 (try again later) is tried again, as clients must.
import { fork } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { RawClientsReply } from '../../harness/bench/raw-clients.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

/** A ws server answering each hello with `onHello` (n: hellos before this one); `hellos()` counts them. */
async function serve(onHello: (ws: import('ws').WebSocket, n: number) => void): Promise<{ url: string; hellos: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => wss.close());
  let n = 0;
  wss.on('connection', (ws) => ws.once('message', () => onHello(ws, n++)));
  await new Promise((r) => wss.once('listening', r));
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, hellos: () => n };
}

const synced = (ws: import('ws').WebSocket) => ws.send(JSON.stringify({ t: 'synced' }));

/** An `error` frame, then the close, as the node refuses a handshake: 1013 store unavailable, 1008 unauthorized. */
function refuse(ws: import('ws').WebSocket, close: 1013 | 1008): void {
  if (close === 1013) ws.send(JSON.stringify({ t: 'error', code: 'unavailable', msg: 'the store is unavailable; try again later' }));
  else ws.send(JSON.stringify({ t: 'error', code: 'unauthorized', msg: 'invalid token' }));
  ws.close(close, close === 1013 ? 'store unavailable' : 'unauthorized');
}

function connect(url: string, users: string[]): Promise<{ reply: RawClientsReply; ms: number }> {
  const child = fork(path.resolve('harness/bench/raw-clients.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const t0 = Date.now();
  child.send({ type: 'connect', urls: [url], secret: 's'.repeat(32), users, concurrency: 2 });
  return new Promise((resolve, reject) => {
    child.once('message', (reply: RawClientsReply) => resolve({ reply, ms: Date.now() - t0 }));
    child.once('exit', (code) => reject(new Error(`raw-clients exited ${code} before answering`)));
  });
}

describe('raw-clients', () => {
  it('tries a handshake closed 1013 again, as a real client would, and counts it', async () => {
    const { url, hellos } = await serve((ws, n) => (n !== 1 ? synced(ws) : refuse(ws, 1013)));
    const { reply } = await connect(url, ['u0', 'u1', 'u2']);
    expect(reply).toMatchObject({ type: 'connected', open: 3, retried: 1 });
    expect(hellos()).toBe(4);
  });

  it('names a handshake refused for good (close code, reason, the error frame) at once', async () => {
    const { url, hellos } = await serve((ws, n) => (n < 2 ? synced(ws) : refuse(ws, 1008)));
    const refused = await connect(url, ['u0', 'u1', 'u2']);
    expect(refused.reply.type === 'fatal' && refused.reply.message).toMatch(/^closed 1008 \(unauthorized\) before synced, after .*"code":"unauthorized"/);
    expect(refused.ms).toBeLessThan(5_000);
    expect(hellos(), 'a 1008 is not tried again').toBe(3);
  });

  it('gives up on a server that keeps answering 1013 after 5 attempts, naming it', async () => {
    const { url, hellos } = await serve((ws, n) => (n < 2 ? synced(ws) : refuse(ws, 1013)));
    const { reply, ms } = await connect(url, ['u0', 'u1', 'u2']);
    expect(reply.type).toBe('fatal');
    expect(reply.type === 'fatal' && reply.message).toMatch(/^closed 1013 \(store unavailable\) before synced, after .*"code":"unavailable"/);
    // five attempts 500 ms apart, not the 30 s deadline
    expect(hellos()).toBe(2 + 5);
    expect(ms).toBeLessThan(15_000);
  });

  it('answers connected once every client is synced', async () => {
    const { url } = await serve(synced);
    const { reply } = await connect(url, ['a', 'b', 'c', 'd']);
    expect(reply).toMatchObject({ type: 'connected', open: 4 });
  });
});
