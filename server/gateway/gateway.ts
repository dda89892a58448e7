import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Config } from '../config/config.ts';
import type { Hub } from '../delivery/hub.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Presence } from '../presence/presence.ts';
import { CloseCode, ProtocolError, errorCodes, type ErrorCode } from '../protocol/codes.ts';
import { clientFrame, describeZodError, helloFrame, type ClientFrame } from '../protocol/frames.ts';
import { parseConv } from '../protocol/ids.ts';
import type { Store } from '../store/store.ts';
import { Conn } from './connection.ts';
import type { SendBuckets } from './rate.ts';
import { Semaphore } from './semaphore.ts';
import { TokenError, type TokenVerifier } from './tokens.ts';

const BAD_FRAMES_LIMIT = 10;
const connOf = new WeakMap<WebSocket, Conn>();
const noop = () => {};
function destroySocket(this: Duplex): void {
  this.destroy();
}
const HANDSHAKE_CONCURRENCY = 256;

export interface GatewayDeps {
  config: Config;
  log: Logger;
  store: Store;
  hub: Hub;
  presence: Presence;
  tokens: TokenVerifier;
  buckets: SendBuckets;
  metrics: Metrics;
  nodeId: string;
  maxConnections: number;
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
  private readonly bootId = randomBytes(4).toString('hex');
  private seq = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private lastAckFlush = Date.now();
  private accepting = true;

