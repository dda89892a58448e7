import net from 'node:net';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import RedisParser from 'redis-parser';
import { loadLua } from './lua-source.ts';

/**
 * A lean second Redis link for the 1:1 hot scripts (`send`, `cursors-advance`): EVALSHA
 * written as RESP by hand and replies read with redis-parser (the parser ioredis 4–5 and
 * node_redis used). ioredis spends about 8 µs of CPU a command on its Command objects,
 * per-command timers and promise chains (issue 10); here a call is one string and one
 * queue entry.
 *
 * It never holds a guarantee alone: while it is not ready the caller uses the ioredis link
 * (which owns the node's link state). A call that gets no reply within timeoutMs is
 * rejected, and so is everything behind it: the link is dropped and reopened (replies
 * come in order, so nothing behind an unanswered call has been answered either). Scripts
 * are loaded (SCRIPT LOAD) as part of each connection's handshake, and a NOSCRIPT
 * answer (SCRIPT FLUSH) is retried once as EVAL.
 */
interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  deadline: number;
  /** what to send again as EVAL on NOSCRIPT; null: none (handshake commands, or already retried) */
  retry: { s: LeanScript; n: number; tail: string } | null;
}

export interface LeanScript {
  readonly sha: string;
  readonly lua: string;
  readonly numberOfKeys: number;
  /** `EVAL <lua>` as RESP, built once: only a NOSCRIPT answer sends it */
  readonly evalHead: string;
}

export function leanScript(name: string, numberOfKeys: number): LeanScript {
  const lua = loadLua(`${name}.lua`);
  return { sha: createHash('sha1').update(lua).digest('hex'), lua, numberOfKeys, evalHead: `$4\r\nEVAL\r\n${bulk(lua)}` };
}

/** The scripts this link runs: the 1:1 path's per-message ones. */
export const hotScripts = {
  send: leanScript('send', 5),
  'cursors-advance': leanScript('cursors-advance', 1),
  // conversation states read without a log read ordered before them (redis-log.ts states:
  // a connect's, an attach's, an ack clamp's, a resync's); those after one stay on the command link
  'conv-state': leanScript('conv-state', 3),
} as const;
export type HotScript = keyof typeof hotScripts;

function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

export class ScriptLink {
  private sock: net.Socket | null = null;
  private parser: RedisParser | null = null;
  private ready = false;
  private closed = false;
  private q: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private retries = 0;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly scripts: readonly LeanScript[];
  private readonly name: string;

  constructor(url: string, timeoutMs: number, scripts: readonly LeanScript[], name: string) {
    this.timeoutMs = timeoutMs;
    this.scripts = scripts;
    this.name = name;
    const u = new URL(url);
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port || 6379);
  }

  /** A URL this link cannot speak (TLS, AUTH, a database other than 0) leaves it off: the callers use ioredis. */
  static supports(url: string): boolean {
    const u = new URL(url);
    return u.protocol === 'redis:' && !u.username && !u.password && (u.pathname === '' || u.pathname === '/' || u.pathname === '/0');
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** calls written and not answered yet (the node's `storeCommands` backlog counts them) */
  get inFlight(): number {
    return this.q.length - this.head;
  }

  get socket(): net.Socket | null {
    return this.sock;
  }

  start(): void {
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.drop(new Error('Connection is closed.'));
  }

  /** One EVALSHA of `s`; only while isReady. */
  call(s: LeanScript, args: readonly (string | number)[]): Promise<unknown> {
    let tail = `$1\r\n${s.numberOfKeys}\r\n`;
    for (const a of args) tail += bulk(typeof a === 'string' ? a : String(a));
    const n = args.length + 3;
    return this.send(`*${n}\r\n$7\r\nEVALSHA\r\n$40\r\n${s.sha}\r\n${tail}`, { s, n, tail });
  }

  private send(cmd: string, retry: Pending['retry']): Promise<unknown> {
    const sock = this.sock;
    if (!sock || sock.destroyed) return Promise.reject(new Error('Connection is closed.'));
    return new Promise((resolve, reject) => {
      this.q.push({ resolve, reject, deadline: Date.now() + this.timeoutMs, retry });
      sock.write(cmd);
      if (!this.timer) this.arm();
    });
  }

  private connect(): void {
    if (this.closed) return;
    const sock = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.sock = sock;
    this.parser = new RedisParser({
      returnReply: (v: unknown) => this.onReply(v, null),
      returnError: (e: Error) => this.onReply(undefined, e),
      returnFatalError: (e: Error) => this.drop(e),
    });
    sock.on('data', (d) => this.parser!.execute(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.drop(new Error('Connection is closed.'));
      const delay = Math.min(100 * ++this.retries, 1000);
      setTimeout(() => this.connect(), delay).unref();
    });
    // the connect itself has timeoutMs too (a paused Redis still completes TCP handshakes)
    const handshake = [this.send(`*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n${bulk(this.name)}`, null), ...this.scripts.map((s) => this.send(`*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n${bulk(s.lua)}`, null))];
    Promise.all(handshake).then(
      () => {
        if (this.sock !== sock) return;
        this.retries = 0;
        this.ready = true;
      },
      () => {},
    );
  }

  private onReply(v: unknown, err: Error | null): void {
    const p = this.q[this.head];
    if (!p) return this.drop(new Error('reply without a command'));
    this.q[this.head++] = undefined as unknown as Pending;
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    if (err === null) return p.resolve(v);
    if (p.retry !== null && err.message.startsWith('NOSCRIPT')) {
      const r = p.retry;
      this.send(`*${r.n}\r\n${r.s.evalHead}${r.tail}`, null).then(p.resolve, p.reject);
      return;
    }
    p.reject(err);
  }

  /** One timer for the oldest call: calls leave in order, so their deadlines are in order too. */
  private arm(): void {
    const p = this.q[this.head];
    if (!p) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, p.deadline - Date.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const p = this.q[this.head];
    if (!p) return;
    if (p.deadline <= Date.now()) return this.drop(new Error('Command timed out'));
    this.arm();
  }

  /** Rejects every call in flight and closes the socket ('close' reconnects). */
  private drop(err: Error): void {
    this.ready = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const q = this.q;
    const head = this.head;
    this.q = [];
    this.head = 0;
    for (let i = head; i < q.length; i++) q[i]!.reject(err);
    const sock = this.sock;
    if (sock && !sock.destroyed) {
      if (this.closed) this.sock = null;
      sock.destroy();
    }
  }
}
