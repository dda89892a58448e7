import { Buffer } from 'node:buffer';

/** A slab's size: a turn's calls at 10,000 msg/s (about 700 bytes a `send`) fit in one or two. */
export const SLAB_BYTES = 64 * 1024;

/** Bytes already encoded, kept for a command to be written again (ScriptLink's EVAL retry). */
export interface EncodedBytes {
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
}

const CR = 13;
const LF = 10;
const DOLLAR = 36;
const STAR = 42;

/** most bytes any number takes as a bulk string: String(v) is at most 24 characters */
export const NUMBER_ROOM = 40;
/** most bytes a non-negative safe integer takes as a bulk string */
export const UINT_ROOM = 24;

/**
 * Strings up to this length are copied by a JS loop while they are ASCII (ids, keys, numbers
 * as text: nearly every argument of the hot scripts). A call into the runtime's UTF-8
 * encoder (and Buffer.byteLength before it) costs more than the loop for strings this short:
 * the `send` encoding took 9 % of the node's CPU at 10,000 msg/s, 36 such calls a send
 * (issue 10). Longer strings, and any that is not ASCII, go to the encoder.
 */
const ASCII_LOOP_MAX = 64;

/** Most bytes `s` takes as a bulk string: a UTF-16 unit is at most 3 UTF-8 bytes. */
export function strRoom(s: string): number {
  return 3 * s.length + 16;
}

/** Most bytes `strOf(a, b, c, d)` takes. */
export function strOfRoom(a: string, b: string, c: string, d: string): number {
  return 3 * (a.length + b.length + c.length + d.length) + 16;
}

function digitsOf(v: number): number {
  let d = 1;
  while (v >= 10) {
    v = Math.floor(v / 10);
    d++;
  }
  return d;
}

/**
 * Redis commands encoded as RESP straight into a slab of bytes, all a turn's commands in one
 * run of it, handed to the socket as one Buffer. Written by hand because the Redis clients
 * here (ioredis; redis-parser only reads) build a string or Buffer per argument and one per
 * command, which is what this replaces: building each command as a string cost the 1:1
 * path about 3.7 KB of V8 heap a `send` (17 % of the node's allocation at 5,000 msg/s, a
 * sampling heap profile; issue 10) in cons strings, each kept alive —
 * through scavenges — until its turn's bytes were written. Here a call allocates nothing on
 * the V8 heap but what the caller keeps; the slab is off-heap and shared by every call
 * until it is full.
 *
 * A slab is never written over: a new one replaces it when full, and the old one lives as
 * long as a view of it does (a write in flight, a retry kept). `take` returns the bytes
 * encoded since the last take, in order.
 */
export class RespBatch {
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private end = 0;
  private from = 0;
  /** called with the bytes encoded so far when the slab must be replaced (they go first) */
  private readonly spill: (bytes: Buffer) => void;

  constructor(spill: (bytes: Buffer) => void) {
    this.spill = spill;
  }

  /** bytes encoded and not taken yet */
  get pending(): number {
    return this.end - this.from;
  }

  /** The bytes encoded since the last take (null: none); a view on the slab, never overwritten. */
  take(): Buffer | null {
    if (this.end === this.from) return null;
    const b = this.slab.subarray(this.from, this.end);
    this.from = this.end;
    return b;
  }

  /** Forgets what was not taken (its socket is gone). */
  discard(): void {
    this.from = this.end;
  }

  /**
   * Pre-encodes `words` as RESP bulk strings: the fixed start of a command (`EVALSHA <sha>
   * <numkeys>`), copied into each call instead of encoded again.
   */
  static words(...words: string[]): Buffer {
    return Buffer.from(words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join(''), 'utf8');
  }

