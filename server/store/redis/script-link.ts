import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { loadLua } from './lua-source.ts';
import { RespBatch } from './resp-batch.ts';
import { EachAnswer, RespLink, type Pending } from './resp-link.ts';
import { monoNow } from '../../util/clock.ts';

/**
 * A lean second Redis link for the 1:1 hot scripts (`send`, `cursors-advance`): EVALSHA
 * written as RESP by hand on a RespLink (resp-link.ts: its connection, timeouts and
 * reconnects). ioredis spends about 8 µs of CPU a command on its Command objects,
 * per-command timers and promise chains (issue 10); here a call is encoded straight into
 * bytes (resp-batch.ts) and is one queue entry, and the calls of one event-loop turn leave
 * in one write at its end (or as soon as HOLD_MAX_BYTES are waiting, as turn-cork.ts holds).
 *
 * It never holds a guarantee alone: while it is not ready the caller uses the ioredis link
 * (which owns the node's link state). Scripts are loaded (SCRIPT LOAD) as part of each
 * connection's handshake, and a NOSCRIPT answer (SCRIPT FLUSH) is retried once as EVAL.
 */
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

export class ScriptLink extends RespLink {
  private readonly scripts: readonly LeanScript[];

  constructor(url: string, timeoutMs: number, scripts: readonly LeanScript[], name: string) {
    super(url, timeoutMs, name, false);
    this.scripts = scripts;
  }

  /**
   * A URL this link is not used for (TLS, AUTH, a database other than 0: it sends no SELECT)
   * leaves it off: the callers use ioredis. The connection speaks TLS and AUTH (the bus
   * subscription uses them); this link has not been measured or tested with them.
   */
  static supports(url: string): boolean {
    const u = new URL(url);
    return u.protocol === 'redis:' && !u.username && !u.password && (u.pathname === '' || u.pathname === '/' || u.pathname === '/0');
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
        this.enqueue({ resolve: null, reject: null, batch: answer, index: i, deadline: monoNow() + this.timeoutMs, retry });
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

  /** Each connection loads the scripts: a restarted Redis has none (no NOSCRIPT round trip). */
  protected override handshake(): Promise<unknown>[] {
    return this.scripts.map((s) => this.send(['SCRIPT', 'LOAD', s.lua]));
  }

  /** NOSCRIPT (SCRIPT FLUSH, or a Redis that lost its scripts): the call again as EVAL, once. */
  protected override again(p: Pending, err: Error): boolean {
    if (!err.message.startsWith('NOSCRIPT') || !this.writable()) return false;
    const r = p.retry!;
    this.out.again(r.n, r.s.evalHead, r.rest);
    this.enqueue({ resolve: p.resolve, reject: p.reject, batch: p.batch, index: p.index, deadline: monoNow() + this.timeoutMs, retry: null });
    return true;
  }
}
