import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws';
import type { Config } from '../config/config.ts';
import type { Hub } from '../delivery/hub.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Presence } from '../presence/presence.ts';
import { CloseCode, ProtocolError, type ErrorCode } from '../protocol/codes.ts';
import { clientFrame, describeZodError, fastClientFrame, helloFrame, type ClientFrame } from '../protocol/frames.ts';
import { convForUser } from '../protocol/ids.ts';
import { nestsDeeperThan } from '../protocol/json-depth.ts';
import { encode } from '../protocol/server-frames.ts';
import type { MessageSender } from '../messaging/send.ts';
import { PRESENCE_BATCH } from '../store/batched-states.ts';
import type { Stores } from '../store/stores.ts';
import { capturing } from '../capture/capture.ts';
import { AckFlusher } from './ack-flusher.ts';
import { recordAck } from './conn-acks.ts';
import { Conn, SENT } from './connection.ts';
import type { RateBuckets } from './rate.ts';
import { RequestPace, type Request } from './request-pacer.ts';
import { Semaphore } from '../util/semaphore.ts';
import { RingWalk } from '../util/ring-walk.ts';
import { holdForTurn, releaseNow, spillPast } from '../util/turn-cork.ts';
import { ThrottledWarning } from '../util/throttled-warning.ts';
import { frameText, type TextFrame } from './ws-frame.ts';
import { TokenError, type TokenVerifier } from './tokens.ts';
import { monoNow } from '../util/clock.ts';
import { SendGate, SlotWaitExpired } from './send-gate.ts';

const BAD_FRAMES_LIMIT = 10;
/** pongs a client may be owed (its pings answered but not yet written): ws 8's default maxPendingAutoPongs */
const MAX_OWED_PONGS = 60;
function destroySocket(this: Duplex): void {
  this.destroy();
}
const HANDSHAKE_CONCURRENCY = 256;
const MAX_JSON_DEPTH = 8;
/** frames a client may send after hello before its welcome; they wait for the handshake */
const MAX_EARLY_FRAMES = 64;
/** cursor flushes in flight during a drain */
const DRAIN_FLUSHES = 32;
/** a ping's successor comes 0..¼ HEARTBEAT_MS early, in this many steps taken by turns (see sweep) */
const PING_SPREAD_STEPS = 16;
/** the sweep walks its round in ticks this long, a slice of the connections per tick */
const SWEEP_TICK_MS = 50;

/** What a node does with its sockets' events. */
interface SocketEvents {
  message(conn: Conn, data: RawData, isBinary: boolean): void;
  pong(conn: Conn): void;
  ping(conn: Conn, ws: ServerSocket, data: Buffer): void;
  close(conn: Conn, code: number, reason: Buffer): void;
}

/**
 * The node's WebSockets (ws's `WebSocket` option: a subclass of its own). Their events
 * are dispatched by `emit` itself instead of through listeners: an EventEmitter's listener
 * table is a dictionary-mode object (~180 bytes empty, ~280 with the five listeners a
 * connection needs), the largest single object of an idle connection after ws's socket
 * and receiver. `_events` is left undefined (Node's EventEmitter allows it: it creates the
 * table on a first `on`), so nothing is allocated for it; the connection is a field
 * instead of a WeakMap entry. Events before `conn` is set ('open' during the upgrade) and
 * errors (a 'close' always follows) are dropped.
 */
abstract class ServerSocket extends WebSocket {
  conn: Conn | null = null;

  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    (this as unknown as { _events: undefined })._events = undefined;
  }

  protected abstract events(): SocketEvents;

  /**
   * Frames written in one event-loop turn leave in one syscall (turn-cork.ts), at most
   * HOLD_MAX_BYTES held at a time, so `bufferedAmount` after a send is what the client has
   * not taken (plus less than that bound), as the slow-consumer checks read it. A text
   * frame is framed here, in one buffer and one write (ws-frame.ts), when `ws`'s own
   * sender holds nothing queued (it queues only while compressing or reading a Blob,
   * neither of which this server does): the bytes are the ones `ws` would write.
   */
  override send(data: Parameters<WebSocket['send']>[0], options?: unknown, cb?: unknown): void {
    const socket = (this as unknown as { _socket: Duplex | null })._socket;
    holdForTurn(socket);
    if (typeof data === 'string' && this.writesDirectly(socket)) socket!.write(frameText(data), cb as ((err?: Error | null) => void) | undefined);
    else (super.send as (d: unknown, o?: unknown, c?: unknown) => void)(data, options, cb);
    spillPast(socket);
  }

  /** Writes a text message framed once for every recipient (hub's live `msg`); see `send`. */
  sendFramed(f: TextFrame, cb?: (err?: Error | null) => void): void {
    const socket = (this as unknown as { _socket: Duplex | null })._socket;
    if (!this.writesDirectly(socket)) return this.send(f.payload, { binary: false }, cb);
    holdForTurn(socket);
    socket!.write(f.frame, cb);
    spillPast(socket);
  }

  /** Open, and nothing of ws's sender waiting: a write of ours keeps the frames' order. */
  private writesDirectly(socket: Duplex | null): boolean {
    if (this.readyState !== 1 || socket === null) return false;
    const sender = (this as unknown as { _sender: { _state: number; _queue: unknown[] } })._sender;
    return sender._state === 0 && sender._queue.length === 0;
  }

  /** What this turn's sends hold is written first, as it would have been without the hold. */
  override terminate(): void {
    releaseNow((this as unknown as { _socket: Duplex | null })._socket);
    super.terminate();
  }

  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const conn = this.conn;
    if (conn === null) return true;
    const on = this.events();
    switch (event) {
      case 'message':
        on.message(conn, a as RawData, b as boolean);
        break;
      case 'pong':
        on.pong(conn);
        break;
      case 'ping':
        on.ping(conn, this, a as Buffer);
        break;
      case 'close':
        on.close(conn, a as number, b as Buffer);
        break;
    }
    return true;
  }
}

