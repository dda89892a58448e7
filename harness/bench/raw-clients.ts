/**
 * The bench's raw-ws client baseline, a forked process: plain `ws` client connections that
 * do only `hello` and wait for `synced`, then stay open (a handshake closed 1013, try again
 * later, is tried again after 500 ms, at most 5 times, as a real client would, and counted:
 * `retried`). The bench measures its RSS before
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
export type RawClientsReply = { type: 'connected'; base: number; baseHeap: number; baseYoung: number; open: number; retried: number } | { type: 'measured'; rss: number; heap: number; young: number } | { type: 'fatal'; message: string };

const CONNECT_TIMEOUT_MS = 30_000;
/** attempts a client makes when the server answers 1013 (try again later, PROTOCOL.md), as a real client would */
const ATTEMPTS_ON_1013 = 5;
const RETRY_AFTER_MS = 500;
const sockets: WebSocket[] = [];
/** handshakes refused 1013 and tried again */
let retried = 0;
const reply = (m: RawClientsReply) => process.send!(m);

/** Why a handshake ended without `synced`: its close code, for the retry. */
class Refused extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function connectOnce(url: string, token: string, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error(`no synced within ${CONNECT_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
    let refused = '';
    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    ws.on('message', (d) => {
      const text = d.toString();
      if (text.includes('"t":"synced"')) {
        clearTimeout(timer);
        sockets.push(ws);
        resolve();
      } else if (text.includes('"t":"error"')) refused = text;
    });
    ws.on('error', reject);
    // a handshake the server refused (an `error` frame, then its close): named, not waited out
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      reject(new Refused(code, `closed ${code}${reason.length ? ` (${reason.toString()})` : ''} before synced${refused ? `, after ${refused}` : ''}`));
    });
  });
}

async function connectOne(url: string, token: string): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(url, token, deadline);
    } catch (err) {
      if (!(err instanceof Refused && err.code === 1013 && attempt < ATTEMPTS_ON_1013 && Date.now() + RETRY_AFTER_MS < deadline)) throw err;
      retried++;
      await new Promise((r) => setTimeout(r, RETRY_AFTER_MS));
    }
  }
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
    reply({ type: 'connected', base, baseHeap, baseYoung, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, retried });
  })().catch((err: unknown) => {
    reply({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
