// Post-incident capture (CAPTURE_DIR): what this node saw, as NDJSON records of the shape
// in schema.ts, for `imstorm replay` to rebuild and drive again. Off by default; when off
// the only cost on the hot paths is one boolean test (`conn.captured`, or `capturing`).
//
// Writes never block the event loop: records are encoded straight into memory chunks
// (no string per line kept for a join: that garbage was a fifth of the cost) and written by
// one asynchronous write at a time, every FLUSH_MS or once QUEUE_FLUSH_BYTES wait. A disk
// that cannot keep up drops records past MAX_QUEUED_BYTES (and says how many); a write
// error (a full disk, a directory gone) is logged once and the capture stops for good,
// while the node goes on serving.
import { createHash } from 'node:crypto';
import { close, mkdirSync, open, readdirSync, statSync, unlink, writev, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ClientFrame } from '../protocol/frames.ts';
import { CAPTURE_FILE_RE, CAPTURE_VERSION, userSampled, type CaptureRecord, type OutboundRecord } from './schema.ts';
import { monoNow } from '../util/clock.ts';

/** What a capture needs of a connection (the gateway's Conn). */
export interface CapturedConn {
  readonly id: string;
  /** when its socket opened, on the monotonic clock (util/clock.ts) */
  readonly openedAt: number;
  readonly user: string;
  readonly device: string;
  captured: boolean;
  /** its socket takes frames now: a frame sent otherwise is dropped (Conn.send), so it is not recorded either */
  readonly isOpen: boolean;
}

const FLUSH_MS = 200;
const QUEUE_FLUSH_BYTES = 256 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** records queued past this many bytes (a disk that does not keep up) are dropped and counted */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** a node's capture is kept in this many files at most; the oldest is deleted to stay within CAPTURE_MAX_BYTES */
const FILES_KEPT = 4;

export interface CaptureOptions {
  dir: string;
  node: string;
  incarnation: string;
  /** CAPTURE_SAMPLE: the fraction of users recorded */
  sample: number;
  /** CAPTURE_MAX_BYTES: the most this node's capture keeps on disk (rotated over FILES_KEPT files) */
  maxBytes: number;
  /** CAPTURE_BODIES: bodies as sent, instead of their size and hash */
  bodies: boolean;
  log: Pick<Logger, 'error' | 'warn' | 'info'>;
}

/** The node's capture while one runs (set by startCapture), read by the hot paths behind `conn.captured`. */
export let capturing: Capture | null = null;

/** Starts this process's capture; throws (naming CAPTURE_DIR) when the directory cannot be made. */
export function startCapture(o: CaptureOptions): Capture {
  capturing = new Capture(o);
  return capturing;
}