  /**
   * `*<n>\r\n` + `head` (`words` RESP bulk strings, from `RespBatch.words`) + `args`, each a
   * bulk string; returns where the bytes after `head` are, for a retry that sends them again
   * behind another head. Numbers that are non-negative safe integers are written as their
   * digits, others as String(v).
   */
  command(words: number, head: Buffer, args: readonly (string | number)[]): EncodedBytes {
    let room = 0;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      room += typeof a === 'string' ? strRoom(a) : NUMBER_ROOM;
    }
    const start = this.begin(words, head, args.length, room);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (typeof a === 'number' && Number.isSafeInteger(a) && a >= 0) this.uint(a);
      else this.str(typeof a === 'string' ? a : String(a));
    }
    return this.since(start);
  }

  /**
   * Starts a command written piece by piece: `*<words + args>\r\n` + `head`, then exactly
   * `args` arguments with `str`, `strOf` and `uint`, which must take at most `room` bytes
   * (strRoom, strOfRoom, UINT_ROOM of each): the whole command then lies in one slab.
   * Returns where its arguments start (`since` makes the retry view).
   */
  begin(words: number, head: Buffer, args: number, room: number): number {
    this.reserve(16 + head.length + room);
    const p = this.line(this.end, STAR, words + args);
    this.end = p + head.copy(this.slab, p);
    return this.end;
  }

  /** A bulk string. */
  str(s: string): void {
    if (s.length <= ASCII_LOOP_MAX) {
      const p = this.line(this.end, DOLLAR, s.length);
      const q = this.ascii(s, p);
      if (q >= 0) {
        this.end = this.crlf(q);
        return;
      }
    }
    const n = Buffer.byteLength(s);
    let p = this.line(this.end, DOLLAR, n);
    if (n > 0) p += this.slab.write(s, p, n, 'utf8');
    this.end = this.crlf(p);
  }

  /** One bulk string of `a` to `d` joined, without building the string (a key from its parts). */
  strOf(a: string, b: string, c: string, d: string): void {
    const n = a.length + b.length + c.length + d.length;
    if (n <= ASCII_LOOP_MAX) {
      let q = this.line(this.end, DOLLAR, n);
      if ((q = this.ascii(a, q)) >= 0 && (q = this.ascii(b, q)) >= 0 && (q = this.ascii(c, q)) >= 0 && (q = this.ascii(d, q)) >= 0) {
        this.end = this.crlf(q);
        return;
      }
    }
    const buf = this.slab;
    let p = this.line(this.end, DOLLAR, Buffer.byteLength(a) + Buffer.byteLength(b) + Buffer.byteLength(c) + Buffer.byteLength(d));
    p += buf.write(a, p, 'utf8');
    p += buf.write(b, p, 'utf8');
    p += buf.write(c, p, 'utf8');
    p += buf.write(d, p, 'utf8');
    this.end = this.crlf(p);
  }

  /** A non-negative safe integer as a bulk string of its digits. */
  uint(v: number): void {
    const p = this.line(this.end, DOLLAR, digitsOf(v));
    this.end = this.crlf(this.digits(p, v));
  }

  /** The bytes from `start` (a `begin`'s answer) to what was written last, for a retry. */
  since(start: number): EncodedBytes {
    return { slab: this.slab, start, end: this.end };
  }

  /** `*<n>\r\n` + `head` + bytes encoded before: a command sent again behind another head. */
  again(n: number, head: Buffer, rest: EncodedBytes): void {
    this.reserve(16 + head.length + rest.end - rest.start);
    const buf = this.slab;
    let p = this.line(this.end, STAR, n);
    p += head.copy(buf, p);
    p += rest.slab.copy(buf, p, rest.start, rest.end);
    this.end = p;
  }

  /** Room for `need` more bytes: a full slab is spilled, then replaced. */
  private reserve(need: number): void {
    if (this.end + need <= this.slab.length) return;
    const before = this.take();
    if (before !== null) this.spill(before);
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need));
    this.end = this.from = 0;
  }

  /** `<kind><v>\r\n`: a RESP array or bulk header */
  private line(p: number, kind: number, v: number): number {
    const buf = this.slab;
    buf[p++] = kind;
    return this.crlf(this.digits(p, v));
  }

  /**
   * Copies `s` byte for byte from `p` while it is ASCII; the position after it, or -1 at its
   * first other character (the caller then writes the whole string as UTF-8 over what this
   * wrote: nothing after `p` was taken yet).
   */
  private ascii(s: string, p: number): number {
    const buf = this.slab;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return -1;
      buf[p++] = c;
    }
    return p;
  }

  private crlf(p: number): number {
    const buf = this.slab;
    buf[p++] = CR;
    buf[p++] = LF;
    return p;
  }

  /** `v`'s decimal digits */
  private digits(p: number, v: number): number {
    const buf = this.slab;
    const d = digitsOf(v);
    let q = p + d;
    do {
      buf[--q] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    return p + d;
  }
}
