/**
 * The bench's raw-ws client baseline, a forked process: plain `ws` client connections that
 * do only `hello` and wait for `synced`, then stay open. The bench measures its RSS before
 * and after the same way it measures a fleet process (FleetDone.rss), so the fleet's RSS
 * per device comes with its ratio to the runtime's own cost of a client connection.
 *
 * Commands (parent → child): connect {urls, secret, users, concurrency} → connected {base, baseHeap, open}
 *                            measure → measured {rss, heap}
 */
import WebSocket from 'ws';
import { mintToken } from '../util/tokens.ts';
import { pool } from '../util/pool.ts';
import { collectGarbage, youngGenerationBytes } from '../util/gc.ts';

export type RawClientsCommand = { type: 'connect'; urls: string[]; secret: string; users: string[]; concurrency: number } | { type: 'measure' };
export type RawClientsReply = { type: 'connected'; base: number; baseHeap: number; baseYoung: number; open: number } | { type: 'measured'; rss: number; heap: number; young: number } | { type: 'fatal'; message: string };

const CONNECT_TIMEOUT_MS = 30_000;
const sockets: WebSocket[] = [];
const reply = (m: RawClientsReply) => process.send!(m);

function connectOne(url: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    const timer = setTimeout(() => reject(new Error(`no synced within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    let refused = '';
    ws.on('message', (d) => {
      const text = d.toString();
      if (text.includes('"t":"synced"')) {
        clearTimeout(timer);
        resolve();
      } else if (text.includes('"t":"error"')) refused = text;
    });
    ws.on('error', reject);
    // a handshake the server refused (an `error` frame, then its close): named, not waited out
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      reject(new Error(`closed ${code}${reason.length ? ` (${reason.toString()})` : ''} before synced${refused ? `, after ${refused}` : ''}`));
    });
  });
}

process.on('message', (cmd: RawClientsCommand) => {
  void (async () => {
    // after V8's memory-reducing GC each, as a fleet process measures (FleetDone.rss)
    if (cmd.type === 'measure') {
      collectGarbage(true);
      const m = process.memoryUsage();
      return reply({ type: 'measured', rss: m.rss, heap: m.heapUsed, young: youngGenerationBytes() });
    }
    collectGarbage(true);
    const { rss: base, heapUsed: baseHeap } = process.memoryUsage();
    const baseYoung = youngGenerationBytes();
    await pool(cmd.users, cmd.concurrency, async (u, i) => connectOne(cmd.urls[i % cmd.urls.length]!, await mintToken(cmd.secret, u, { dev: 'd0', expiresIn: '2h' })));
    reply({ type: 'connected', base, baseHeap, baseYoung, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length });
  })().catch((err: unknown) => {
    reply({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