export interface GatewayDeps {
  config: Config;
  log: Logger;
  store: Pick<Stores, 'log' | 'cursors'>;
  sender: MessageSender;
  hub: Hub;
  presence: Presence;
  tokens: TokenVerifier;
  buckets: RateBuckets;
  metrics: Metrics;
  nodeId: string;
  maxConnections: number;
  /** the node's bulk reads (history pages, presence states), shared with the HTTP routes */
  bulkReads: Semaphore;
}

/**
 * The WebSocket edge: upgrade, hello and auth, frame validation, request dispatch,
 * heartbeats, limits and close codes. One shared sweep timer serves every connection.
 */
export class Gateway {
  readonly wss: WebSocketServer;
  private readonly d: GatewayDeps;
  private readonly handshakes = new Semaphore(HANDSHAKE_CONCURRENCY);
  private readonly all = new Set<Conn>();
  /** writes coalesced acks, spread over each second */
  private readonly acks: AckFlusher;
  private readonly bootId = randomBytes(4).toString('hex');
  private seq = 0;
  /** connections admitted since start (imstorm_connections_opened_total; the leak check divides heap growth by it) */
  connectionsOpened = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** the sweep's tick, and when it last ran: a tick far later than due means this node was frozen */
  private sweepTickMs = SWEEP_TICK_MS;
  private lastSweepAt = monoNow();
  private sweepWalk: RingWalk<Conn> = new RingWalk(this.all, 1);
  /** unsent bytes of the connections the sweep's round has looked at so far */
  private roundUnsent = 0;
  /**
   * Heartbeat and hello deadlines count from no earlier than this: the end of the node's last
   * freeze (SIGSTOP, a VM pause, a long GC). After a freeze the first sweep runs before the
   * sockets are read, so every connection looks silent; cutting them all 4408 would turn a
   * pause into a reconnect storm.
   */
  private livenessFrom = 0;
  private pings = 0;
  private accepting = true;
  /** the node's sends waiting for the store, at most MAX_SENDS_IN_FLIGHT (send-gate.ts) */
  readonly sends: SendGate<Conn>;
  private readonly resumeHeld = (conn: Conn): void => {
    const pace = conn.pace;
    if (!pace) return;
    if (!conn.isOpen) {
      // closing (a drain's 1001, a cut): what it sent meanwhile is not started; unanswered, a send is retried with its cmid
      pace.waiting = null;
      return;
    }
    // the node did not read it while it waited: that time is not the client's silence
    conn.lastSeen = monoNow();
    this.pump(conn, pace);
  };

  constructor(deps: GatewayDeps) {
    this.d = deps;
    // autoPong off: ws's own answer keeps a closure and its context per socket (~96 bytes of
    // every idle connection); socketEvents.ping answers instead, with the same cap
    const gw = this;
    // the node's sockets: one class for all of them, whose events go straight to this gateway
    const NodeSocket = class extends ServerSocket {
      protected override events(): SocketEvents {
        return gw.socketEvents;
      }
    };
    const options: ServerOptions = { noServer: true, maxPayload: deps.config.MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false, autoPong: false, WebSocket: NodeSocket as unknown as typeof WebSocket };
    this.wss = new WebSocketServer(options);
    this.acks = new AckFlusher(deps.store.cursors, this.all);
    this.sends = new SendGate<Conn>(deps.config.MAX_SENDS_IN_FLIGHT, (conn, err) => {
      deps.log.error({ err, conn: conn.id }, 'resuming a connection held for a send slot failed; closing it');
      this.close(conn, CloseCode.tryAgainLater, 'internal error');
    });
  }

