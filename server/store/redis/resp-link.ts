import net from 'node:net';
import tls from 'node:tls';
import RedisParser from 'redis-parser';
import { HOLD_MAX_BYTES } from '../../util/turn-cork.ts';
import { RespBatch, type EncodedBytes } from './resp-batch.ts';
import type { LeanScript } from './script-link.ts';
import { monoNow } from '../../util/clock.ts';

/**
 * A Redis connection without ioredis: commands written as RESP by hand (resp-batch.ts),
 * replies read with redis-parser (the parser ioredis 4–5 and node_redis used). Two links
 * are built on it: the hot scripts' (script-link.ts) and the bus subscription's
 * (bus-subscription.ts). ioredis spends several µs of CPU on each command and each pub/sub
 * message (its Command objects, per-command timers, promise chains and event emission).
 *
 * It fails fast instead of queueing: a command that gets no reply within timeoutMs is
 * rejected, and so is everything behind it (replies come in order, so nothing behind an
 * unanswered command has been answered either); the connection is dropped and opened again
 * after 100 ms more each attempt, at most 1 s, as the ioredis links' retryStrategy. Nothing
 * is ever sent again on the new connection. Each connection's handshake (AUTH where the
 * URL has a password, CLIENT SETNAME, then the link's own) has timeoutMs per command; a
 * handshake that fails drops the connection too, and is reported (onHandshake). As ioredis
 * did, two error replies are not failures: CLIENT SETNAME refused (an ACL user without
 * `client`: the link only goes unnamed in CLIENT LIST), and AUTH on a Redis that has no
 * password (a URL with one: Redis 6+ "ERR AUTH <password> called without any password
 * configured…", older "ERR Client sent AUTH, but no password is set").
 *
 * A command's timeoutMs counts from when its bytes are written, not from when it was
 * queued: they leave at the end of the turn (flush), and a turn of the node's own longer
 * than timeoutMs in between (a backlog, a long GC) would otherwise make a healthy link look
 * late (its answer cannot have come before the next poll phase).
 */
export interface Pending {
  /** a single call's promise; null for a call of a batch */
  resolve: ((v: unknown) => void) | null;
  reject: ((e: Error) => void) | null;
  /** a call of `callEach`: its batch and its place in it */
  batch: EachAnswer | null;
  index: number;
  deadline: number;
  /** what to send again as EVAL on NOSCRIPT; null: none (plain and handshake commands, or already retried) */
  retry: { s: LeanScript; n: number; rest: EncodedBytes } | null;
}

/** What `callEach` answers: one entry per item, true where Redis answered without an error. */
export class EachAnswer {
  readonly ok: boolean[];
  private left: number;
  private readonly done: (ok: boolean[]) => void;

  constructor(n: number, done: (ok: boolean[]) => void) {
    this.ok = new Array<boolean>(n).fill(false);
    this.left = n;
    this.done = done;
  }

  settle(i: number, ok: boolean): void {
    this.ok[i] = ok;
    if (--this.left === 0) this.done(this.ok);
  }
}

/** Where a link connects and how it logs in; the database number is left to the link (pub/sub has none). */
export interface RedisEndpoint {
  host: string;
  port: number;
  /** rediss:// */
  tls: boolean;
  /** ACL user; '' with a password: `AUTH <password>` (requirepass) */
  username: string;
  /** '': no AUTH */
  password: string;
}