export class Capture {
  private readonly o: CaptureOptions;
  private readonly wallBase = Date.now();
  private readonly monoBase = monoNow();
  private readonly stamp: string;
  /** chunks filled and waiting for the disk, then the one being filled (`pos` bytes of it) */
  private full: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private fullBytes = 0;
  /** records in the filled chunks (one count per chunk of `full`) and in the one being filled */
  private fullRecords: number[] = [];
  private pending = 0;
  /** the next file's header, written before anything queued for it */
  private header: Buffer | null = null;
  private writing = false;
  private fd: number | null = null;
  private fileIndex = 0;
  private fileBytes = 0;
  private readonly fileLimit: number;
  /** files this capture wrote, oldest first, with their sizes */
  private readonly files: { path: string; bytes: number }[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  /** false once stopped (stop(), or a write error): records are ignored from then on */
  on = true;
  /** why the capture stopped by itself, if it did */
  failure: string | null = null;
  /** connections the server closed (their close is recorded then); the peer's close event is not recorded again */
  private readonly serverClosed = new Set<string>();
  /** records written, for tests and the stop log line */
  records = 0;

  constructor(o: CaptureOptions) {
    this.o = o;
    this.stamp = this.wallBase.toString(36);
    try {
      mkdirSync(o.dir, { recursive: true });
    } catch (err) {
      throw new Error(`CAPTURE_DIR / --capture-dir: cannot create "${o.dir}" (${(err as NodeJS.ErrnoException).code ?? String(err)}); point it at a writable directory`);
    }
    this.fileLimit = Math.max(64 * 1024, Math.floor(o.maxBytes / FILES_KEPT));
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
    // a node that exits by itself (a fatal error) still leaves what it had queued
    process.once('exit', () => this.flushSync());
    this.newFileHeader();
  }

  get sample(): number {
    return this.o.sample;
  }

  /** Is this user recorded? (a hash of the id, so every device of a user alike) */
  wants(user: string): boolean {
    return this.on && userSampled(user, this.o.sample);
  }

  // ---- records ------------------------------------------------------------------

  private lastW = 0;
  private stampText = '';
  /**
   * `"m":…,"w":…` of now. Formatting a float is most of a record's cost, so records within
   * the same wall-clock millisecond share the first one's stamp (both clocks then read to
   * that millisecond; order within it is the order of the lines) — unless `precise`: a send
   * and its answer, whose difference is the server's send→sent latency (about a millisecond:
   * a shared stamp was off by up to one, so that latency's p50 moved ±30 % between captures
   * of the same load). Stamps read to the microsecond: at 0.1 ms, one step of that p50
   * (1.3 ms on a quiet machine) was 7 %, most of the 10 % a replay is judged by.
   */
  private now(precise = false): string {
    const w = Date.now();
    if (w !== this.lastW || precise) {
      this.lastW = w;
      this.stampText = `"m":${(monoNow() - this.monoBase).toFixed(3)},"w":${w}`;
    }
    return this.stampText;
  }

  private add(line: string): void {
    if (!this.on) return;
    const queued = this.fullBytes + this.pos;
    if (queued > MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    try {
      // at most 3 bytes of UTF-8 per UTF-16 unit, and the newline
      if (this.pos + 3 * line.length + 1 > CHUNK_BYTES) this.nextChunk(3 * line.length + 1);
      this.pos += this.chunk.write(line, this.pos);
      this.chunk[this.pos++] = 10;
      this.pending++;
      if (queued >= QUEUE_FLUSH_BYTES) this.flush();
    } catch (err) {
      this.broken(err);
    }
  }

  /**
   * The hooks run inside the delivery path (a channel's deliver loop, a connection's close):
   * whatever goes wrong in the capture stops the capture, never the delivery.
   */
  private broken(err: unknown): void {
    this.fail(Object.assign(new Error(`recording failed: ${err instanceof Error ? err.message : String(err)}`), { code: 'ERECORD' }));
  }

  private nextChunk(need: number): void {
    if (this.pos > 0) {
      this.full.push(this.chunk.subarray(0, this.pos));
      this.fullRecords.push(this.pending);
      this.fullBytes += this.pos;
      this.pending = 0;
    }
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
    this.pos = 0;
  }

  private get queuedBytes(): number {
    return this.fullBytes + this.pos;
  }

  /** nothing queued and no write in flight */
  get idle(): boolean {
    return this.queuedBytes === 0 && this.header === null && !this.writing;
  }

  /** A record from an object without `m`/`w` (these are added). */
  private rec(fields: Record<string, unknown>, precise = false): void {
    if (!this.on) return;
    let json: string;
    try {
      json = JSON.stringify(fields);
    } catch (err) {
      return this.broken(err);
    }
    this.add(`{${this.now(precise)},${json.slice(1)}`);
  }

  private stopRecorded = false;

  node(event: 'start' | 'stop', signal?: string): void {
    if (event === 'stop') this.stopRecorded = true;
    this.rec({ k: 'node', event, node: this.o.node, incarnation: this.o.incarnation, pid: process.pid, ...(signal ? { signal } : {}) });
  }

  /** hello accepted for a sampled user: its `open` (timed when the socket opened) and `hello` */
  hello(conn: CapturedConn, replaced: readonly string[]): void {
    // the socket opened before the hello was read, at `openedAt` on the monotonic clock
    // (util/clock.ts, the clock of monoBase); its wall time is the wall clock now less the
    // connection's age, as every other record's `w` is the wall clock when it was written
    // (read off the capture's start instead, a wall-clock step since then put it an hour off
    // the connection's other records, and replay reconnects by it)
    const now = monoNow();
    const m = Math.max(0, conn.openedAt - this.monoBase).toFixed(1);
    const w = Math.round(Date.now() - (now - conn.openedAt));
    this.add(`{"m":${m},"w":${w},"k":"open","conn":${JSON.stringify(conn.id)}}`);
    this.rec({ k: 'hello', conn: conn.id, user: conn.user, device: conn.device });
    if (replaced.length) this.rec({ k: 'replace', conn: conn.id, replaced });
  }

  /** The server closes a recorded connection. */
  serverClose(conn: CapturedConn, code: number, reason: string): void {
    if (!this.on || this.serverClosed.has(conn.id)) return;
    this.serverClosed.add(conn.id);
    this.rec({ k: 'close', conn: conn.id, code, reason, by: 'server' });
  }

  /** A recorded connection's socket closed: recorded as the peer's close unless the server closed it. */
  closed(conn: CapturedConn, code: number, reason: string): void {
    if (this.serverClosed.delete(conn.id)) return;
    this.rec({ k: 'close', conn: conn.id, code, reason: reason.slice(0, 123), by: 'client' });
  }

  inFrame(conn: CapturedConn, f: ClientFrame): void {
    if (!this.on) return;
    const r: Record<string, unknown> = { k: 'in', conn: conn.id, t: f.t };
    if (f.id !== undefined) r.id = f.id;
    switch (f.t) {
      case 'send': {
        r.conv = f.conv;
        r.cmid = f.cmid;
        r.bytes = Buffer.byteLength(f.body);
        if (this.o.bodies) r.body = f.body;
        else r.hash = createHash('sha1').update(f.body).digest('hex').slice(0, 12);
        break;
      }
      case 'ack':
        // one per delivery at worst (a device acking every message): written without JSON.stringify (conv ids need no escaping)
        return this.add(`{${this.now()},"k":"in","conn":"${conn.id}","t":"ack"${f.id === undefined ? '' : `,"id":${JSON.stringify(f.id)}`},"conv":"${f.conv}","seq":${f.seq}}`);
      case 'read':
        r.conv = f.conv;
        r.seq = f.seq;
        break;
      case 'history':
        r.conv = f.conv;
        if (f.after !== undefined) r.after = f.after;
        if (f.before !== undefined) r.before = f.before;
        if (f.limit !== undefined) r.limit = f.limit;
        break;
      case 'presence.sub':
      case 'presence.unsub':
        r.users = f.users;
        break;
      default:
        // auth (its token never), ping: the type is all
        break;
    }
    this.rec(r, f.t === 'send');
  }

  inBad(conn: CapturedConn, error: string): void {
    this.rec({ k: 'in', conn: conn.id, t: 'bad', error: error.slice(0, 200) });
  }

  /** A `msg` frame: the hot path (one per delivery), so written without JSON.stringify (conn ids and conv ids need no escaping). */
  msg(conn: CapturedConn, conv: string, seq: number, via: 'live' | 'backlog'): void {
    if (!this.on || !conn.isOpen) return;
    this.add(`{${this.now()},"k":"out","conn":"${conn.id}","t":"msg","conv":"${conv}","seq":${seq},"via":"${via}"}`);
  }

  out(conn: CapturedConn, f: Omit<OutboundRecord, 'k' | 'm' | 'w' | 'conn'>): void {
    if (!this.on || !conn.isOpen) return;
    this.rec({ k: 'out', conn: conn.id, ...f }, f.t === 'sent' || f.t === 'error');
  }

  http(r: { method: string; route: string; status: number; ms: number } & HttpNote): void {
    this.rec({ k: 'http', ...r });
  }

  /** A presence sweep that found a dead incarnation (at most once a second, only when one lapsed). */
  sweep(incarnation: string, connections: number): void {
    this.rec({ k: 'sweep', incarnation, connections });
  }

  redis(link: 'cmd' | 'bus', state: 'up' | 'down'): void {
    this.rec({ k: 'redis', link, state });
  }

  resync(reason: string): void {
    this.rec({ k: 'resync', reason });
  }

  // ---- writing ------------------------------------------------------------------

  private newFileHeader(): void {
    const head: CaptureRecord = { k: 'file', m: +(monoNow() - this.monoBase).toFixed(1), w: Date.now(), v: CAPTURE_VERSION, node: this.o.node, incarnation: this.o.incarnation, index: this.fileIndex, sample: this.o.sample, bodies: this.o.bodies, up: Math.round(this.monoBase) };
    // the header goes first in its file, ahead of whatever is queued for it
    this.header = Buffer.from(JSON.stringify(head) + '\n');
  }

  private fileName(index: number): string {
    return path.join(this.o.dir, `${this.o.node}-${this.stamp}-${String(index).padStart(4, '0')}.ndjson`);
  }

  /** Writes what is queued: one write in flight at a time, never waiting on the disk. */
  flush(): void {
    if (this.writing || (!this.queuedBytes && !this.header) || this.failure) return;
    if (this.fd === null) return this.openFile();
    if (this.dropped) {
      const n = this.dropped;
      this.dropped = 0;
      this.add(`{${this.now()},"k":"capture","event":"dropped","records":${n}}`);
    }
    this.nextChunk(0);
    // No more than the current file has room for (at least one chunk): a queue grown while
    // the disk lagged, written whole into one file, would make that file larger than
    // CAPTURE_MAX_BYTES, and the rotation after it would delete the newest records.
    const room = this.fileLimit - this.fileBytes;
    let take = 0;
    let bytes = this.header ? this.header.length : 0;
    let records = this.header ? 1 : 0;
    while (take < this.full.length && (take === 0 || bytes + this.full[take]!.length <= room)) {
      bytes += this.full[take]!.length;
      records += this.fullRecords[take]!;
      take++;
    }
    const taken = this.full.splice(0, take);
    this.fullRecords.splice(0, take);
    const bufs = this.header ? [this.header, ...taken] : taken;
    this.fullBytes -= bytes - (this.header ? this.header.length : 0);
    this.header = null;
    this.writing = true;
    writev(this.fd, bufs, (err) => {
      this.writing = false;
      if (err) return this.fail(err);
      // stopped meanwhile (a record that could not be made): the file is closed already
      if (this.failure) return;
      this.records += records;
      this.fileBytes += bytes;
      this.files.at(-1)!.bytes = this.fileBytes;
      // stop() gave up waiting for this write and closed the file
      if (this.fd === null) return;
      if (this.fileBytes >= this.fileLimit) this.rotate();
      else if (this.queuedBytes >= QUEUE_FLUSH_BYTES || this.full.length) this.flush();
    });
  }

  private openFile(): void {
    const file = this.fileName(this.fileIndex);
    this.writing = true;
    open(file, 'a', 0o640, (err, fd) => {
      this.writing = false;
      if (err) return this.fail(err);
      if (this.failure) return void close(fd, () => {});
      this.fd = fd;
      this.fileBytes = 0;
      this.files.push({ path: file, bytes: 0 });
      this.flush();
    });
  }

  /** The current file is full: close it, start the next, and delete the oldest past CAPTURE_MAX_BYTES. */
  private rotate(): void {
    const fd = this.fd!;
    this.fd = null;
    close(fd, () => {});
    this.fileIndex++;
    this.newFileHeader();
    let total = this.files.reduce((a, f) => a + f.bytes, 0) + this.fileLimit;
    // the file just closed is the newest record of all: kept even when alone past the bound
    while (this.files.length > 1 && total > this.o.maxBytes) {
      const old = this.files.shift()!;
      total -= old.bytes;
      unlink(old.path, () => {});
    }
    this.flush();
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failure) return;
    this.failure = `${err.code ?? 'error'}: ${err.message}`;
    this.on = false;
    this.full = [];
    this.fullRecords = [];
    this.fullBytes = 0;
    this.pos = 0;
    this.pending = 0;
    this.o.log.error({ err: this.failure, dir: this.o.dir }, 'capture stopped: writing the capture failed; the node goes on serving without it');
    if (this.fd !== null) close(this.fd, () => {});
    this.fd = null;
    if (this.timer) clearInterval(this.timer);
  }

  /** On exit: what is still queued, written synchronously (a fatal exit loses nothing already recorded). */
  flushSync(): void {
    if (this.fd === null || this.failure) return;
    try {
      if (this.header) writeSync(this.fd, this.header);
      for (const b of this.full) writeSync(this.fd, b);
      if (this.pos) writeSync(this.fd, this.chunk.subarray(0, this.pos));
      this.header = null;
      this.full = [];
      this.fullRecords = [];
      this.fullBytes = 0;
      this.pos = 0;
      this.pending = 0;
    } catch {
      // exiting anyway
    }
  }

  /** Records the node's stop, writes everything queued and closes the file (at most `timeoutMs`). */
  async stop(signal: string, timeoutMs = 2000): Promise<void> {
    if (!this.on) return;
    if (!this.stopRecorded) this.node('stop', signal);
    const deadline = monoNow() + timeoutMs;
    while ((this.queuedBytes || this.header || this.writing) && !this.failure && monoNow() < deadline) {
      this.flush();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.on = false;
    if (this.timer) clearInterval(this.timer);
    if (this.fd !== null) close(this.fd, () => {});
    this.fd = null;
    if (capturing === this) capturing = null;
  }
}

/** The capture files of a directory, by node and start, in order (the reader's listing). */
export function captureFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => CAPTURE_FILE_RE.test(f) && statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => path.join(dir, f));
}

