import net from 'node:net';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import RedisParser from 'redis-parser';
import { HOLD_MAX_BYTES } from '../../util/turn-cork.ts';
import { loadLua } from './lua-source.ts';
import { RespBatch, type EncodedBytes } from './resp-batch.ts';

/**
 * A lean second Redis link for the 1:1 hot scripts (`send`, `cursors-advance`): EVALSHA
 * written as RESP by hand and replies read with redis-parser (the parser ioredis 4–5 and
 * node_redis used). ioredis spends about 8 µs of CPU a command on its Command objects,
 * per-command timers and promise chains (issue 10); here a call is encoded straight into
 * bytes (resp-batch.ts) and is one queue entry, and the calls of one event-loop turn leave
 * in one write at its end (or as soon as HOLD_MAX_BYTES are waiting, as turn-cork.ts holds).
 *
 * It never holds a guarantee alone: while it is not ready the caller uses the ioredis link
 * (which owns the node's link state). A call that gets no reply within timeoutMs is
 * rejected, and so is everything behind it: the link is dropped and reopened (replies
 * come in order, so nothing behind an unanswered call has been answered either). Scripts
 * are loaded (SCRIPT LOAD) as part of each connection's handshake, and a NOSCRIPT
 * answer (SCRIPT FLUSH) is retried once as EVAL.
 */
interface Pending {
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
class EachAnswer {
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

/** Where an ArgEncoder writes: the link's batch, or an array (argsOf). */
export type ArgSink = Pick<RespBatch, 'str' | 'strOf' | 'uint'>;

/**
 * How a hot script's arguments (its keys, then the rest) are written from a caller's item:
 * into the link's batch by `callWith`/`callEach` with no array or string built per call
 * (issue 10), or as an array for ioredis by `argsOf`, so both links send the same ones.
 */
export interface ArgEncoder<T> {
  /** how many arguments */
  count(item: T): number;
  /** most bytes they take (resp-batch.ts strRoom, strOfRoom, UINT_ROOM) */
  room(item: T): number;
  /** writes exactly count(item) arguments */
  write(item: T, out: ArgSink): void;
}

/** `enc`'s arguments for `item` as an array (the ioredis link's calls). */
export function argsOf<T>(enc: ArgEncoder<T>, item: T): (string | number)[] {
  const args: (string | number)[] = [];
  enc.write(item, {
    str: (v) => void args.push(v),
    strOf: (a, b, c, d) => void args.push(a + b + c + d),
    uint: (v) => void args.push(v),
  });
  return args;
}

export interface LeanScript {
  readonly sha: string;
  readonly lua: string;
  readonly numberOfKeys: number;
  /** `EVALSHA <sha> <numkeys>` as RESP, encoded once */
  readonly shaHead: Buffer;
  /** `EVAL <lua> <numkeys>` as RESP, encoded once: only a NOSCRIPT answer sends it */
  readonly evalHead: Buffer;
}

export function leanScript(name: string, numberOfKeys: number): LeanScript {
  const lua = loadLua(`${name}.lua`);
  const sha = createHash('sha1').update(lua).digest('hex');
  return { sha, lua, numberOfKeys, shaHead: RespBatch.words('EVALSHA', sha, String(numberOfKeys)), evalHead: RespBatch.words('EVAL', lua, String(numberOfKeys)) };
}

/** The scripts this link runs: the 1:1 path's per-message ones, and the connect's. */
export const hotScripts = {
  send: leanScript('send', 5),
  'cursors-advance': leanScript('cursors-advance', 1),
  // conversation states read without a log read ordered before them (redis-log.ts states:
  // a connect's, an attach's, an ack clamp's, a resync's); those after one stay on the command link
  'conv-state': leanScript('conv-state', 3),
  // a connect's registration (redis-presence.ts openConn)
  'conn-open': leanScript('conn-open', 2),
} as const;
export type HotScript = keyof typeof hotScripts;

/** A plain command's name, encoded once (`command`). */
export interface LeanCommand {
  readonly name: string;
  readonly head: Buffer;
}

const leanCommand = (name: string): LeanCommand => ({ name, head: RespBatch.words(name) });

/**
 * The plain commands a connect sends besides its scripts (issue 10, the connect storm: on
 * ioredis these four commands cost about 70 µs of the node's CPU a connect, with their
 * garbage): its entry in the node's registry (HSET), then the sync's HKEYS and HGETALL.
 */
export const leanCommands = {
  hset: leanCommand('HSET'),
  hkeys: leanCommand('HKEYS'),
  hgetall: leanCommand('HGETALL'),
} as const;

export class ScriptLink {
  private sock: net.Socket | null = null;
  private parser: RedisParser | null = null;
  private ready = false;
  private closed = false;
  private q: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private retries = 0;
  /** a deadline passed and is looked at again after the next poll phase (onTimer): no timer meanwhile */
  private checking = false;
  /** what this turn's calls wrote; the bytes of a full slab go to the socket at once */
  private readonly out = new RespBatch((b) => this.sock?.write(b));
  private flushDue = false;
  private readonly flushTurn = () => {
    this.flushDue = false;
    this.flush();
  };
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

  start(): void {
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.drop(new Error('Connection is closed.'));
  }