  constructor(deps: GatewayDeps) {
    this.d = deps;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.config.MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
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
    const every = Math.max(20, Math.min(1000, Math.floor(c.HEARTBEAT_MS / 4), Math.floor(c.HELLO_TIMEOUT_MS / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, overLimit));
  }

  private onConnection(ws: WebSocket, overLimit: boolean): void {
    if (overLimit || this.all.size >= this.d.maxConnections) {
      this.d.metrics.closes.inc({ code: String(CloseCode.tryAgainLater) });
      ws.close(CloseCode.tryAgainLater, 'connection limit reached');
      setTimeout(() => ws.terminate(), 1000).unref();
      return;
    }
    const conn = new Conn(`${this.d.nodeId}.${this.bootId}.${(this.seq++).toString(36)}`, ws, Date.now());
    this.all.add(conn);
    connOf.set(ws, conn);
    ws.on('message', this.wsHandlers.message);
    ws.on('pong', this.wsHandlers.pong);
    ws.on('close', this.wsHandlers.close);
    ws.on('error', noop);
  }

  /**
   * One set of socket handlers for every connection (they find the connection from the
   * socket), instead of four closures per connection: memory per idle connection counts.
   */
  private readonly wsHandlers = (() => {
    const gw = this;
    return {
      message(this: WebSocket, data: RawData, isBinary: boolean) {
        const conn = connOf.get(this);
        if (conn) gw.onFrame(conn, data, isBinary);
      },
      pong(this: WebSocket) {
        const conn = connOf.get(this);
        if (conn) conn.lastSeen = Date.now();
      },
      close(this: WebSocket) {
        const conn = connOf.get(this);
        if (conn) void gw.onClose(conn);
      },
    };
  })();

  private async onClose(conn: Conn): Promise<void> {
    if (conn.state === 'closed') return;
    const wasOpen = conn.state === 'open';
    conn.state = 'closed';
    this.all.delete(conn);
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
    conn.lastSeen = Date.now();
    this.d.metrics.framesIn.inc();
    if (conn.state === 'closed') return;
    const text = isBinary ? null : data.toString();
    if (conn.state === 'hello') {
      if (conn.early) {
        // the handshake is running; keep order
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
      try {
        raw = JSON.parse(text);
      } catch {
        throw new ProtocolError('bad_request', 'frame is not valid JSON');
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ProtocolError('bad_request', 'frame must be a JSON object');
      const parsed = clientFrame.safeParse(raw);
      if (!parsed.success) throw new ProtocolError('bad_request', describeZodError(parsed.error));
      if (parsed.data.t === 'hello') throw new ProtocolError('bad_request', 'hello was already accepted on this connection');
      conn.badFrames = 0;
      void this.dispatch(conn, parsed.data);
    } catch (err) {
      const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' && (raw as { id: string }).id.length <= 64 ? (raw as { id: string }).id : undefined;
      this.replyError(conn, id, err);
      if (++conn.badFrames >= BAD_FRAMES_LIMIT) this.close(conn, CloseCode.badFrames, 'too many bad frames');
    }
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
    for (const id of replaced) this.kick(id, CloseCode.replaced);
    for (const other of this.d.hub.connsOf(conn.user)) {
      if (other !== conn && other.device === conn.device) this.close(other, CloseCode.replaced, 'replaced by a newer connection');
    }
    conn.state = 'open';
    this.d.hub.addConn(conn);
    const c = this.d.config;
    conn.send(
      `{"t":"welcome","v":1,"user":${JSON.stringify(conn.user)},"device":${JSON.stringify(conn.device)},"conn":${JSON.stringify(conn.id)},"node":${JSON.stringify(this.d.nodeId)},"heartbeatMs":${c.HEARTBEAT_MS},"maxBodyBytes":${c.MAX_BODY_BYTES}${frame.id !== undefined ? `,"id":${JSON.stringify(frame.id)}` : ''}}`,
    );
    const early = conn.early;
    conn.early = null;
    const sync = this.d.hub.syncOnConnect(conn).catch((err) => {
      if (!conn.isOpen) return;
      this.d.log.warn({ err: String(err), conn: conn.id }, 'connect sync failed');
      this.sendError(conn, undefined, 'unavailable', 'the store failed during the handshake; reconnect later');
      this.close(conn, CloseCode.tryAgainLater, 'store unavailable');
    });
    for (const t of early) this.onText(conn, t);
    await sync;
  }

  private async dispatch(conn: Conn, f: ClientFrame): Promise<void> {
    try {
      switch (f.t) {
        case 'send':
          return await this.onSend(conn, f);
        case 'ack': {
          this.d.metrics.acks.inc();
          const mark = await this.d.hub.clampToHead(conn, f.conv, f.seq);
          if (mark.epoch) {
            conn.acks ??= new Map();
            const prev = conn.acks.get(f.conv);
            if (!prev || prev.epoch !== mark.epoch || mark.seq > prev.seq) conn.acks.set(f.conv, mark);
          }
          return this.ok(conn, f.id);
        }
        case 'read': {
          const mark = await this.d.hub.clampToHead(conn, f.conv, f.seq);
          if (mark.epoch) await this.d.store.advanceRead(conn.user, f.conv, mark.epoch, mark.seq, conn.id);
          return this.ok(conn, f.id);
        }
        case 'history': {
          this.checkMember(conn.user, f.conv);
          const page = await this.d.store.history(conn.user, f.conv, f.after, f.before, f.limit ?? 50);
          conn.send(`{"t":"page"${f.id !== undefined ? `,"id":${JSON.stringify(f.id)}` : ''},"conv":${JSON.stringify(f.conv)},"epoch":${JSON.stringify(page.epoch)},"msgs":[${page.json.join(',')}],"more":${page.more}}`);
          return;
        }
        case 'presence.sub': {
          const subs = conn.presenceSubs;
          const fresh = f.users.filter((u) => !subs?.has(u));
          const unique = [...new Set(fresh)];
          if ((subs?.size ?? 0) + unique.length > this.d.config.PRESENCE_SUBS_MAX) {
            throw new ProtocolError('too_large', `at most ${this.d.config.PRESENCE_SUBS_MAX} presence subscriptions per connection`);
          }
          this.d.presence.subscribe(conn, unique);
          this.ok(conn, f.id);
          // `ok` is this id's one final reply (PROTOCOL.md): a failed read of the current
          // states is retried, never answered with a second reply
          return void this.sendPresenceStates(conn, [...new Set(f.users)], 0);
        }
        case 'presence.unsub':
          this.d.presence.unsubscribe(conn, f.users);
          return this.ok(conn, f.id);
        case 'auth': {
          let id;
          try {
            id = await this.d.tokens.verify(f.token);
          } catch (err) {
            this.sendError(conn, f.id, 'unauthorized', err instanceof TokenError ? err.message : 'invalid token');
            return this.close(conn, CloseCode.unauthorized, 'unauthorized');
          }
          if (id.user !== conn.user || id.device !== conn.device) {
            this.sendError(conn, f.id, 'unauthorized', 'the new token must have the same `sub` and `dev`');
            return this.close(conn, CloseCode.unauthorized, 'unauthorized');
          }
          conn.identity = { ...conn.identity!, expMs: id.expMs };
          return this.ok(conn, f.id);
        }
        case 'ping':
          conn.send(`{"t":"pong"${f.id !== undefined ? `,"id":${JSON.stringify(f.id)}` : ''},"ts":${Date.now()}}`);
          return;
      }
    } catch (err) {
      this.replyError(conn, f.id, err);
    }
  }

  /** users whose current presence a connection still waits for, while a retry is scheduled */
  private readonly presenceRetries = new WeakMap<Conn, Set<string>>();

  /** Sends the current presence of `users` still subscribed; on a store failure retries (backing off up to 5 s) while the connection is open. */
  private async sendPresenceStates(conn: Conn, users: string[], attempt: number): Promise<void> {
    try {
      const states = await this.d.store.presence(users);
      users.forEach((u, i) => {
        const s = states[i]!;
        if (conn.presenceSubs?.has(u)) conn.send(`{"t":"presence","user":${JSON.stringify(u)},"status":"${s.status}","v":${s.v},"ts":${s.ts}}`);
      });
    } catch {
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
  }

  private async onSend(conn: Conn, f: Extract<ClientFrame, { t: 'send' }>): Promise<void> {
    const started = process.hrtime.bigint();
    const ref = this.checkMember(conn.user, f.conv);
    if (Buffer.byteLength(f.body) > this.d.config.MAX_BODY_BYTES) throw new ProtocolError('too_large', `body is over ${this.d.config.MAX_BODY_BYTES} bytes`);
    if (!this.d.buckets.take(conn.user, Date.now())) throw new ProtocolError('rate_limited', `over ${this.d.config.SEND_RATE} sends/s (burst ${this.d.config.SEND_BURST}); slow down and retry`);
    const res = await this.d.store.send(f.conv, ref.kind === 'group', ref.kind === 'dm' ? [ref.a, ref.b] : [], conn.user, f.cmid, JSON.stringify(f.body));
    this.d.metrics.sends.inc({ dup: String(res.dup) });
    this.d.metrics.sendLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    conn.send(`{"t":"sent"${f.id !== undefined ? `,"id":${JSON.stringify(f.id)}` : ''},"conv":${JSON.stringify(f.conv)},"seq":${res.seq},"cmid":${JSON.stringify(f.cmid)},"ts":${res.ts},"dup":${res.dup}}`);
  }

  /** dm membership is in the id; a group's is checked by the store script. */
  private checkMember(user: string, conv: string) {
    const ref = parseConv(conv)!;
    if (ref.kind === 'dm' && ref.a !== user && ref.b !== user) throw new ProtocolError('forbidden', `not a member of ${conv}`);
    return ref;
  }

  // ---- replies and closes --------------------------------------------------------

  private ok(conn: Conn, id: string | undefined): void {
    if (id !== undefined) conn.send(`{"t":"ok","id":${JSON.stringify(id)}}`);
  }

  private replyError(conn: Conn, id: string | undefined, err: unknown): void {
    if (err instanceof ProtocolError) return this.sendError(conn, id, err.code, err.message);
    const correlation = randomBytes(6).toString('hex');
    this.d.log.error({ err: err instanceof Error ? err.stack : String(err), correlation, conn: conn.id }, 'internal error');
    this.sendError(conn, id, 'internal', `internal error (correlation id ${correlation})`);
  }

  private sendError(conn: Conn, id: string | undefined, code: ErrorCode, message: string): void {
    this.d.metrics.errors.inc({ code });
    conn.send(`{"t":"error"${id !== undefined ? `,"id":${JSON.stringify(id)}` : ''},"code":"${code}","message":${JSON.stringify(message)},"retryable":${errorCodes[code].retryable}}`);
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

  private sweep(): void {
    const now = Date.now();
    const c = this.d.config;
    const flushAcks = now - this.lastAckFlush >= 1000;
    if (flushAcks) this.lastAckFlush = now;
    let unsent = 0;
    for (const conn of this.all) {
      if (conn.state === 'hello') {
        if (!conn.identity && now - conn.openedAt > c.HELLO_TIMEOUT_MS) this.close(conn, CloseCode.unauthorized, 'hello timeout');
        continue;
      }
      if (conn.state !== 'open') continue;
      if (now - conn.lastSeen > 2 * c.HEARTBEAT_MS) {
        this.close(conn, CloseCode.heartbeatTimeout, 'heartbeat timeout');
        continue;
      }
      if (conn.identity!.expMs <= now) {
        this.close(conn, CloseCode.unauthorized, 'token expired');
        continue;
      }
      if (now - conn.lastPing >= c.HEARTBEAT_MS) {
        conn.lastPing = now;
        try {
          conn.ws.ping();
        } catch {
          // closing
        }
      }
      if (flushAcks && conn.acks?.size) void this.flushAcks(conn);
      unsent += conn.ws.bufferedAmount;
    }
    if (unsent > c.NODE_OUTBOUND_BYTES) this.shedOutbound(unsent);
    if (flushAcks) this.d.buckets.prune(now);
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

  async flushAcks(conn: Conn): Promise<void> {
    const acks = conn.acks;
    if (!acks?.size) return;
    conn.acks = null;
    const marks = [...acks].map(([conv, m]) => ({ conv, epoch: m.epoch, seq: m.seq }));
    try {
      await this.d.store.advanceCursors(conn.user, conn.device, marks);
    } catch {
      // Redis away: keep them for the next flush, unless newer acks replaced them meanwhile
      if (conn.state !== 'closed') {
        conn.acks ??= new Map();
        for (const [conv, m] of acks) if (!conn.acks.has(conv)) conn.acks.set(conv, m);
      }
    }
  }

  /** Shutdown: close the i-th of n connections with 1001 at about i·DRAIN_MS/n. */
  async drain(drainMs: number): Promise<void> {
    const conns = [...this.all];
    const n = conns.length;
    const start = Date.now();
    for (let i = 0; i < n; i++) {
      const due = start + (i * drainMs) / n;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const conn = conns[i]!;
      if (conn.state === 'closed') continue;
      await this.flushAcks(conn);
      this.d.metrics.closes.inc({ code: String(CloseCode.shutdown) });
      conn.closeGracefully(CloseCode.shutdown, 'server shutting down');
    }
  }
}