export function endpointOf(url: string): RedisEndpoint {
  const u = new URL(url);
  return {
    // an IPv6 literal's brackets are the URL's, not the address's
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: Number(u.port || 6379),
    tls: u.protocol === 'rediss:',
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

/** The link's state in the words ioredis used for its `status` (GET /debug/state shows the bus link's). */
export type LinkStatus = 'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'end';

export abstract class RespLink {
  private sock: net.Socket | null = null;
  private ready = false;
  private closed = false;
  private q: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  /** the reconnect's, between a connection's close and the next connect */
  private reconnectTimer: NodeJS.Timeout | null = null;
  private retries = 0;
  /** q's entries before this index were written (flush); those at and after it wait for the turn's end */
  private unwritten = 0;
  /** a deadline passed and is looked at again after the next poll phase (onTimer): no timer meanwhile */
  private checking = false;
  /** when the last pub/sub push came while a command waited for its reply (subscriber only) */
  private pushedAt = -Infinity;
  /** what this turn's calls wrote; the bytes of a full slab go to the socket at once */
  protected readonly out = new RespBatch((b) => this.sock?.write(b));
  private flushDue = false;
  private readonly flushTurn = () => {
    this.flushDue = false;
    this.flush();
  };
  protected readonly timeoutMs: number;
  private readonly endpoint: RedisEndpoint;
  private readonly name: string;
  /** RESP2 subscribed mode: a ['message', channel, payload] reply is a push, not a command's answer */
  private readonly subscriber: boolean;

  /**
   * The owner hears of each connection's handshake: null once it was answered (the link is
   * ready), or why it failed (the error's message: Redis's error reply, a timeout, a closed
   * connection; never the password). It fails again at every retry while the cause lasts.
   */
  onHandshake: ((failure: string | null) => void) | null = null;

  constructor(url: string, timeoutMs: number, name: string, subscriber: boolean) {
    this.timeoutMs = timeoutMs;
    this.name = name;
    this.subscriber = subscriber;
    this.endpoint = endpointOf(url);
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** commands written and not answered yet (the node's `storeCommands` backlog counts them) */
  get inFlight(): number {
    return this.q.length - this.head;
  }

  get status(): LinkStatus {
    if (this.closed) return 'end';
    const s = this.sock;
    if (s === null) return 'wait';
    if (s.destroyed) return 'reconnecting';
    if (s.connecting) return 'connecting';
    return this.ready ? 'ready' : 'connect';
  }

  start(): void {
    this.connect();
  }

  /** For good: nothing reconnects. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.drop(new Error('Connection is closed.'));
  }

  /** What a new connection sends after its AUTH and CLIENT SETNAME, all at once. */
  protected handshake(): Promise<unknown>[] {
    return [];
  }

  /** What it sends once the handshake is answered, with a timeoutMs of its own; the link is ready when it is answered. */
  protected afterHandshake(): Promise<unknown> | null {
    return null;
  }

  /** isReady changed (a drop: false, before the calls in flight are rejected). */
  protected readyChanged(_ready: boolean): void {}

  /** A pub/sub message's payload (subscriber only). */
  protected pushed(_payload: string): void {}

  /** An error reply `p` may be sent again instead of rejected (true: it was, and waits again). */
  protected again(_p: Pending, _err: Error): boolean {
    return false;
  }

  /** A command of fixed words. */
  protected send(words: string[]): Promise<unknown> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    this.out.command(words.length, RespBatch.words(...words), []);
    return this.expect(null);
  }

  protected writable(): boolean {
    return this.sock !== null && !this.sock.destroyed;
  }

  /** The reply to the command just encoded. */
  protected expect(retry: Pending['retry']): Promise<unknown> {
    return new Promise((resolve, reject) => this.enqueue({ resolve, reject, batch: null, index: 0, deadline: monoNow() + this.timeoutMs, retry }));
  }

  /** Waits for the reply to the command just encoded; its bytes leave at the turn's end, or now past HOLD_MAX_BYTES. */
  protected enqueue(p: Pending): void {
    this.q.push(p);
    if (this.out.pending >= HOLD_MAX_BYTES) this.flush();
    else if (!this.flushDue) {
      this.flushDue = true;
      setImmediate(this.flushTurn);
    }
    if (!this.timer && !this.checking) this.arm();
  }

  /**
   * Writes what was encoded and not written yet; the calls just written have timeoutMs from
   * now if that is later than their deadline (a turn longer than timeoutMs between their
   * queueing and this write). Deadlines are in queue order, so when the first of them needs
   * no change neither do the others; else each call written is looked at once (a compare and
   * a store: the monotonic clock's fractional milliseconds move on between any two calls).
   */
  private flush(): void {
    const bytes = this.out.take();
    if (bytes !== null && this.writable()) this.sock!.write(bytes);
    const q = this.q;
    let i = Math.max(this.unwritten, this.head);
    this.unwritten = q.length;
    if (i >= q.length) return;
    const deadline = monoNow() + this.timeoutMs;
    if (q[i]!.deadline >= deadline) return;
    for (; i < q.length; i++) if (q[i]!.deadline < deadline) q[i]!.deadline = deadline;
  }

  private connect(): void {
    if (this.closed) return;
    const { host, port } = this.endpoint;
    // rediss://: ioredis's `tls: true`, Node's defaults (the system's CAs, the host's name checked)
    const sock = this.endpoint.tls ? tls.connect({ host, port }) : net.connect({ host, port });
    sock.setNoDelay(true);
    this.sock = sock;
    // this socket's own parser: a new connection has another
    const parser = new RedisParser({
      returnReply: (v: unknown) => this.onReply(v, null),
      returnError: (e: Error) => this.onReply(undefined, e),
      returnFatalError: (e: Error) => this.drop(e),
    });
    sock.on('data', (d) => parser.execute(d));
    // why the socket closed (refused, reset, a TLS certificate refused), for the handshake's report
    let cause = '';
    sock.on('error', (e) => (cause = e.message));
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.drop(new Error(cause ? `Connection is closed (${cause}).` : 'Connection is closed.'));
      if (this.closed) return;
      const delay = Math.min(100 * ++this.retries, 1000);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, delay);
      this.reconnectTimer.unref();
    });
    // the connect itself has timeoutMs too (a paused Redis still completes TCP handshakes)
    const { username, password } = this.endpoint;
    // in this order on the wire: nothing else is allowed before AUTH
    const auth = password ? [this.send(username ? ['AUTH', username, password] : ['AUTH', password]).catch(unless(noPasswordSet))] : [];
    Promise.all([...auth, this.send(['CLIENT', 'SETNAME', this.name]).catch(unless(() => true)), ...this.handshake()])
      .then(() => (this.sock === sock ? this.afterHandshake() : null))
      .then(() => {
        if (this.sock !== sock || sock.destroyed) return;
        // may throw (a listener of the owner's): caught below, as a failed handshake
        this.setReady(true);
        this.onHandshake?.(null);
        // only once up for good: a listener that always throws backs off to 1 s like any failure
        this.retries = 0;
      })
      // an error reply (a wrong password, Redis still loading its data), a timeout, the
      // connection closed, or the owner's listener threw: drop it and try again later
      .catch((e: unknown) => {
        if (this.sock !== sock || this.closed) return;
        const why = e instanceof Error ? e.message : String(e);
        try {
          this.onHandshake?.(why);
        } finally {
          this.drop(new Error(`handshake failed: ${why}`));
        }
      });
  }

  private setReady(ready: boolean): void {
    if (ready === this.ready) return;
    this.ready = ready;
    this.readyChanged(ready);
  }

  private onReply(v: unknown, err: Error | null): void {
    if (this.subscriber && err === null && isMessage(v)) {
      // the replies behind a push are on their way: the link answers (dueAt)
      if (this.head < this.q.length) this.pushedAt = monoNow();
      return this.pushed(v[2]);
    }
    const p = this.q[this.head];
    if (!p) return this.drop(new Error('reply without a command'));
    this.q[this.head++] = undefined as unknown as Pending;
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.unwritten = Math.max(0, this.unwritten - this.head);
      this.head = 0;
    }
    if (err !== null && p.retry !== null && this.again(p, err)) return;
    settle(p, v, err);
  }

  /**
   * When `p`'s reply is overdue. A subscriber's PING waits behind every message published
   * before it: while messages keep coming the link answers, however long the backlog
   * (ioredis's links counted a message as an answer too).
   */
  private dueAt(p: Pending): number {
    return Math.max(p.deadline, this.pushedAt + this.timeoutMs);
  }

  /** One timer for the oldest call: calls leave in order, so their deadlines are in order too. */
  private arm(): void {
    const p = this.q[this.head];
    if (!p) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, this.dueAt(p) - monoNow()));
    this.timer.unref();
  }

  /**
   * A deadline passed: the link is dropped unless the reply is already here. Timers run
   * before the poll phase that reads sockets, so after a turn of the node's own longer than
   * timeoutMs (a backlog, a long GC, SIGSTOP) the oldest call looks late while its answer
   * waits unread in the socket: dropping then rejected every call in flight as
   * `unavailable`, answered or not, and sent the node's sends to the slower ioredis link at
   * its busiest (the 1:1 bench at 10,000 connections, issue 10: 43,041 sends answered
   * `unavailable` in one 10 s step). So the check is made again after one poll phase.
   */
  private onTimer(): void {
    this.timer = null;
    const p = this.q[this.head];
    if (!p) return;
    if (this.dueAt(p) > monoNow()) return this.arm();
    this.checking = true;
    setImmediate(() => {
      this.checking = false;
      if (this.q[this.head] === p && this.dueAt(p) <= monoNow()) return this.drop(new Error('Command timed out'));
      this.arm();
    });
  }

  /** Rejects every call in flight and closes the socket ('close' reconnects). */
  protected drop(err: Error): void {
    this.setReady(false);
    // encoded for the socket being dropped: the calls are rejected below
    this.out.discard();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const q = this.q;
    const head = this.head;
    this.q = [];
    this.head = 0;
    this.unwritten = 0;
    for (let i = head; i < q.length; i++) settle(q[i]!, undefined, err);
    const sock = this.sock;
    if (sock && !sock.destroyed) {
      if (this.closed) this.sock = null;
      sock.destroy();
    }
  }
}

/**
 * A handshake reply that is no failure: `ok(message)` for an error *reply* of Redis's (a
 * ReplyError of redis-parser's) resolves; anything else (a timeout, a closed connection)
 * still rejects.
 */
function unless(ok: (message: string) => boolean): (e: Error) => unknown {
  return (e) => {
    if (e.name === 'ReplyError' && ok(e.message)) return null;
    throw e;
  };
}

/** AUTH with a password on a Redis that has none: ioredis only warned and went on. */
function noPasswordSet(message: string): boolean {
  // Redis 6+: "ERR AUTH <password> called without any password configured for the default user…"; before 6: "ERR Client sent AUTH, but no password is set"
  return message.includes('without any password configured') || message.includes('no password is set');
}

/** RESP2 `message` push: ['message', channel, payload]. */
function isMessage(v: unknown): v is [string, string, string] {
  return Array.isArray(v) && v.length === 3 && v[0] === 'message';
}

/** Answers one call: its promise, or its entry in a batch. */
function settle(p: Pending, v: unknown, err: Error | null): void {
  if (p.batch !== null) p.batch.settle(p.index, err === null);
  else if (err === null) p.resolve!(v);
  else p.reject!(err);
}