/** What an HTTP route learnt that its capture record should carry (who asked; a group route's group and users). */
export interface HttpNote {
  user?: string;
  device?: string;
  group?: string;
  users?: string[];
  /** POST /v1/messages: what was sent (the body by its size only) */
  conv?: string;
  cmid?: string;
  bytes?: number;
}
const httpNotes = new WeakMap<object, HttpNote>();

/** Called by the routes while capturing: adds to the record written when `res` finishes. */
export function noteHttp(res: object, note: HttpNote): void {
  httpNotes.set(res, { ...httpNotes.get(res), ...note });
}

/**
 * `GET /v1/conversations/dm:a:b/messages` → `GET /v1/conversations/:conv/messages`: the
 * route without its ids, so records group by route.
 */
export function routeOf(method: string, url: string): string {
  const p = (url.split('?')[0] ?? '/').split('/');
  if (p[1] === 'v1') {
    if (p[2] === 'conversations' && p[3] !== undefined) p[3] = ':conv';
    if (p[2] === 'groups' && p[3] !== undefined) p[3] = ':group';
    if (p[2] === 'groups' && p[5] !== undefined) p[5] = ':user';
    if (p[2] === 'users' && p[3] !== undefined) p[3] = ':user';
    if (p[2] === 'users' && p[5] !== undefined) p[5] = ':device';
  }
  return `${method} ${p.join('/').slice(0, 200)}`;
}

/** Wraps an HTTP handler so each request is recorded, with its route and outcome, when it finishes. */
export function capturedHttp<Req extends { method?: string; url?: string }, Res extends { statusCode: number; once(ev: 'finish' | 'close', fn: () => void): unknown }>(cap: Capture, handler: (req: Req, res: Res) => void): (req: Req, res: Res) => void {
  return (req, res) => {
    if (!cap.on) return handler(req, res);
    const start = monoNow();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      const [method, route] = [req.method ?? 'GET', req.url ?? '/'];
      cap.http({ method, route: routeOf(method, route), status: res.statusCode, ms: +(monoNow() - start).toFixed(1), ...httpNotes.get(res) });
    };
    res.once('finish', record);
    res.once('close', record);
    handler(req, res);
  };
}