  /**
   * Runs an HTTP send (`POST /v1/messages`, after MessageSender.admit) in one of the node's
   * MAX_SENDS_IN_FLIGHT slots, waiting behind held connections for at most STORE_TIMEOUT_MS
   * (past that, 503 `unavailable`) or until `signal` says its client left (nothing started).
   */
  async withSendSlot<T>(signal: AbortSignal, send: () => Promise<T>): Promise<T> {
    try {
      await this.sends.acquire(this.d.config.STORE_TIMEOUT_MS, signal);
    } catch (err) {
      if (err instanceof SlotWaitExpired) throw new ProtocolError('unavailable', `${err.message}; retry later`);
      throw err;
    }
    try {
      return await send();
    } finally {
      this.sends.end(this.resumeHeld);
    }
  }

  get connectionCount(): number {
    return this.all.size;
  }

  connections(): Iterable<Conn> {
    return this.all;
  }

  unsentBytes(): number {
    let n = 0;
    for (const c of this.all) n += c.ws.bufferedAmount;
    return n;
  }

  start(): void {
    const c = this.d.config;
    // each connection is looked at once a round; a round is at most a second, a quarter of
    // the heartbeat and hello windows, walked in ticks of at most SWEEP_TICK_MS
    const round = Math.max(20, Math.min(1000, Math.floor(c.HEARTBEAT_MS / 4), Math.floor(c.HELLO_TIMEOUT_MS / 4)));
    this.sweepTickMs = Math.min(SWEEP_TICK_MS, round);
    this.sweepWalk = new RingWalk(this.all, round / this.sweepTickMs);
    this.lastSweepAt = monoNow();
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepTickMs);
    this.sweepTimer.unref();
    this.acks.start();
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.acks.stop();
  }

  /** `overLimit`: admission counted this socket over a connection limit; it is closed 1013 once upgraded. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, overLimit = false): void {
    // Node's HTTP server drops its own listeners from an upgrade socket: without one, a peer
    // that resets the socket while we answer would throw ECONNRESET out of the process.
    socket.on('error', destroySocket);
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"code":"not_found","message":"WebSocket path is /ws"}');
      return;
    }
    if (!this.accepting) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    // ws puts its own 'error' listener on the socket first thing, then the WebSocket's
    socket.off('error', destroySocket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws as ServerSocket, overLimit));
  }

  private onConnection(ws: ServerSocket, overLimit: boolean): void {
    if (overLimit || this.all.size >= this.d.maxConnections) {
      this.d.metrics.closes.inc({ code: String(CloseCode.tryAgainLater) });
      ws.close(CloseCode.tryAgainLater, 'connection limit reached');
      setTimeout(() => ws.terminate(), 1000).unref();
      return;
    }
    const conn = new Conn(`${this.d.nodeId}.${this.bootId}.${(this.seq++).toString(36)}`, ws, monoNow());
    this.connectionsOpened++;
    this.all.add(conn);
    // from here on its events reach the handlers below (before: none but 'open', ignored)
    ws.conn = conn;
  }

  /** What every socket of this node does with its events (see ServerSocket). */
  private readonly socketEvents: SocketEvents = {
    message: (conn, data, isBinary) => this.onFrame(conn, data, isBinary),
    pong: (conn) => {
      conn.lastSeen = monoNow();
    },
    // ws's autoPong, with its maxPendingAutoPongs: a client that floods pings and does not
    // read its pongs is cut once MAX_OWED_PONGS are owed, instead of the node buffering them
    ping: (conn, ws, data) => {
      if (ws.readyState !== 1) return;
      if (conn.owedPongs >= MAX_OWED_PONGS) {
        // the server's cut (no close frame: 1006), not the peer's
        if (conn.captured) capturing?.serverClose(conn, 1006, 'too many pongs owed');
        return void ws.terminate();
      }
      conn.owedPongs++;
      ws.pong(data, false, () => conn.owedPongs--);
    },
    close: (conn, code, reason) => {
      if (conn.captured) capturing?.closed(conn, code, reason.toString());
      void this.onClose(conn);
    },
  };

  private async onClose(conn: Conn): Promise<void> {
    if (conn.state === 'closed') return;
    const wasOpen = conn.state === 'open';
    conn.state = 'closed';
    this.all.delete(conn);
    this.sends.forget(conn);
    if (conn.identity && wasOpen) {
      const flushed = this.flushAcks(conn);
      this.d.hub.removeConn(conn);
      this.d.presence.dropConn(conn);
      await flushed;
    }
    await this.d.presence.close(conn);
  }

  // ---- frames --------------------------------------------------------------------

  private onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    conn.lastSeen = monoNow();
    this.d.metrics.framesIn.inc();
    if (conn.state === 'closed') return;
    const text = isBinary ? null : data.toString();
    if (conn.state === 'hello') {
      if (conn.early) {
        // the handshake is running; keep order
        if (conn.early.length >= MAX_EARLY_FRAMES) return this.close(conn, CloseCode.badFrames, `more than ${MAX_EARLY_FRAMES} frames before welcome`);
        if (text !== null) conn.early.push(text);
        return;
      }
      return void this.onHello(conn, text);
    }
    this.onText(conn, text);
  }

  private onText(conn: Conn, text: string | null): void {
    let raw: unknown;
    try {
      if (text === null) throw new ProtocolError('bad_request', 'binary frames are not accepted; send JSON text frames');
      // a frame of PROTOCOL.md nests two levels; short frames cannot cost much to parse
      if (text.length > 256 && nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new ProtocolError('bad_request', `frame nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
      try {
        raw = JSON.parse(text);
      } catch {
        throw new ProtocolError('bad_request', 'frame is not valid JSON');
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ProtocolError('bad_request', 'frame must be a JSON object');
      let frame = fastClientFrame(raw as Record<string, unknown>);
      if (frame === null) {
        const parsed = clientFrame.safeParse(raw);
        if (!parsed.success) throw new ProtocolError('bad_request', describeZodError(parsed.error));
        frame = parsed.data;
      }
      if (frame.t === 'hello') throw new ProtocolError('bad_request', 'hello was already accepted on this connection');
      conn.badFrames = 0;
      if (conn.captured) capturing?.inFrame(conn, frame);
      this.submit(conn, { frame });
    } catch (err) {
      if (conn.captured) capturing?.inBad(conn, err instanceof Error ? err.message : String(err));
      const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' && (raw as { id: string }).id.length <= 64 ? (raw as { id: string }).id : undefined;
      this.submit(conn, { bad: { id, err } });
      if (++conn.badFrames >= BAD_FRAMES_LIMIT) this.close(conn, CloseCode.badFrames, 'too many bad frames');
    }
  }

  // ---- pacing: requests start within the connection's limits (request-pacer.ts) -----------

  private submit(conn: Conn, req: Request): void {
    const pace = (conn.pace ??= new RequestPace(monoNow()));
    if (pace.waiting) {
      // The socket is paused; these are the frames ws had already read. Bounded by what one
      // socket read holds (64 KiB of frames), so the queue needs no cap of its own.
      pace.waiting.push(req);
      return;
    }
    if (this.tryStart(conn, pace, req)) return;
    pace.waiting = [req];
    conn.ws.pause();
  }

  /** Starts `req` if the limits allow it now; otherwise arranges for pump() to try again. */
  private tryStart(conn: Conn, pace: RequestPace, req: Request): boolean {
    // the node's bound first, so a held send takes none of its connection's tokens; its end resumes this connection
    if ('frame' in req && req.frame.t === 'send' && !this.sends.admit(conn)) return false;
    const wait = pace.admit(req, monoNow());
    if (wait === 0) {
      if ('frame' in req && req.frame.t === 'ack' && this.ackHeld(conn, req.frame)) pace.finish(req);
      else void this.run(conn, pace, req);
      return true;
    }
    // Infinity: a request in flight ends first, and its end pumps
    if (wait !== Infinity && !pace.timer) {
      pace.timer = setTimeout(() => {
        pace.timer = null;
        this.pump(conn, pace);
      }, wait);
      pace.timer.unref();
    }
    return false;
  }

  private async run(conn: Conn, pace: RequestPace, req: Request): Promise<void> {
    try {
      if (!('frame' in req)) await this.replyError(conn, req.bad.id, req.bad.err);
      else if (req.frame.t !== 'send') await this.dispatch(conn, req.frame);
      else {
        // `send`, the request of every message, handled here and not by dispatch: one
        // suspended async frame a message, not three (this one, dispatch's, a handler's), and
        // no await for a reply queued at once. The three frames and their promises, alive
        // until the store answered, were 14 % of what the 1:1 bench's node allocated at
        // 5,000 msg/s (issue 10, a sampling heap profile).
        const f = req.frame;
        try {
          this.sends.start();
          let res;
          try {
            res = await this.d.sender.send(conn.user, f.conv, f.cmid, f.body);
          } finally {
            this.sends.end(this.resumeHeld);
          }
          if (conn.captured) capturing?.out(conn, { t: 'sent', id: f.id, conv: f.conv, seq: res.seq, cmid: f.cmid, dup: res.dup });
          const queued = conn.sendAndDrain(encode.sent(f.id, f.conv, res.seq, f.cmid, res.ts, res.dup));
          if (queued !== SENT) await queued;
        } catch (err) {
          await this.replyError(conn, f.id, err);
        }
      }
    } finally {
      pace.finish(req);
      if (pace.waiting) this.pump(conn, pace);
    }
  }

  /** Starts the held requests in order as far as the limits allow; reading resumes once none is left. */
  private pump(conn: Conn, pace: RequestPace): void {
    const waiting = pace.waiting;
    if (!waiting) return;
    if (conn.state === 'closed') {
      pace.waiting = null;
      return;
    }
    while (waiting.length) {
      if (!this.tryStart(conn, pace, waiting[0]!)) return;
      waiting.shift();
    }
    pace.waiting = null;
    conn.ws.resume();
  }

  private async onHello(conn: Conn, text: string | null): Promise<void> {
    conn.early = [];
    let frame;
    try {
      frame = helloFrame.parse(JSON.parse(text ?? ''));
    } catch {
      this.sendError(conn, undefined, 'unauthorized', 'the first frame must be {"t":"hello","v":1,"token":"<jwt>"}');
      return this.close(conn, CloseCode.unauthorized, 'hello expected');
    }
    try {
      conn.identity = await this.d.tokens.verify(frame.token);
      if (conn.identity.expMs <= Date.now()) throw new TokenError('token expired');
    } catch (err) {
      this.sendError(conn, frame.id, 'unauthorized', err instanceof TokenError ? err.message : 'invalid token');
      return this.close(conn, CloseCode.unauthorized, 'unauthorized');
    }
    await this.handshakes.acquire();
    let replaced: string[] | null;
    try {
      if (conn.state === 'closed') return;
      replaced = await this.d.presence.open(conn);
    } catch (err) {
      this.registrationFailed(conn, err);
      this.sendError(conn, frame.id, 'unavailable', 'the store is unavailable; try again later');
      return this.close(conn, CloseCode.tryAgainLater, 'store unavailable');
    } finally {
      this.handshakes.release();
    }
    if ((conn.state as string) === 'closed') return void this.d.presence.close(conn);
    if (replaced === null) {
      this.sendError(conn, frame.id, 'rate_limited', `at most ${this.d.config.MAX_DEVICES} devices may be open at once`);
      return this.close(conn, CloseCode.tooManyDevices, 'too many devices');
    }
    const cap = capturing;
    if (cap !== null && cap.wants(conn.user)) {
      conn.captured = true;
      const local = this.d.hub.connsOf(conn.user).filter((o) => o !== conn && o.device === conn.device).map((o) => o.id);
      cap.hello(conn, [...new Set([...replaced, ...local])]);
    }
    for (const id of replaced) this.kick(id, CloseCode.replaced);
    for (const other of this.d.hub.connsOf(conn.user)) {
      if (other !== conn && other.device === conn.device) this.close(other, CloseCode.replaced, 'replaced by a newer connection');
    }
    conn.state = 'open';
    this.d.hub.addConn(conn);
    const c = this.d.config;
    this.d.metrics.welcomes.inc();
    if (conn.captured) capturing?.out(conn, { t: 'welcome' });
    conn.send(encode.welcome({ user: conn.user, device: conn.device, conn: conn.id, node: this.d.nodeId, heartbeatMs: c.HEARTBEAT_MS, maxBodyBytes: c.MAX_BODY_BYTES, id: frame.id }));
    const early = conn.early;
    conn.early = null;
    const sync = this.d.hub.syncOnConnect(conn).catch((err) => {
      if (!conn.isOpen) return;
      this.d.log.warn({ err: String(err), conn: conn.id }, 'connect sync failed');
      this.sendError(conn, undefined, 'unavailable', 'the store failed during the handshake; reconnect later');
      // behind a backlog the socket may still hold: dropped at once (closeNow), the rest of it,
      // this `error` and the close frame would never leave, and the client would see 1006
      // instead of 1013 (test/core/sync-failure-close.test.ts)
      if (conn.closeGracefully(CloseCode.tryAgainLater, 'store unavailable')) this.d.metrics.closes.inc({ code: String(CloseCode.tryAgainLater) });
    });
    for (const t of early) this.onText(conn, t);
    await sync;
  }

  /**
   * The client hears only `unavailable`; the operator needs what failed (a timeout, a dropped
   * link, a lapsed lease, a refused command): one line a second at most, with how many failed
   * since the last (a Redis outage fails every connect of every retrying client).
   */
  private readonly registrationFailures = new ThrottledWarning<{ err: string; conn: string }>((fields, failures) =>
    this.d.log.warn({ ...fields, failures }, 'connect registrations failed (failures: since the last such line)'),
  );

  private registrationFailed(conn: Conn, err: unknown): void {
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
    this.registrationFailures.note({ err: cause instanceof Error ? cause.message : String(cause), conn: conn.id });
  }

  /** Handles one request but `send`; resolves once its final reply reached the socket (pacing counts on it). */
  private async dispatch(conn: Conn, f: Exclude<ClientFrame, { t: 'send' }>): Promise<void> {
    try {
      switch (f.t) {
        case 'ack': {
          this.d.metrics.acks.inc();
          recordAck(conn, f.conv, await this.d.hub.clampToHead(conn, f.conv, f.seq));
          return await this.ok(conn, f.id);
        }
        case 'read': {
          const mark = await this.d.hub.clampToHead(conn, f.conv, f.seq);
          if (mark.epoch) await this.d.store.cursors.advanceRead(conn.user, { conv: f.conv, epoch: mark.epoch, seq: mark.seq }, conn.id);
          return await this.ok(conn, f.id);
        }
        case 'history': {
          convForUser(f.conv, conn.user);
          const page = await this.d.bulkReads.run(() => this.d.store.log.history(conn.user, f.conv, { after: f.after, before: f.before, limit: f.limit ?? 50 }));
          // in flight until the page reached the kernel: a reader that does not drain holds its history budget
          if (conn.captured) capturing?.out(conn, { t: 'page', id: f.id, conv: f.conv, n: page.msgsJson.length });
          return await conn.sendAndDrain(encode.page(f.id, f.conv, page.epoch, page.msgsJson, page.more));
        }
        case 'presence.sub': {
          const subs = conn.presenceSubs;
          const fresh = f.users.filter((u) => !subs?.has(u));
          const unique = [...new Set(fresh)];
          if ((subs?.size ?? 0) + unique.length > this.d.config.PRESENCE_SUBS_MAX) {
            throw new ProtocolError('too_large', `at most ${this.d.config.PRESENCE_SUBS_MAX} presence subscriptions per connection`);
          }
          this.d.presence.subscribe(conn, unique);
          const ok = this.ok(conn, f.id);
          // `ok` is this id's one final reply (PROTOCOL.md): a failed read of the current
          // states is retried, never answered with a second reply
          await Promise.all([ok, this.sendPresenceStates(conn, [...new Set(f.users)], 0)]);
          return;
        }
        case 'presence.unsub':
          this.d.presence.unsubscribe(conn, f.users);
          return await this.ok(conn, f.id);
        case 'auth': {
          let id;
          try {
            id = await this.d.tokens.verify(f.token);
          } catch (err) {
            void this.sendError(conn, f.id, 'unauthorized', err instanceof TokenError ? err.message : 'invalid token');
            return this.close(conn, CloseCode.unauthorized, 'unauthorized');
          }
          if (id.user !== conn.user || id.device !== conn.device) {
            void this.sendError(conn, f.id, 'unauthorized', 'the new token must have the same `sub` and `dev`');
            return this.close(conn, CloseCode.unauthorized, 'unauthorized');
          }
          conn.identity = { ...conn.identity!, expMs: id.expMs };
          // a new token: its own expiry may be deferred once again
          this.authDue.delete(conn);
          return await this.ok(conn, f.id);
        }
        case 'ping':
          if (conn.captured) capturing?.out(conn, { t: 'pong', id: f.id });
          return await conn.sendAndDrain(encode.pong(f.id, Date.now()));
      }
    } catch (err) {
      await this.replyError(conn, f.id, err);
    }
  }

  /** connections found with their token expired while held for a send slot → until when their `auth` may still be read (expiryDeferred; rare) */
  private readonly authDue = new WeakMap<Conn, number>();

  /** users whose current presence a connection still waits for, while a retry is scheduled */
  private readonly presenceRetries = new WeakMap<Conn, Set<string>>();

  /**
   * Sends the current presence of `users` still subscribed, PRESENCE_BATCH at a time: each
   * batch read, then its frames written and drained, before the next is read. Resolves once
   * the last frames reached the socket; a reader that does not drain holds its own
   * subscription's reads, not the node's memory. On a store failure the users not yet sent
   * are read again (backing off up to 5 s) while the connection is open, and it resolves at once.
   */
  private async sendPresenceStates(conn: Conn, users: string[], attempt: number): Promise<void> {
    for (let from = 0; from < users.length && conn.isOpen; from += PRESENCE_BATCH) {
      // those unsubscribed meanwhile are not read
      const batch = users.slice(from, from + PRESENCE_BATCH).filter((u) => conn.presenceSubs?.has(u));
      if (!batch.length) continue;
      let states;
      try {
        states = await this.d.bulkReads.run(() => this.d.presence.states(batch));
      } catch {
        // a read after some were sent starts the back-off again: the store answered meanwhile
        return this.retryPresenceStates(conn, users.slice(from), from === 0 ? attempt : 0);
      }
      let last: Promise<void> | undefined;
      batch.forEach((u, i) => {
        const s = states[i]!;
        if (this.d.presence.admitState(conn, u, s.v)) last = conn.sendAndDrain(encode.presence(u, s.status, s.v, s.ts));
      });
      // frames on one socket are written in order: the last one written means all were
      await last;
    }
  }

  /** After a failed read: `users` still subscribed are read again later (one retry pending a connection). */
  private retryPresenceStates(conn: Conn, users: string[], attempt: number): void {
    if (!conn.isOpen) return;
    let pending = this.presenceRetries.get(conn);
    const scheduled = pending !== undefined;
    if (!pending) this.presenceRetries.set(conn, (pending = new Set()));
    for (const u of users) if (conn.presenceSubs?.has(u)) pending.add(u);
    if (scheduled) return;
    setTimeout(() => {
      this.presenceRetries.delete(conn);
      const again = [...pending].filter((u) => conn.presenceSubs?.has(u));
      if (again.length && conn.isOpen) void this.sendPresenceStates(conn, again, attempt + 1);
    }, Math.min(5000, 250 * 2 ** attempt)).unref();
  }

  /**
   * The common `ack` — no id, so no reply; of a conversation the connection holds, so the
   * clamp needs no store — taken at once, with no promise (issue 10: an ack per message
   * delivered). False: nothing was done, and the request runs as any other (`dispatch`).
   */
  private ackHeld(conn: Conn, f: Extract<ClientFrame, { t: 'ack' }>): boolean {
    if (f.id !== undefined) return false;
    const mark = this.d.hub.clampHeld(conn, f.conv, f.seq);
    if (mark === null) return false;
    this.d.metrics.acks.inc();
    recordAck(conn, f.conv, mark);
    return true;
  }

  // ---- replies and closes --------------------------------------------------------

  private async ok(conn: Conn, id: string | undefined): Promise<void> {
    if (id === undefined) return;
    if (conn.captured) capturing?.out(conn, { t: 'ok', id });
    await conn.sendAndDrain(encode.ok(id));
  }

  /** The error reply to a request; resolves once it reached the socket. */
  private replyError(conn: Conn, id: string | undefined, err: unknown): Promise<void> {
    if (err instanceof ProtocolError) return this.sendError(conn, id, err.code, err.message);
    const correlation = randomBytes(6).toString('hex');
    this.d.log.error({ err: err instanceof Error ? err.stack : String(err), correlation, conn: conn.id }, 'internal error');
    return this.sendError(conn, id, 'internal', `internal error (correlation id ${correlation})`);
  }

  private sendError(conn: Conn, id: string | undefined, code: ErrorCode, message: string): Promise<void> {
    this.d.metrics.errors.inc({ code });
    if (conn.captured) capturing?.out(conn, { t: 'error', id, code });
    return conn.sendAndDrain(encode.error(id, code, message));
  }

  close(conn: Conn, code: number, reason: string): void {
    if (conn.closeNow(code, reason)) this.d.metrics.closes.inc({ code: String(code) });
  }

  /** Closes a local connection by id (a replacement seen on the bus). */
  kick(connId: string, code: number): void {
    const conn = this.d.hub.conns.get(connId);
    if (conn) this.close(conn, code, code === CloseCode.replaced ? 'replaced by a newer connection' : 'closed');
  }

  kickUser(user: string, device: string | null): void {
    for (const conn of this.d.hub.connsOf(user)) {
      if (device === null || conn.device === device) this.close(conn, CloseCode.unauthorized, 'sessions revoked');
    }
  }

  // ---- the shared sweep ----------------------------------------------------------

  /**
   * One tick of the sweep: a slice of the connections (RingWalk), so the heartbeat pings of
   * connections that opened together (a connect storm) go out spread over the round, not in
   * one burst that stalls the loop. A round's unsent bytes over NODE_OUTBOUND_BYTES make it
   * count them all again at the round's end, and shed on that count.
   */
  private sweep(): void {
    const now = monoNow();
    const wallNow = Date.now();
    const c = this.d.config;
    const frozenMs = now - this.lastSweepAt - this.sweepTickMs;
    this.lastSweepAt = now;
    if (frozenMs > Math.min(c.HEARTBEAT_MS, c.HELLO_TIMEOUT_MS) / 2) {
      this.livenessFrom = now;
      this.d.log.warn({ frozenMs }, 'the node was frozen; every connection gets a full heartbeat window before it is judged');
    }
    const slice = this.sweepWalk.slice();
    for (let visited = 0; visited < slice; visited++) {
      const conn = this.sweepWalk.next();
      if (!conn) {
        // the round's sum read each connection at a different tick: it says when to count
        // again, the count now says whom to close (a stale sum would close drained readers)
        if (this.roundUnsent > c.NODE_OUTBOUND_BYTES) {
          const unsent = this.unsentBytes();
          if (unsent > c.NODE_OUTBOUND_BYTES) this.shedOutbound(unsent);
        }
        this.roundUnsent = 0;
        break;
      }
      this.roundUnsent += this.check(conn, now, wallNow);
    }
    // at most once a second: the buckets throttle their own walk
    this.d.buckets.prune(now);
  }

  /**
   * PROTOCOL.md: at `exp` a connection closes unless the client sent `auth`. While the node
   * itself does not read a connection (its send waits for a slot), an `auth` it sent may wait
   * unread in its socket: one found expired while held gets 2 × STORE_TIMEOUT_MS, held or not,
   * for the node to read and answer it, and is closed 4401 after that. Once per token, so a
   * connection the node keeps holding (a node full for long) cannot go on with an expired token.
   */
  private expiryDeferred(conn: Conn, now: number): boolean {
    const due = this.authDue.get(conn);
    if (due === undefined) {
      if (!this.sends.holding(conn)) return false;
      this.authDue.set(conn, now + 2 * this.d.config.STORE_TIMEOUT_MS);
      return true;
    }
    return now < due;
  }

  /** Closes `conn` if its hello, heartbeat or token ran out, pings it when due; answers its unsent bytes. */
  private check(conn: Conn, now: number, wallNow: number): number {
    const c = this.d.config;
    const from = this.livenessFrom;
    if (conn.state === 'hello') {
      if (!conn.identity && now - Math.max(conn.openedAt, from) > c.HELLO_TIMEOUT_MS) this.close(conn, CloseCode.unauthorized, 'hello timeout');
      return 0;
    }
    if (conn.state !== 'open') return 0;
    // a connection the node itself stopped reading (its send waits for a slot) is not judged silent
    if (now - Math.max(conn.lastSeen, from) > 2 * c.HEARTBEAT_MS && !this.sends.holding(conn)) {
      this.close(conn, CloseCode.heartbeatTimeout, 'heartbeat timeout');
      return 0;
    }
    if (conn.identity!.expMs <= wallNow && !this.expiryDeferred(conn, now)) {
      this.close(conn, CloseCode.unauthorized, 'token expired');
      return 0;
    }
    if (now - conn.lastPing >= c.HEARTBEAT_MS) {
      // the next ping comes up to ¼ HEARTBEAT_MS early, by turns, so connections that opened
      // together stop being due in the same ticks
      conn.lastPing = now - (this.pings++ % PING_SPREAD_STEPS) * Math.floor(c.HEARTBEAT_MS / 4 / PING_SPREAD_STEPS);
      try {
        conn.ws.ping();
      } catch {
        // closing
      }
    }
    return conn.ws.bufferedAmount;
  }

  private shedOutbound(total: number): void {
    const byBytes = [...this.all].filter((c) => c.state === 'open' && c.ws.readyState === 1).sort((a, b) => b.ws.bufferedAmount - a.ws.bufferedAmount);
    for (const conn of byBytes) {
      if (total <= this.d.config.NODE_OUTBOUND_BYTES) break;
      total -= conn.ws.bufferedAmount;
      if (conn.closeNow(CloseCode.slowConsumer, 'node outbound limit')) {
        this.d.metrics.slowConsumers.inc();
        this.d.metrics.closes.inc({ code: String(CloseCode.slowConsumer) });
      }
    }
  }

  /** Writes one connection's pending acks now (its close, the drain); the rest are written by `acks`, spread over each second. */
  flushAcks(conn: Conn): Promise<void> {
    return this.acks.flushNow(conn);
  }

  /**
   * Shutdown: close the i-th of n connections with 1001 at about i·DRAIN_MS/n. Each one's
   * pending acks are flushed on the way, at most DRAIN_FLUSHES at a time and never past
   * DRAIN_MS + STORE_TIMEOUT_MS in all, so a stalled Redis cannot hold the exit. The spread
   * flush stops first; the batches it has in flight are awaited under the same deadline.
   */
  async drain(drainMs: number): Promise<void> {
    this.acks.stop();
    const conns = [...this.all];
    const n = conns.length;
    const start = monoNow();
    const deadline = start + drainMs + this.d.config.STORE_TIMEOUT_MS;
    const flushing = new Set<Promise<void>>();
    const untilDeadline = () => new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - monoNow())).unref());
    for (let i = 0; i < n; i++) {
      const due = start + (i * drainMs) / n;
      const wait = due - monoNow();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const conn = conns[i]!;
      if (conn.state === 'closed') continue;
      if (flushing.size >= DRAIN_FLUSHES) await Promise.race([...flushing, untilDeadline()]);
      const f = this.flushAcks(conn).finally(() => flushing.delete(f));
      flushing.add(f);
      // not one already closing (a failed connect sync's close waits up to 2 s for its client)
      if (conn.closeGracefully(CloseCode.shutdown, 'server shutting down')) this.d.metrics.closes.inc({ code: String(CloseCode.shutdown) });
    }
    await Promise.race([Promise.allSettled([...flushing, this.acks.idle()]), untilDeadline()]);
  }
}
