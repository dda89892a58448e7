// A small protocol client over `ws` (PROTOCOL.md, "WebSocket") that records every frame.
import WebSocket from 'ws';
import { decodeServerFrame, FrameDecodeError, type ServerFrame } from '../../server/protocol/server-frames.ts';

/**
 * A frame as decoded by the server's own codec. `t` narrows it to one frame type; the
 * index signature lets an assertion read a field without narrowing first.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = ServerFrame & { readonly [field: string]: any };

export type MsgFrame = Extract<Frame, { t: 'msg' }>;

export interface Received {
  frame: Frame;
  /** Date.now() at arrival. */
  at: number;
  /** Position in arrival order (0-based). */
  index: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
  at: number;
}

export interface ClientOptions {
  /** Answer WebSocket pings (default true, as `ws` does). */
  autoPong?: boolean;
  /** Extra `ws` options. */
  ws?: WebSocket.ClientOptions;
}

let reqCounter = 0;

export class Client {
  /** Every client not yet closed, so suites can terminate leftovers in afterAll. */
  static readonly all = new Set<Client>();

  static terminateAll(): void {
    for (const c of Client.all) c.terminate();
    Client.all.clear();
  }

  readonly ws: WebSocket;
  readonly received: Received[] = [];
  /**
   * Text the server sent that its own codec does not decode (not JSON, an unknown `t`, a
   * field of the wrong type), kept raw with the reason, so a test sees the malformed
   * output itself instead of only a frame that never matched.
   */
  readonly junk: Array<{ text: string; error: string }> = [];
  closed: CloseInfo | undefined;
  readonly openedAt = Date.now();
  private waiters = new Set<() => void>();
  private closeWaiters: Array<(c: CloseInfo) => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    Client.all.add(this);
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let frame: Frame;
      try {
        frame = decodeServerFrame(text) as Frame;
      } catch (err) {
        if (!(err instanceof FrameDecodeError)) throw err;
        this.junk.push({ text, error: err.message });
        this.notify();
        return;
      }
      this.received.push({ frame, at: Date.now(), index: this.received.length });
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString(), at: Date.now() };
      Client.all.delete(this);
      for (const w of this.closeWaiters) w(this.closed);
      this.closeWaiters = [];
      this.notify();
    });
    ws.on('error', () => {
      // surfaced through 'close' (1006)
    });
  }

  /** Open a WebSocket to `url` (ws://host:port/ws). */
  static connect(url: string, opts: ClientOptions = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { autoPong: opts.autoPong ?? true, ...opts.ws });
      const client = new Client(ws);
      const onError = (err: Error) => reject(err);
      ws.once('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        resolve(client);
      });
    });
  }

  /** Connect and complete the handshake; resolves once `welcome` arrived (throws on `error`). */
  static async open(url: string, token: string, opts: ClientOptions = {}): Promise<Client> {
    const c = await Client.connect(url, opts);
    await c.hello(token);
    return c;
  }

  get frames(): Frame[] {
    return this.received.map((r) => r.frame);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Send a frame (an object is JSON-encoded; a string is sent as is). */
  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /**
   * Send a request with a fresh `id` (unless it has one) and resolve with the one final
   * reply echoing it (result frame, `ok` or `error`).
   */
  async request(frame: Record<string, unknown>, timeoutMs = 10_000): Promise<Frame> {
    const id = typeof frame.id === 'string' ? frame.id : `r${++reqCounter}`;
    const from = this.received.length;
    this.send({ ...frame, id });
    return this.waitFor((f) => f.id === id, timeoutMs, from);
  }

  /**
   * The first received frame (from position `from`, default 0: past and future) matching
   * `pred`. Rejects on timeout or when the connection closes first.
   */
  waitFor(pred: (f: Frame, r: Received) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    return this.waitForReceived(pred, timeoutMs, from).then((r) => r.frame);
  }

  waitForReceived(pred: (f: Frame, r: Received) => boolean, timeoutMs = 10_000, from = 0): Promise<Received> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const check = (): boolean => {
        for (; scanned < this.received.length; scanned++) {
          const r = this.received[scanned]!;
          if (pred(r.frame, r)) {
            done();
            resolve(r);
            return true;
          }
        }
        if (this.closed) {
          done();
          reject(new Error(`connection closed (${this.closed.code} ${this.closed.reason}) before a matching frame; received: ${this.describe()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${timeoutMs} ms; received: ${this.describe()}`));
      }, timeoutMs);
      const waiter = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /** Resolves once `n` frames matching `pred` have been received (past and future). */
  async waitForCount(pred: (f: Frame) => boolean, n: number, timeoutMs = 10_000): Promise<Frame[]> {
    let seen = 0;
    await this.waitFor((f) => pred(f) && ++seen >= n, timeoutMs);
    return this.frames.filter(pred);
  }

  /** Resolves with the close code and reason (at once if already closed). */
  waitClose(timeoutMs = 15_000): Promise<CloseInfo> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms; received: ${this.describe()}`)), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  /** Send `hello` and resolve with `welcome`; throws with the `error` frame otherwise. */
  async hello(token: string, timeoutMs = 10_000): Promise<Frame> {
    const from = this.received.length;
    this.send({ t: 'hello', v: 1, token });
    const f = await this.waitFor((x) => x.t === 'welcome' || x.t === 'error', timeoutMs, from);
    if (f.t !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(f)}`);
    return f;
  }

  /** Resolves once `synced` arrived (after the backlog). */
  waitSynced(timeoutMs = 10_000): Promise<Frame> {
    return this.waitFor((f) => f.t === 'synced', timeoutMs);
  }

  /** The `msg` frames received for `conv`, in arrival order. */
  msgs(conv: string): MsgFrame[] {
    return this.frames.filter((f): f is MsgFrame => f.t === 'msg' && f.conv === conv);
  }

  /** Stop reading from the socket (TCP backpressure builds up; pings go unanswered). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(code?: number): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  /** Drop the TCP connection without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  describe(last = 12): string {
    const tail = this.received.slice(-last).map((r) => {
      const s = JSON.stringify(r.frame);
      return s.length > 200 ? `${s.slice(0, 200)}…` : s;
    });
    const junk = this.junk.length ? `; ${this.junk.length} undecodable, first: ${this.junk[0]!.error}` : '';
    return `${this.received.length} frames${this.received.length > last ? ` (last ${last})` : ''}: ${tail.join(' ')}${junk}`;
  }
}
