// A WebSocket session of a hostile client: it writes whatever it is told to (text, bytes
// as a text frame, fragments, pings), can stop reading, and keeps what the server
// answered (request replies by id, error frames without id, the close code).
import type { Socket } from 'node:net';
import WebSocket from 'ws';

export interface Reply {
  t: string;
  id?: string;
  code?: string;
}

const OPEN_TIMEOUT_MS = 5000;

export class WsSession {
  readonly ws: WebSocket;
  /** replies that carry an id, by id (every one of them: a second reply for one id is a protocol breach) */
  readonly byId = new Map<string, Reply[]>();
  /** `error` frames without an id, in arrival order */
  readonly unaddressed: Reply[] = [];
  /** the close code once closed (1006: no close frame) */
  closeCode: number | null = null;
  readonly closed: Promise<number>;
  #waiters: { test: () => boolean; resolve: () => void }[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        this.#wake();
        resolve(code);
      }),
    );
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let f: Reply;
      try {
        f = JSON.parse(data.toString()) as Reply;
      } catch {
        return;
      }
      if (typeof f !== 'object' || f === null) return;
      if (typeof f.id === 'string') {
        const l = this.byId.get(f.id);
        if (l) l.push(f);
        else this.byId.set(f.id, [f]);
      } else if (f.t === 'error') this.unaddressed.push(f);
      this.#wake();
    });
  }

  /** Opens a WebSocket to `url` (ws://…/ws); null when it could not (refused, timed out). */
  static async open(url: string): Promise<WsSession | null> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS, maxPayload: 64 * 1024 * 1024 });
    const s = new WsSession(ws);
    const ok = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
      ws.once('close', () => resolve(false));
    });
    if (!ok) {
      ws.terminate();
      return null;
    }
    return s;
  }

  /** Opens and says hello with `token`: the session once welcomed, else the answer it got instead (`refused`, `error:…#id+close:…`). */
  static async hello(url: string, token: string): Promise<WsSession | string> {
    const s = await WsSession.open(url);
    if (!s) return 'refused';
    s.text(JSON.stringify({ t: 'hello', v: 1, token, id: 'hello' }));
    await s.until(() => s.byId.has('hello') || s.closeCode !== null, OPEN_TIMEOUT_MS);
    if (s.byId.get('hello')?.[0]?.t === 'welcome') return s;
    await s.until(() => s.closeCode !== null, 1000);
    s.kill();
    return `${s.answerFor('hello')}+close:${s.closeCode ?? 'none'}`;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A text frame (a Buffer is written as the frame's payload as is: invalid UTF-8 stays invalid). */
  text(data: string | Buffer, fin = true): void {
    if (this.isOpen) this.ws.send(data, { binary: false, fin });
  }

  binary(data: Buffer): void {
    if (this.isOpen) this.ws.send(data, { binary: true });
  }

  ping(): void {
    if (this.isOpen) this.ws.ping();
  }

  /** The underlying TCP socket (to stop and resume reading). */
  get socket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  /** Resolves when `test()` holds or after `ms` (whichever first); true when it held. */
  until(test: () => boolean, ms: number): Promise<boolean> {
    if (test()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        resolve(test());
      }, ms);
      this.#waiters.push(w);
    });
  }

  /** The answer recorded for request `id`: `<t>#id` or `error:<code>#id`, `dup-reply` when more than one came, `none` when none. */
  answerFor(id: string): string {
    const l = this.byId.get(id);
    if (!l?.length) return this.closeCode !== null ? `close:${this.closeCode}` : 'none';
    if (l.length > 1) return `dup-reply:${l.map(describe).join('+')}`;
    return describe(l[0]!);
  }

  kill(): void {
    this.ws.terminate();
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.test());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

export function describe(r: Reply): string {
  const base = r.t === 'error' ? `error:${r.code}` : r.t;
  return typeof r.id === 'string' ? `${base}#id` : base;
}
