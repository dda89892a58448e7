// Raw TCP to a node for the attacks HTTP and WebSocket clients cannot make: requests cut
// by a reset (RST) mid-way, headers that never finish, sockets that say nothing.
import net from 'node:net';
import { httpCall } from '../util/http-call.ts';

export interface RawAnswer {
  /** what the server wrote before closing (or before the wait ended) */
  text: string;
  /** the server closed (FIN or RST) within the wait */
  closed: boolean;
  /** ms from connecting until closed (or until the wait ended) */
  ms: number;
}

/** Connects to host:port; null when refused (the node is gone: the caller records that). */
export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

/** Writes `request` and resets the socket (RST) `afterMs` later. */
export async function sendAndReset(port: number, request: string, afterMs: number): Promise<boolean> {
  const s = await connect(port);
  if (!s) return false;
  s.write(request);
  if (afterMs > 0) await new Promise((r) => setTimeout(r, afterMs));
  s.resetAndDestroy();
  return true;
}

/**
 * Writes `chunks` (one every `gapMs`, stopping once the server closed) and waits up to
 * `waitMs` from connecting for the server to answer and close; the socket is destroyed after.
 */
export async function exchange(port: number, chunks: readonly string[], gapMs: number, waitMs: number): Promise<RawAnswer | null> {
  const start = Date.now();
  const s = await connect(port);
  if (!s) return null;
  let text = '';
  let closed = false;
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    if (text.length < 4096) text += d;
  });
  const done = new Promise<void>((resolve) => {
    s.once('close', () => {
      closed = true;
      resolve();
    });
    setTimeout(resolve, Math.max(0, waitMs - (Date.now() - start))).unref();
  });
  for (const [i, c] of chunks.entries()) {
    if (closed) break;
    if (i > 0 && gapMs > 0) await Promise.race([new Promise((r) => setTimeout(r, gapMs)), done]);
    if (!closed && !s.destroyed) s.write(c);
  }
  await done;
  const ms = Date.now() - start;
  s.destroy();
  return { text, closed, ms };
}

/** An HTTP answer as `http:<status>:<code>` (`code` from a JSON `{code, message}` body; `nojson` otherwise, `trace` when it shows a stack). */
export function httpAnswer(status: number, body: string, contentType = ''): string {
  if (/\n\s+at .+:\d+:\d+/.test(body)) return `http:${status}:trace`;
  if (status < 400) return `http:${status}:${contentType.includes('json') ? 'json' : contentType.startsWith('text/plain') ? 'text' : 'other'}`;
  try {
    const j = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof j.code === 'string' && typeof j.message === 'string') return `http:${status}:${j.code}`;
  } catch {
    // not JSON
  }
  return `http:${status}:nojson`;
}

/** The status line and body of a raw HTTP response, as httpAnswer; `closed` when nothing came. */
export function rawHttpAnswer(a: RawAnswer): string {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(a.text);
  if (!m) return a.closed ? 'closed' : 'none';
  const split = a.text.indexOf('\r\n\r\n');
  const head = a.text.slice(0, split < 0 ? undefined : split).toLowerCase();
  return httpAnswer(Number(m[1]), split < 0 ? '' : a.text.slice(split + 4), /content-type: *([^\r\n]*)/.exec(head)?.[1] ?? '');
}

export const upgradeRequest = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

/** One HTTP request on its own connection (harness/util/http-call.ts), answered as httpAnswer; `failed` when no answer came. */
export async function httpAttempt(url: string, opts: Parameters<typeof httpCall>[1] = {}): Promise<string> {
  try {
    const r = await httpCall(url, { timeoutMs: 5000, ...opts });
    return httpAnswer(r.status, r.text, r.contentType);
  } catch {
    return 'failed';
  }
}