  /** One EVALSHA of `s`; only while isReady. */
  call(s: LeanScript, args: readonly (string | number)[]): Promise<unknown> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    const rest = this.out.command(3, s.shaHead, args);
    return this.expect({ s, n: args.length + 3, rest });
  }

  /**
   * One plain command (`leanCommands`), answered as redis-parser reads it: strings, numbers,
   * arrays (HGETALL's flat). Only while isReady; never sent again.
   */
  command(c: LeanCommand, args: readonly (string | number)[]): Promise<unknown> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    this.out.command(1, c.head, args);
    return this.expect(null);
  }

  /** One EVALSHA of `s` with `enc`'s arguments for `item`, written straight into the batch; only while isReady. */
  callWith<T>(s: LeanScript, item: T, enc: ArgEncoder<T>): Promise<unknown> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    return this.expect(this.encode(s, item, enc));
  }

  /**
   * One EVALSHA of `s` per item, its arguments written by `enc` straight into the batch (no
   * array or string built per call), answered together: true for each call Redis answered
   * without an error, false for the others (an error reply, the link dropped); never rejects
   * once started. Only while isReady.
   */
  callEach<T>(s: LeanScript, items: readonly T[], enc: ArgEncoder<T>): Promise<boolean[]> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    if (!items.length) return Promise.resolve([]);
    return new Promise((done) => {
      const answer = new EachAnswer(items.length, done);
      for (let i = 0; i < items.length; i++) {
        const retry = this.encode(s, items[i]!, enc);
        this.enqueue({ resolve: null, reject: null, batch: answer, index: i, deadline: Date.now() + this.timeoutMs, retry });
      }
    });
  }

  /** Encodes an EVALSHA of `s` with `enc`'s arguments for `item`; returns what an EVAL retry sends. */
  private encode<T>(s: LeanScript, item: T, enc: ArgEncoder<T>): NonNullable<Pending['retry']> {
    const n = enc.count(item);
    const start = this.out.begin(3, s.shaHead, n, enc.room(item));
    enc.write(item, this.out);
    return { s, n: n + 3, rest: this.out.since(start) };
  }

  /** A command of fixed words (the handshake's). */
  private send(words: string[]): Promise<unknown> {
    if (!this.writable()) return Promise.reject(new Error('Connection is closed.'));
    this.out.command(words.length, RespBatch.words(...words), []);
    return this.expect(null);
  }

  private writable(): boolean {
    return this.sock !== null && !this.sock.destroyed;
  }

  /** The reply to the command just encoded. */
  private expect(retry: Pending['retry']): Promise<unknown> {
    return new Promise((resolve, reject) => this.enqueue({ resolve, reject, batch: null, index: 0, deadline: Date.now() + this.timeoutMs, retry }));
  }

  /** Waits for the reply to the command just encoded; its bytes leave at the turn's end, or now past HOLD_MAX_BYTES. */
  private enqueue(p: Pending): void {
    this.q.push(p);
    if (this.out.pending >= HOLD_MAX_BYTES) this.flush();
    else if (!this.flushDue) {
      this.flushDue = true;
      setImmediate(this.flushTurn);
    }
    if (!this.timer && !this.checking) this.arm();
  }

  /** Writes what was encoded and not written yet. */
  private flush(): void {
    const bytes = this.out.take();
    if (bytes !== null && this.writable()) this.sock!.write(bytes);
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
    const handshake = [this.send(['CLIENT', 'SETNAME', this.name]), ...this.scripts.map((s) => this.send(['SCRIPT', 'LOAD', s.lua]))];
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
    if (err !== null && p.retry !== null && err.message.startsWith('NOSCRIPT') && this.writable()) {
      const r = p.retry;
      this.out.again(r.n, r.s.evalHead, r.rest);
      this.enqueue({ resolve: p.resolve, reject: p.reject, batch: p.batch, index: p.index, deadline: Date.now() + this.timeoutMs, retry: null });
      return;
    }
    settle(p, v, err);
  }

  /** One timer for the oldest call: calls leave in order, so their deadlines are in order too. */
  private arm(): void {
    const p = this.q[this.head];
    if (!p) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, p.deadline - Date.now()));
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
    if (p.deadline > Date.now()) return this.arm();
    this.checking = true;
    setImmediate(() => {
      this.checking = false;
      if (this.q[this.head] === p && p.deadline <= Date.now()) return this.drop(new Error('Command timed out'));
      this.arm();
    });
  }

  /** Rejects every call in flight and closes the socket ('close' reconnects). */
  private drop(err: Error): void {
    this.ready = false;
    // encoded for the socket being dropped: the calls are rejected below
    this.out.discard();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const q = this.q;
    const head = this.head;
    this.q = [];
    this.head = 0;
    for (let i = head; i < q.length; i++) settle(q[i]!, undefined, err);
    const sock = this.sock;
    if (sock && !sock.destroyed) {
      if (this.closed) this.sock = null;
      sock.destroy();
    }
  }
}

/** Answers one call: its promise, or its entry in a batch. */
function settle(p: Pending, v: unknown, err: Error | null): void {
  if (p.batch !== null) p.batch.settle(p.index, err === null);
  else if (err === null) p.resolve!(v);
  else p.reject!(err);
}
