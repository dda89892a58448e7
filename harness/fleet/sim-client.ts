// One simulated device speaking PROTOCOL.md: hello, conv/msg/gap handling with history
// fill, cumulative acks by policy, presence subscriptions, reconnect with exponential
// backoff and full jitter, resume from cursors, and resend of unanswered sends with the
// same cmid. Sends follow an open-loop schedule: each has an intended time, and latency
// counts from it, so a stalled server cannot hide its stalls.
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { decodeServerFrame, type FrameOf, type ServerFrame, type StoredMessage } from '../../server/protocol/server-frames.ts';
import type { SendFact } from '../model/facts.ts';
import type { Recorder } from './recorder.ts';
import { httpCall } from '../util/http-call.ts';
import { kernelQueues } from './kernel-queues.ts';
import { Rng } from './rng.ts';
import { drawBodySize, stageTarget, type AckMode, type DevicePlan, type Workload } from './workload.ts';
import type { RecordedStep } from './recorded.ts';

export interface ClientOptions {
  url: string;
  /** other nodes' URLs: a connection that closes before its welcome moves the device to the next one (failover) */
  fallbackUrls?: string[];
  localAddress?: string;
  token: () => Promise<string>;
  recorder: Recorder;
  workload: Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'cmids'> & Partial<Pick<Workload, 'stages'>>;
  /** how long a request may stay unanswered before it counts as never answered on this connection */
  requestTimeoutMs?: number;
  /** how long the opening handshake (TCP connect and upgrade) may take before it is abandoned (default 10 s) */
  handshakeTimeoutMs?: number;
}

interface PendingSend {
  fact: SendFact;
  /** body size, drawn once: a resend carries the same body */
  bytes: number;
  /** request id on the current connection, once written */
  reqId: string | null;
  /** answered with a retryable error: written again no earlier than this (backoff) */
  notBefore?: number;
}

/** Resends after a retryable error back off from 200 ms, doubling per attempt, to 2 s (±25 %): a node answering `unavailable` is not hammered by every device five times a second. */
const RESEND_BASE_MS = 200;
const RESEND_CAP_MS = 2000;

interface ConvView {
  epoch: string;
  /** highest seq this device holds every message up to (what a cumulative ack may say) */
  contig: number;
  maxSeq: number;
  acked: number;
  /** a history fill is running; contig waits for it */
  filling: number;
  /** a recorded plan's ack of a seq this device did not hold yet at its step: written once it does, or superseded by the next ack step */
  ackWant?: number;
  /** ack mode `ahead` with `once`: this connection's one ack ahead in this conversation is written */
  aheadOnce?: true;
}

type State = 'idle' | 'away' | 'connecting' | 'open' | 'backoff' | 'stopped' | 'replaced' | 'failed' | 'gone';

const ACK_BATCH_MS = 500;
/** recorded steps that need a synced connection, deferred while it is (re)made (sends queue on their own) */
const DEFERRABLE = new Set<RecordedStep['op']>(['ack', 'read', 'history', 'presence.sub', 'presence.unsub']);
const MAX_DEFERRED = 10_000;
/** the device a socket belongs to (SimClient.wsHandlers) */
const deviceOf = new WeakMap<WebSocket, SimClient>();
/** sockets a device left open while it opened a new one (replaceRate) → their connection id: only their close is recorded */
const abandonedConn = new WeakMap<WebSocket, string>();
/** ws 8's default maxPendingAutoPongs */
const MAX_OWED_PONGS = 60;

/** A WebSocket opening handshake (TCP connect and upgrade) not done by then is abandoned (ClientOptions.handshakeTimeoutMs). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Sockets whose opening handshake is under way → their deadline, and the one timer (every
 * 250 ms while there are any) that abandons those past it. Not ws's `handshakeTimeout`: that arms the
 * socket's own idle timeout, and node's `socket.setTimeout(0)` after the upgrade stops the
 * timer but keeps it and its bound callback on the socket for the connection's life, about
 * 150 B a device (issue 10 judges the fleet's memory per device beside a raw ws client's).
 */
const handshaking = new Map<WebSocket, { until: number; ms: number }>();
/** sockets abandoned for their handshake's deadline → that deadline's length: their error says so */
const handshakeTimedOut = new WeakMap<WebSocket, number>();
let handshakeSweep: NodeJS.Timeout | null = null;

function watchHandshake(ws: WebSocket, timeoutMs: number): void {
  handshaking.set(ws, { until: Date.now() + timeoutMs, ms: timeoutMs });
  if (handshakeSweep) return;
  handshakeSweep = setInterval(() => {
    const now = Date.now();
    // every entry, not only up to the first one not due: devices may have deadlines of different lengths
    for (const [w, deadline] of handshaking) {
      if (w.readyState !== WebSocket.CONNECTING) handshaking.delete(w);
      else if (deadline.until <= now) {
        handshaking.delete(w);
        handshakeTimedOut.set(w, deadline.ms);
        w.terminate();
      }
    }
    if (!handshaking.size && handshakeSweep) {
      clearInterval(handshakeSweep);
      handshakeSweep = null;
    }
  }, 250);
  handshakeSweep.unref();
}

export class SimClient {
  readonly client: string;
  readonly plan: DevicePlan;
  private readonly o: ClientOptions;
  private readonly rng: Rng;
  private ws: WebSocket | null = null;
  state: State = 'idle';
  private conn = '';
  private connSeq = 0;
  /** pongs answering the server's pings, not yet written (wsHandlers.ping) */
  private owedPongs = 0;
  private synced = false;
  private everSynced = false;
  private everWelcomed = false;
  /** HTTP sends of a recorded plan (`http-send` steps) so far: their facts' connection is `http:<n>` */
  private httpSends = 0;
  private attempts = 0;
  /** the connection resync() closed for the final sync: its close reconnects at once */
  private finalSyncClose: WebSocket | null = null;
  private reqSeq = 0;
  private sendSeq = 0;
  private connectStartedAt = 0;
  // Collections most devices never use, or an idle device does not use yet, are made on
  // first use: an empty Map or Set is about 150 B of heap, an empty array 32 B, and at 100k
  // idle devices the fleet is judged beside a raw ws client's memory (issue 10). Each is
  // read with ?. and made with ??= where it is first written.
  /** sends written on the current connection, by request id, until answered */
  private pending: Map<string, PendingSend> | undefined;
  /** sends not written yet (no synced connection, or backing off after a retryable error) */
  private queued: PendingSend[] | undefined;
  private convs: Map<string, ConvView> | undefined;
  /** request id → who waits for its reply; called with null when the connection closes first */
  private historyWaiters: Map<string, (f: ServerFrame | null) => void> | undefined;
  private sendTimer: NodeJS.Timeout | null = null;
  private churnTimer: NodeJS.Timeout | null = null;
  private replaceTimer: NodeJS.Timeout | null = null;
  /** connections left open by replace(), until they close */
  private abandoned: Set<WebSocket> | undefined;
  private ackTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  /** index into [url, ...fallbackUrls] of the URL the next connection uses */
  private urlIndex = 0;
  /** the current connection was welcomed */
  private welcomed = false;
  private sending = false;
  private syncedWaiters: (() => void)[] | undefined;
  /** the node of the current connection (its welcome's `node`): in-flight windows are per node */
  private node: string | undefined;
  /** per conversation, the highest seq an in-flight window found unacked that no ack written since has covered */
  private ackWatch: Map<string, number> | undefined;
  /**
   * per conversation, the highest seq this device has acked while holding it, on any of its
   * connections, and in which epoch. A connection's view starts from the server's cursor,
   * which may lag an ack written on an earlier connection (a cursor write held back while the
   * node's Redis link was down lands later); an in-flight window counts as unacked only what
   * is above both.
   */
  private ackedEver: Map<string, { epoch: string; seq: number }> | undefined;
  /** when this device's load began (stages and modes are timed from it) */
  private loadStartAt = 0;
  /** draws body sizes, apart from `rng` so a plan without size distributions sends what it always did (made on first use, seeded from the plan) */
  private bodyRngMade: Rng | undefined;
  /** jitters resend backoff, apart from `rng` for the same reason (made on first use) */
  private resendRngMade: Rng | undefined;
  private resendTimer: NodeJS.Timeout | null = null;
  /** timers of the device's mode (pause, throttle, leave) and of late acks: cleared on stop */
  private modeTimers: Set<NodeJS.Timeout> | undefined;
  /** after a read stall: what the connection held when the device read again (a `drain` fact) */
  private drain: { ws: WebSocket; conn: string; at: number; kernel: { rx: number; tx: number } | null; bytes: number; frames: number; pages: number; synced: boolean; timer: NodeJS.Timeout } | null = null;
  /** a recorded plan dropped the connection: stay away until its next `connect` step */
  private holdDown = false;
  /** a recorded plan's steps that came while the device was (re)connecting: run once it is synced */
  private deferred: RecordedStep[] | undefined;
  /** the next step of a recorded plan, and its timer */
  private stepIndex = 0;
  private stepTimer: NodeJS.Timeout | null = null;
  /** a read stall (mode pause or throttle) under way */
  private stall: { kind: 'pause' | 'throttle'; at: number; end: number; release: () => void } | null = null;

  constructor(plan: DevicePlan, options: ClientOptions) {
    this.plan = plan;
    this.o = options;
    this.client = `${plan.user}/${plan.device}`;
    this.rng = new Rng(plan.seed);
  }

  private get bodyRng(): Rng {
    return (this.bodyRngMade ??= new Rng((this.plan.seed ^ 0x626f6479) >>> 0));
  }
  private get resendRng(): Rng {
    return (this.resendRngMade ??= new Rng((this.plan.seed ^ 0x72657472) >>> 0));
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }
  get isSynced(): boolean {
    return this.state === 'open' && this.synced;
  }
  get unanswered(): number {
    return (this.pending?.size ?? 0) + (this.queued?.length ?? 0);
  }

  start(): void {
    if (this.state !== 'idle') return;
    // mode visit: away until its visit begins (startMode)
    if (this.plan.mode?.kind === 'visit') {
      this.state = 'away';
      return;
    }
    this.connect();
  }

  /** Begins the open-loop send schedule (and churn, if planned). */
  startLoad(): void {
    this.sending = true;
    this.loadStartAt = Date.now();
    if (this.plan.script) return this.nextStep();
    if (this.plan.sendRate > 0 && this.plan.convs.length && this.maxStageTarget() > 0) this.scheduleSend(this.loadStartAt);
    if (this.plan.churnRate > 0) this.scheduleChurn();
    if ((this.plan.replaceRate ?? 0) > 0) this.scheduleReplace();
    this.startMode();
  }

  stopLoad(): void {
    this.sending = false;
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
    // the final sync reconnects every device, a recorded drop included
    this.holdDown = false;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    if (this.churnTimer) clearTimeout(this.churnTimer);
    if (this.replaceTimer) clearTimeout(this.replaceTimer);
    this.sendTimer = this.churnTimer = this.replaceTimer = null;
  }

  /** Resolves when this device is connected and synced (or has given up). */
  whenSynced(): Promise<void> {
    if (this.isSynced || this.state === 'failed' || this.state === 'replaced' || this.state === 'stopped' || this.state === 'gone' || this.state === 'away') return Promise.resolve();
    return new Promise((r) => (this.syncedWaiters ??= []).push(r));
  }

  /**
   * A close of the device's own (1000), recorded as `closing` first: the server may let the
   * connection go as soon as it reads the close frame, a round trip before `close` is recorded.
   */
  private closeOwn(ws: WebSocket, reason: string): void {
    if (ws === this.ws && this.conn) this.o.recorder.fact({ k: 'conn', client: this.client, conn: this.conn, event: 'closing', at: Date.now() });
    ws.close(1000, reason);
  }

  /** Drops the connection abruptly (as a network would) and lets reconnect logic run. */
  drop(): void {
    this.ws?.terminate();
  }

  /** The end-of-run resync: a fresh connection replays everything above the cursor. */
  async resync(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed' || this.state === 'gone' || this.state === 'away') return;
    if (this.state === 'replaced') this.state = 'backoff';
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      await this.flushAcks();
      // the final sync is the harness's, not the workload's: back at once, not after the workload's backoff
      this.finalSyncClose = ws;
      this.closeOwn(ws, 'final sync');
      await new Promise((r) => ws.once('close', r));
    } else if (this.retryTimer || this.state === 'backoff') {
      // waiting to reconnect: by backoff, or held down by a recorded drop with no connect after it
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
    await this.whenSynced();
    await this.waitFills();
  }

  async stop(): Promise<void> {
    this.stopLoad();
    this.endStall(false);
    for (const t of this.modeTimers ?? []) clearTimeout(t);
    this.modeTimers?.clear();
    this.state = 'stopped';
    if (this.ackTimer) clearInterval(this.ackTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
    if (this.livenessTimer) clearTimeout(this.livenessTimer);
    this.livenessTimer = null;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      this.closeOwn(ws, 'done');
      await new Promise((r) => {
        const t = setTimeout(r, 2000);
        ws.once('close', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    } else ws?.terminate();
    // a connection left open by replace() that the server never closed: recorded as closed now (1006)
    for (const old of this.abandoned ?? []) old.terminate();
    this.wakeSyncedWaiters();
  }

  /**
   * Sends never answered become facts with outcome `none`; sends never written (the device
   * had no connection from their intended time on, e.g. it gave up reconnecting) are only
   * counted (`never_written`): the server never saw them.
   */
  finalizeSends(): void {
    for (const p of [...(this.pending?.values() ?? []), ...(this.queued ?? [])]) {
      if (p.fact.attempts > 0) this.o.recorder.fact(p.fact);
      else this.o.recorder.count('never_written');
    }
    this.pending?.clear();
    if (this.queued) this.queued.length = 0;
  }

  private wakeSyncedWaiters(): void {
    const waiters = this.syncedWaiters;
    this.syncedWaiters = undefined;
    for (const w of waiters ?? []) w();
  }

  // ---- connection ------------------------------------------------------------------

  private connect(): void {
    if (this.state === 'stopped' || this.state === 'gone') return;
    this.state = 'connecting';
    this.synced = false;
    this.conn = `pending:${this.client}:${++this.connSeq}`;
    this.connectStartedAt = Date.now();
    this.o.recorder.fact({ k: 'conn', client: this.client, conn: this.conn, event: 'connect', at: this.connectStartedAt });
    this.o.recorder.count('connects');
    this.welcomed = false;
    const urls = [this.o.url, ...(this.o.fallbackUrls ?? [])];
    // autoPong off: ws keeps a closure and its context per socket for it; wsHandlers.ping answers
    const ws = new WebSocket(urls[this.urlIndex % urls.length]!, { perMessageDeflate: false, localAddress: this.o.localAddress, autoPong: false });
    watchHandshake(ws, this.o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    this.ws = ws;
    this.owedPongs = 0;
    deviceOf.set(ws, this);
    const h = SimClient.wsHandlers;
    ws.on('open', h.open);
    ws.on('message', h.message);
    ws.on('ping', h.ping);
    this.heard(ws);
    ws.on('error', h.error);
    ws.on('close', h.close);
  }

  /**
   * One set of socket handlers for every device (each finds its device from the socket)
   * instead of five closures per connection: a fleet process holds thousands of devices.
   */
  private static readonly wsHandlers = {
    open(this: WebSocket): void {
      handshaking.delete(this);
      const c = deviceOf.get(this);
      if (!c) return;
      c.o.recorder.latency('connect', Date.now() - c.connectStartedAt);
      if (c.stall?.kind === 'throttle') c.throttle(this);
      void c.o.token().then((token) => {
        if (this.readyState === WebSocket.OPEN) this.send(JSON.stringify({ t: 'hello', v: 1, token }));
      });
    },
    message(this: WebSocket, data: WebSocket.RawData): void {
      const c = deviceOf.get(this);
      // a connection left open by replace(): the app no longer reads its frames
      if (!c || c.ws !== this) return;
      if (c.drain?.ws === this) c.drained(data);
      c.heard(this);
      c.onFrame(data.toString());
    },
    ping(this: WebSocket, data: Buffer): void {
      const c = deviceOf.get(this);
      if (!c) return;
      // as ws's autoPong, with its maxPendingAutoPongs: more than MAX_OWED_PONGS unwritten cuts the connection
      if (this.readyState === WebSocket.OPEN) {
        if (c.owedPongs >= MAX_OWED_PONGS) this.terminate();
        else {
          c.owedPongs++;
          // counted per connection: a pong of an earlier socket does not count against this one
          this.pong(data, true, () => {
            if (c.ws === this) c.owedPongs--;
          });
        }
      }
      c.heard(this);
    },
    error(this: WebSocket, err: Error): void {
      const c = deviceOf.get(this);
      const timedOutMs = handshakeTimedOut.get(this);
      const detail = timedOutMs !== undefined ? `opening handshake timed out (${timedOutMs} ms)` : err.message.slice(0, 200);
      c?.o.recorder.fact({ k: 'conn', client: c.client, conn: c.conn, event: 'error', at: Date.now(), detail });
    },
    close(this: WebSocket, code: number): void {
      deviceOf.get(this)?.onClose(this, code);
    },
  };

  /**
   * Client-side liveness (plan.livenessMs): anything from the server re-arms the timer; a
   * connection silent for that long — a paused or wedged node, a blackholed link — is
   * dropped as a real client would, and the reconnect logic takes over (one never
   * welcomed moves to the next node under failover).
   */
  private heard(ws: WebSocket): void {
    const ms = this.plan.livenessMs;
    if (!ms || this.ws !== ws) return;
    if (this.livenessTimer) this.livenessTimer.refresh();
    else
      this.livenessTimer = setTimeout(() => {
        this.livenessTimer = null;
        if (this.ws !== ws) return;
        this.o.recorder.count('liveness_timeouts');
        ws.terminate();
      }, ms);
  }

  private onClose(ws: WebSocket, code: number): void {
    if (this.drain?.ws === ws) this.endDrain('closed', code);
    if (this.ws !== ws) {
      const conn = abandonedConn.get(ws);
      if (conn === undefined || !this.abandoned?.delete(ws)) return;
      // the server's verdict on a replaced connection: PROTOCOL.md wants 4409
      this.o.recorder.fact({ k: 'conn', client: this.client, conn, event: 'close', at: Date.now(), code });
      this.o.recorder.count(`replaced_closes.${code}`);
      return;
    }
    this.detach();
    this.o.recorder.fact({ k: 'conn', client: this.client, conn: this.conn, event: 'close', at: Date.now(), code });
    this.o.recorder.count('closes');
    if (code === 4429) this.o.recorder.count('refused_4429');
    if (this.state === 'stopped' || this.state === 'gone') return;
    if (this.holdDown) {
      // a recorded drop: the device comes back at its recorded `connect`, not by backoff
      this.state = 'backoff';
      return;
    }
    // failover: a node that cannot even welcome us is tried again only after the others;
    // rotate: every reconnect goes to the next node
    if ((!this.welcomed || this.o.workload.reconnect.rotate) && this.o.fallbackUrls?.length) this.urlIndex++;
    if (code === 4409) {
      // PROTOCOL.md: a client closed with 4409 must not reconnect by itself
      this.state = 'replaced';
      this.wakeSyncedWaiters();
      return;
    }
    if (this.finalSyncClose === ws) {
      // the final sync closed it: reconnect now (presence-race's 0–4 s backoff cost its final sync 4 s)
      this.finalSyncClose = null;
      this.connect();
      return;
    }
    this.scheduleReconnect();
  }

  /** The device is done with its current connection (closed, or left open by replace()): what it had in flight goes out again on the next. */
  private detach(): void {
    this.ws = null;
    if (this.livenessTimer) clearTimeout(this.livenessTimer);
    this.livenessTimer = null;
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.ackTimer = null;
    // what was written but not answered goes out again, same cmid, after the reconnect
    if (this.pending?.size) {
      const queued = (this.queued ??= []);
      for (const p of this.pending.values()) {
        p.reqId = null;
        queued.push(p);
      }
      this.pending.clear();
    }
    const waiters = this.historyWaiters;
    this.historyWaiters = undefined;
    for (const w of waiters?.values() ?? []) w(null);
    for (const v of this.convs?.values() ?? []) v.filling = 0;
  }

  /**
   * workload replaceRate: the device opens a new connection on the next node while its
   * current one stays open (a phone that moved networks: the app drops the old socket
   * without closing it). The old one is read only for its close, which the server must
   * send with 4409 once the new one is welcomed (a `replace` fact names it).
   */
  private replace(): void {
    const ws = this.ws;
    if (this.state !== 'open' || !this.welcomed || !ws || ws.readyState !== WebSocket.OPEN || !this.o.fallbackUrls?.length) return;
    this.o.recorder.fact({ k: 'replace', client: this.client, conn: this.conn, at: Date.now() });
    this.o.recorder.count('replaces');
    abandonedConn.set(ws, this.conn);
    (this.abandoned ??= new Set()).add(ws);
    this.detach();
    this.urlIndex++;
    this.connect();
  }

  private scheduleReplace(): void {
    this.replaceTimer = setTimeout(() => {
      this.replaceTimer = null;
      if (!this.sending) return;
      this.replace();
      this.scheduleReplace();
    }, this.rng.expMs(this.plan.replaceRate!));
  }

  private scheduleReconnect(): void {
    const r = this.o.workload.reconnect;
    if (this.attempts >= r.attempts) {
      this.state = 'failed';
      this.wakeSyncedWaiters();
      return;
    }
    // exponential backoff with full jitter
    const delay = this.rng.next() * Math.min(r.capMs, r.baseMs * 2 ** this.attempts);
    this.attempts++;
    this.state = 'backoff';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  // ---- frames ----------------------------------------------------------------------

  private onFrame(text: string): void {
    let f: ServerFrame;
    try {
      // the server's own codec: a frame it would not write is not taken as one here
      f = decodeServerFrame(text);
    } catch {
      // counted and reported: a server breaking the protocol must not pass unseen
      this.o.recorder.count('bad_frames');
      return;
    }
    const now = Date.now();
    switch (f.t) {
      case 'welcome':
        this.conn = f.conn;
        this.node = f.node;
        this.state = 'open';
        this.welcomed = true;
        this.o.recorder.fact({ k: 'conn', client: this.client, conn: this.conn, event: 'welcome', at: now, node: f.node });
        this.o.recorder.count('welcomes');
        this.o.recorder.latency('welcome', now - this.connectStartedAt);
        // a recorded plan subscribes at its first connection only: its later subscriptions are its steps, as the capture shows them
        if (this.plan.presenceSubs.length && !(this.plan.script && this.everWelcomed)) this.request({ t: 'presence.sub', users: this.plan.presenceSubs });
        this.everWelcomed = true;
        if (this.ackMode === 'batched' || (typeof this.ackMode === 'object' && this.ackMode.kind === 'ahead' && !this.ackMode.once)) this.ackTimer = setInterval(() => void this.flushAcks(), ACK_BATCH_MS);
        return;
      case 'synced':
        this.synced = true;
        this.attempts = 0;
        this.o.recorder.fact({ k: 'conn', client: this.client, conn: this.conn, event: 'synced', at: now });
        this.o.recorder.latency(this.everSynced ? 'reconnect_synced' : 'synced', now - this.connectStartedAt);
        this.everSynced = true;
        this.wakeSyncedWaiters();
        this.flushQueued();
        if (this.deferred?.length && this.sending) for (const step of this.deferred.splice(0)) this.doStep(step);
        return;
      case 'conv': {
        const { conv, cursor } = f;
        this.o.recorder.fact({ k: 'conv', client: this.client, conn: this.conn, conv, epoch: f.epoch, cursor, head: f.head, at: now });
        (this.convs ??= new Map()).set(conv, { epoch: f.epoch, contig: cursor, maxSeq: cursor, acked: cursor, filling: 0 });
        return;
      }
      case 'msg':
        return this.onMsg(f, f.conv, now, this.synced ? 'live' : 'backlog');
      case 'gap': {
        const { conv, from, to } = f;
        const trimmed = f.trimmed === true;
        this.o.recorder.fact({ k: 'gap', client: this.client, conn: this.conn, conv, from, to, trimmed, at: now });
        const v = this.convs?.get(conv);
        if (v) {
          v.maxSeq = Math.max(v.maxSeq, to);
          if (trimmed) {
            if (v.contig >= from - 1) v.contig = Math.max(v.contig, to);
          } else void this.fillGap(conv, from, to);
        }
        return;
      }
      case 'presence':
        this.o.recorder.fact({ k: 'presence', client: this.client, conn: this.conn, user: f.user, status: f.status, v: f.v, at: now });
        return;
      case 'sent':
      case 'error':
      case 'page':
      case 'ok':
      case 'pong':
        return this.onReply(f, now);
      case 'read':
        return;
    }
  }

  /** A `msg` frame, or a message of a history page (`epochOverride`: the page's epoch). */
  private onMsg(f: StoredMessage, conv: string, now: number, via: 'live' | 'backlog' | 'history', epochOverride?: string): void {
    const seq = f.seq;
    let v = this.convs?.get(conv);
    if (!v && via !== 'history') {
      // a conversation that started during the connection without a conv frame: protocol
      // says a conv frame comes first, so this is recorded as is and the order checker judges
      v = { epoch: '', contig: seq - 1, maxSeq: seq - 1, acked: 0, filling: 0 };
      (this.convs ??= new Map()).set(conv, v);
    }
    const epoch = epochOverride ?? v?.epoch ?? '';
    this.o.recorder.fact({ k: 'recv', client: this.client, conn: this.conn, conv, epoch, seq, from: f.from, cmid: f.cmid, at: now, via });
    this.o.recorder.count('delivered');
    const i = intendedOf(f.body);
    if (i !== null && via !== 'history') this.o.recorder.latency('delivered', now - i);
    if (!v || via === 'history') return;
    v.maxSeq = Math.max(v.maxSeq, seq);
    if (!v.filling && seq === v.contig + 1) v.contig = seq;
    if (v.ackWant !== undefined) this.ackWanted(conv, v);
    const mode = this.ackMode;
    if (mode === 'immediate' && v.contig > v.acked) {
      v.acked = v.contig;
      this.ws?.send(JSON.stringify({ t: 'ack', conv, seq: v.contig }));
      this.noteAckForWindows(conv, v.contig);
    } else if (typeof mode === 'object' && mode.kind === 'late') this.ackLate(conv, v, mode.delayMs);
    else if (typeof mode === 'object' && mode.kind === 'ahead' && mode.once && !v.aheadOnce && v.contig > v.acked) {
      // the conv frame made a fresh view, so this is the first ack ahead of this connection here
      v.aheadOnce = true;
      v.acked = v.contig;
      this.ackAhead(conv, v, mode.by);
    }
  }

  private async fillGap(conv: string, from: number, to: number): Promise<void> {
    const v = this.convs?.get(conv);
    if (!v) return;
    v.filling++;
    let after = from - 1;
    try {
      for (let guard = 0; guard < 10_000; guard++) {
        const page = await this.requestReply({ t: 'history', conv, after, before: to + 1, limit: 100 });
        if (page?.t !== 'page') return;
        const msgs = page.msgs;
        const now = Date.now();
        for (const m of msgs) this.onMsg(m, conv, now, 'history', page.epoch);
        if (!msgs.length || !page.more) break;
        after = msgs[msgs.length - 1]!.seq;
      }
      if (--v.filling === 0) {
        v.contig = Math.max(v.contig, v.maxSeq);
        if (v.ackWant !== undefined) this.ackWanted(conv, v);
      }
    } catch {
      v.filling = Math.max(0, v.filling - 1);
    }
  }

  private async waitFills(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      // stopped (the run gave up on its final sync: no node is left to answer the fill)
      if (this.state === 'stopped') return;
      if (![...(this.convs?.values() ?? [])].some((v) => v.filling > 0)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async flushAcks(): Promise<void> {
    const ws = this.ws;
    const mode = this.ackMode;
    // late acks go out on their own timers only: a closing app loses the ones not yet due
    // nor do acks ahead `once`: only with a connection's first message (a final sync or a leave adds none)
    if (!ws || ws.readyState !== WebSocket.OPEN || mode === 'never' || (typeof mode === 'object' && (mode.kind === 'late' || (mode.kind === 'ahead' && mode.once)))) return;
    for (const [conv, v] of this.convs ?? []) {
      if (v.contig > v.acked) {
        v.acked = v.contig;
        if (typeof mode === 'object' && mode.kind === 'ahead') this.ackAhead(conv, v, mode.by);
        else {
          ws.send(JSON.stringify({ t: 'ack', conv, seq: v.contig }));
          this.noteAckForWindows(conv, v.contig);
        }
      }
    }
  }

  // ---- requests ----------------------------------------------------------------------

  private request(frame: Record<string, unknown>): string {
    const id = `q${++this.reqSeq}`;
    this.ws?.send(JSON.stringify({ ...frame, id }));
    return id;
  }

  /** Resolves with the reply echoing the request's id, or null when the connection closed first. */
  private requestReply(frame: Record<string, unknown>): Promise<ServerFrame | null> {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return reject(new Error('not connected'));
      const id = this.request(frame);
      const timer = setTimeout(() => {
        this.historyWaiters?.delete(id);
        reject(new Error('request timed out'));
      }, this.o.requestTimeoutMs ?? 15_000);
      (this.historyWaiters ??= new Map<string, (f: ServerFrame | null) => void>()).set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  private onReply(f: FrameOf<'sent' | 'error' | 'page' | 'ok' | 'pong'>, now: number): void {
    const id = f.id;
    if (!id) return;
    const waiter = this.historyWaiters?.get(id);
    if (waiter) {
      this.historyWaiters!.delete(id);
      return waiter(f);
    }
    const p = this.pending?.get(id);
    if (!p) return;
    this.pending!.delete(id);
    const fact = p.fact;
    fact.answeredAt = now;
    if (f.t === 'sent') {
      fact.outcome = f.dup ? 'dup' : 'sent';
      fact.seq = f.seq;
      this.o.recorder.latency('sent', now - fact.intendedAt);
      this.o.recorder.count('sent');
      this.o.recorder.fact(fact);
      return;
    }
    if (f.t === 'error') {
      const code = f.code;
      this.o.recorder.count('errors');
      // every answer, retried ones too: the report breaks errors down by code
      this.o.recorder.count(`error.${code}`);
      if (f.retryable && code !== 'rate_limited') {
        // unknown outcome: retry with the same cmid (PROTOCOL.md guarantee 2)
        fact.code = code;
        p.reqId = null;
        p.notBefore = now + Math.min(RESEND_CAP_MS, RESEND_BASE_MS * 2 ** Math.max(0, fact.attempts - 1)) * (0.75 + 0.5 * this.resendRng.next());
        (this.queued ??= []).push(p);
        this.flushQueued();
        return;
      }
      fact.outcome = 'error';
      fact.code = code;
      this.o.recorder.fact(fact);
    }
  }

  // ---- in-flight windows (facts: window, ack; judged by harness/checks/inflight.ts) ----

  /**
   * A fault step is about to hit `node` (undefined: every node). When this device is
   * connected there, records what it has at risk — sends written on this connection and not
   * answered, messages held above the last ack it wrote — and from then on the acks it
   * writes in those conversations, until one covers them. Returns the counts.
   */
  recordWindow(w: { id: string; fault: string; node?: string }): { connected: boolean; sends: number; unacked: number } {
    if (this.state !== 'open' || !this.ws || (w.node !== undefined && this.node !== w.node)) return { connected: false, sends: 0, unacked: 0 };
    const sends = [...(this.pending?.values() ?? [])].map((p) => ({ conv: p.fact.conv, cmid: p.fact.cmid, sentAt: p.fact.sentAt, attempts: p.fact.attempts }));
    const unacked: { conv: string; epoch: string; from: number; to: number }[] = [];
    for (const [conv, v] of this.convs ?? []) {
      const ever = this.ackedEver?.get(conv);
      const acked = Math.max(v.acked, ever && ever.epoch === v.epoch ? ever.seq : 0);
      if (v.contig <= acked) continue;
      unacked.push({ conv, epoch: v.epoch, from: acked + 1, to: v.contig });
      const watch = (this.ackWatch ??= new Map());
      watch.set(conv, Math.max(watch.get(conv) ?? 0, v.contig));
    }
    if (sends.length || unacked.length) this.o.recorder.fact({ k: 'window', window: w.id, fault: w.fault, client: this.client, conn: this.conn, node: this.node, at: Date.now(), sends, unacked });
    return { connected: true, sends: sends.length, unacked: unacked.reduce((n, u) => n + u.to - u.from + 1, 0) };
  }

  /** An ack written (`seq`; `held`: what the device held, when it acked above that). */
  private noteAckForWindows(conv: string, seq: number, held = seq): void {
    const epoch = this.convs?.get(conv)?.epoch;
    if (epoch !== undefined) {
      const ever = this.ackedEver?.get(conv);
      if (!ever || ever.epoch !== epoch || ever.seq < held) (this.ackedEver ??= new Map()).set(conv, { epoch, seq: held });
    }
    const watch = this.ackWatch?.get(conv);
    if (watch === undefined) return;
    this.o.recorder.fact({ k: 'ack', client: this.client, conn: this.conn, conv, seq, at: Date.now() });
    if (seq >= watch) this.ackWatch!.delete(conv);
  }

  // ---- load --------------------------------------------------------------------------

  private scheduleSend(after: number): void {
    const stages = this.o.workload.stages;
    const peak = this.maxStageTarget();
    const at = after + this.rng.expMs(this.plan.sendRate * peak);
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      if (!this.sending) return;
      // stages: a Poisson process at the peak rate, each arrival kept with probability
      // target(t)/peak (thinning), so the rate follows the ramp and stays open-loop
      if (!stages || this.rng.next() * peak < stageTarget(stages, at - this.loadStartAt)) this.enqueueSend(at);
      this.scheduleSend(at);
    }, Math.max(0, at - Date.now()));
  }

  private maxStageTarget(): number {
    const stages = this.o.workload.stages;
    return stages ? Math.max(...stages.map((s) => s.target)) : 1;
  }

  private enqueueSend(intendedAt: number): void {
    const conv = this.plan.convs[this.rng.int(this.plan.convs.length)]!;
    const tag = this.plan.tag ? `${this.plan.tag}.` : '';
    const cmid = this.o.workload.cmids === 'counter' ? `${this.plan.device}.${tag}${++this.sendSeq}` : `${this.plan.user}.${this.plan.device}.${tag}${++this.sendSeq}`;
    const p: PendingSend = {
      fact: { k: 'send', client: this.client, conn: this.conn, conv, cmid, intendedAt, sentAt: 0, attempts: 0, outcome: 'none' },
      bytes: this.plan.body ? drawBodySize(this.plan.body, this.bodyRng) : this.o.workload.bodyBytes,
      reqId: null,
    };
    (this.queued ??= []).push(p);
    this.flushQueued();
  }

  private flushQueued(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state !== 'open' || !this.synced) return;
    const now = Date.now();
    let due = Infinity;
    const waiting: PendingSend[] = [];
    if (!this.queued?.length) return;
    for (const p of this.queued.splice(0)) {
      if (p.notBefore !== undefined && p.notBefore > now) {
        waiting.push(p);
        due = Math.min(due, p.notBefore);
        continue;
      }
      const id = `s${++this.reqSeq}`;
      p.reqId = id;
      p.fact.conn = this.conn;
      p.fact.sentAt = now;
      p.fact.attempts++;
      (this.pending ??= new Map()).set(id, p);
      ws.send(`{"t":"send","id":"${id}","conv":${JSON.stringify(p.fact.conv)},"cmid":${JSON.stringify(p.fact.cmid)},"body":${JSON.stringify(bodyFor(p.fact.intendedAt, p.bytes))}}`);
    }
    if (waiting.length) {
      this.queued.push(...waiting);
      if (this.resendTimer) clearTimeout(this.resendTimer);
      this.resendTimer = setTimeout(() => {
        this.resendTimer = null;
        this.flushQueued();
      }, due - now);
      this.resendTimer.unref();
    }
  }

  // ---- a recorded plan (harness/fleet/recorded.ts) ---------------------------------------

  /** Runs the plan's steps in order, each at its time from the start of the load. */
  private nextStep(): void {
    const steps = this.plan.script!;
    const step = steps[this.stepIndex];
    if (!step || !this.sending) return;
    this.stepTimer = setTimeout(() => {
      this.stepTimer = null;
      if (!this.sending) return;
      this.stepIndex++;
      this.doStep(step);
      this.nextStep();
    }, Math.max(0, this.loadStartAt + step.at - Date.now()));
  }

  /**
   * One recorded step. What cannot be done as recorded (an ack above what this run holds, a
   * drop of a connection that is not open, a connect while connected) is done as far as it
   * can and counted (`replay_*`): the replay's divergences from the capture.
   */
  private doStep(step: RecordedStep): void {
    const ws = this.ws;
    const open = ws !== null && ws.readyState === WebSocket.OPEN && this.state === 'open';
    if (DEFERRABLE.has(step.op) && !this.holdDown && (this.state === 'connecting' || this.state === 'backoff' || (open && !this.synced))) {
      // The original device had its connection (it wrote this frame on it); this one is still connecting or
      // syncing — a replay's reconnect takes as long as this machine makes it. Done once synced, in order, as
      // sends wait: skipped, they left a smoke replay with a quarter fewer presence subscriptions (the ones
      // a device makes right after each reconnect) and a tenth fewer acks.
      if ((this.deferred?.length ?? 0) < MAX_DEFERRED) {
        (this.deferred ??= []).push(step);
        this.o.recorder.count('replay_deferred');
      } else this.o.recorder.count(`replay_${step.op}_skipped`);
      return;
    }
    switch (step.op) {
      case 'send': {
        const p: PendingSend = { fact: { k: 'send', client: this.client, conn: this.conn, conv: step.conv, cmid: step.cmid, intendedAt: Date.now(), sentAt: 0, attempts: 0, outcome: 'none' }, bytes: step.bytes, reqId: null };
        (this.queued ??= []).push(p);
        return this.flushQueued();
      }
      case 'ack': {
        const v = this.convs?.get(step.conv);
        if (!open || !v) return this.o.recorder.count('replay_ack_skipped');
        const superseded = v.ackWant !== undefined;
        delete v.ackWant;
        const seq = Math.min(step.seq, v.contig);
        if (seq < step.seq) {
          // The original device held it by then, this one not yet (its deliveries run a little behind the
          // original's): the ack is written once it does, as one frame for this step — not capped at what
          // it holds (and dropped when that was nothing new), which acked less than the original did and
          // left more backlog at a reconnect. An earlier wait this step supersedes writes what is held now
          // (a replay's seqs may differ: a seq never reached must not hold the device's acks back for good).
          this.o.recorder.count('replay_ack_short');
          v.ackWant = step.seq;
          if (!superseded || seq <= v.acked) return;
        }
        if (seq <= v.acked) return;
        v.acked = seq;
        ws.send(JSON.stringify({ t: 'ack', conv: step.conv, seq }));
        this.noteAckForWindows(step.conv, seq);
        return;
      }
      case 'history': {
        if (!open) return this.o.recorder.count('replay_history_skipped');
        const { op: _op, at: _at, ...q } = step;
        this.requestReply({ t: 'history', ...q }).then(
          (page) => {
            if (page?.t !== 'page') return;
            const now = Date.now();
            for (const m of page.msgs) this.onMsg(m, step.conv, now, 'history', page.epoch);
          },
          () => {},
        );
        return;
      }
      case 'drop': {
        if (!ws || ws.readyState !== WebSocket.OPEN) return this.o.recorder.count('replay_drop_not_open');
        this.holdDown = true;
        this.o.recorder.count('replay_drops');
        if (step.code === 1000) this.closeOwn(ws, 'replayed close');
        else ws.terminate();
        return;
      }
      case 'read': {
        const v = this.convs?.get(step.conv);
        if (!open || !v) return this.o.recorder.count('replay_read_skipped');
        // never a mark above what this run's device has seen (the server would clamp it to the head anyway)
        const seq = Math.min(step.seq, v.maxSeq);
        if (seq < step.seq) this.o.recorder.count('replay_read_short');
        ws.send(JSON.stringify({ t: 'read', conv: step.conv, seq }));
        return this.o.recorder.count('replay_reads');
      }
      case 'http-send':
        return void this.httpSend(step);
      case 'presence.sub':
      case 'presence.unsub':
        if (!open) return this.o.recorder.count('replay_presence_skipped');
        this.request({ t: step.op, users: step.users });
        return this.o.recorder.count(`replay_${step.op}`);
      case 'connect': {
        this.holdDown = false;
        if (this.state === 'open' || this.state === 'connecting') return this.o.recorder.count('replay_connect_already');
        if (this.state === 'stopped' || this.state === 'gone') return;
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.attempts = 0;
        this.o.recorder.count('replay_connects');
        return this.connect();
      }
    }
  }

  /**
   * A recorded HTTP send: POST /v1/messages on the device's node with its own token, the
   * recorded cmid and body size. Not retried here: a retry the original client made is a
   * step of its own in the capture. The answer becomes a send fact like a `sent`/`error`
   * frame's; no answer (the request failed) leaves its outcome unknown (`none`).
   */
  private async httpSend(step: Extract<RecordedStep, { op: 'http-send' }>): Promise<void> {
    const base = this.o.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const now = Date.now();
    const fact: SendFact = { k: 'send', client: this.client, conn: `http:${++this.httpSends}`, conv: step.conv, cmid: step.cmid, intendedAt: now, sentAt: now, attempts: 1, outcome: 'none' };
    this.o.recorder.count('replay_http_sends');
    try {
      const res = await httpCall(`${base}/v1/messages`, { method: 'POST', token: await this.o.token(), body: { conv: step.conv, cmid: step.cmid, body: bodyFor(now, step.bytes) }, timeoutMs: this.o.requestTimeoutMs ?? 10_000 });
      fact.answeredAt = Date.now();
      const body = JSON.parse(res.text) as { seq?: number; dup?: boolean; code?: string };
      if ((res.status === 200 || res.status === 201) && typeof body.seq === 'number') {
        fact.outcome = body.dup ? 'dup' : 'sent';
        fact.seq = body.seq;
        this.o.recorder.latency('sent', fact.answeredAt - now);
        this.o.recorder.count('sent');
      } else {
        fact.outcome = 'error';
        fact.code = body.code ?? `http_${res.status}`;
        this.o.recorder.count('errors');
        this.o.recorder.count(`error.${fact.code}`);
      }
    } catch {
      // no answer (refused, reset, timed out): the outcome is unknown, as for a send never answered
      delete fact.answeredAt;
      this.o.recorder.count('replay_http_send_failed');
    }
    this.o.recorder.fact(fact);
  }

  /** Writes a recorded ack that waited (ackWant) once the conversation holds it. */
  private ackWanted(conv: string, v: ConvView): void {
    const ws = this.ws;
    const seq = v.ackWant!;
    if (!ws || ws.readyState !== WebSocket.OPEN || seq > v.contig) return;
    delete v.ackWant;
    if (seq <= v.acked) return;
    v.acked = seq;
    ws.send(JSON.stringify({ t: 'ack', conv, seq }));
    this.noteAckForWindows(conv, seq);
    this.o.recorder.count('replay_ack_late');
  }

  private scheduleChurn(): void {
    const delay = this.rng.expMs(this.plan.churnRate);
    this.churnTimer = setTimeout(() => {
      this.churnTimer = null;
      if (!this.sending) return;
      if (this.state === 'open') this.drop();
      this.scheduleChurn();
    }, delay);
  }

  // ---- client modes (device groups: workload.deviceGroups) ------------------------------

  private get ackMode(): AckMode {
    return this.plan.ack ?? this.o.workload.ack;
  }

  private modeTimer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.modeTimers?.delete(t);
      fn();
    }, Math.max(0, ms));
    (this.modeTimers ??= new Set()).add(t);
  }

  /** `late`: acks what it holds now, `delayMs` later, on the same connection (a close loses it). */
  private ackLate(conv: string, v: ConvView, delayMs: number): void {
    const seq = v.contig;
    const ws = this.ws;
    if (seq <= v.acked) return;
    v.acked = seq;
    this.modeTimer(delayMs, () => {
      if (this.ws !== ws || ws?.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ t: 'ack', conv, seq }));
      this.noteAckForWindows(conv, seq);
    });
  }

  /**
   * `ahead`: says it holds `by` more than it does. The server must clamp it to the head it
   * knows when it handles the ack, so only messages stored by then may be skipped at a
   * later connect: the `ack_ahead` fact bounds that moment (`until`: the `ok`, or the
   * connection's end), and the lost checker holds the device to everything stored after it.
   * `contig` stays what the device really holds.
   */
  private ackAhead(conv: string, v: ConvView, by: number): void {
    const base = { k: 'ack_ahead' as const, client: this.client, conn: this.conn, conv, epoch: v.epoch, seq: v.contig + by, held: v.contig, at: Date.now() };
    // what it claims: the server may move the cursor that far (clamped to its head)
    this.noteAckForWindows(conv, base.seq, v.contig);
    this.requestReply({ t: 'ack', conv, seq: base.seq }).then(
      (f) => this.o.recorder.fact({ ...base, until: Date.now(), answered: f?.t === 'ok' }),
      () => this.o.recorder.fact({ ...base, until: Date.now(), answered: false }),
    );
  }

  private startMode(): void {
    const m = this.plan.mode;
    if (!m || m.kind === 'reads') return;
    if (m.kind === 'leave') return this.modeTimer(m.at, () => void this.leave());
    if (m.kind === 'visit') {
      this.modeTimer(m.at, () => {
        if (this.state !== 'away') return;
        this.state = 'idle';
        this.connect();
      });
      return this.modeTimer(m.at + m.durationMs, () => void this.leave());
    }
    this.modeTimer(m.at, () => {
      const at = Date.now();
      const end = at + m.durationMs;
      const socket = this.socketOf(this.ws);
      if (m.kind === 'pause') {
        // only the connection open now stops reading: the app froze; one opened later reads
        socket?.pause();
        this.stall = { kind: 'pause', at, end, release: () => socket?.resume() };
      } else {
        const release: (() => void)[] = [];
        this.stall = { kind: 'throttle', at, end, release: () => release.splice(0).forEach((r) => r()) };
        this.throttleBytesPerSec = m.bytesPerSec;
        this.throttleRelease = release;
        if (this.ws) this.throttle(this.ws);
      }
      this.modeTimer(m.durationMs, () => this.endStall());
    });
  }

  private throttleBytesPerSec = 0;
  private throttleRelease: (() => void)[] | undefined;

  /** Reads at most throttleBytesPerSec from this connection's socket (a tenth of it every 100 ms). */
  private throttle(ws: WebSocket): void {
    const socket = this.socketOf(ws);
    if (!socket) return;
    const slice = Math.max(1, Math.floor(this.throttleBytesPerSec / 10));
    let budget = slice;
    const onData = (chunk: Buffer) => {
      budget -= chunk.length;
      if (budget <= 0) socket.pause();
    };
    socket.on('data', onData);
    const tick = setInterval(() => {
      budget = Math.min(slice, budget + slice);
      if (budget > 0 && socket.isPaused()) socket.resume();
    }, 100);
    (this.throttleRelease ??= []).push(() => {
      clearInterval(tick);
      socket.off('data', onData);
      socket.resume();
    });
  }

  /**
   * Ends a read stall. Unless stopping, it first notes what the kernel holds of the open
   * connection (the rest of what waits the node kept: a `drain` fact, judged by `slow`); the
   * socket reads again only once that is read (a few ms, off the event loop).
   */
  private endStall(measure = true): void {
    const st = this.stall;
    if (!st) return;
    this.stall = null;
    const ws = this.ws;
    const socket = this.socketOf(ws);
    const release = () => {
      st.release();
      this.o.recorder.fact({ k: 'stall', client: this.client, mode: st.kind, at: st.at, end: Date.now() });
    };
    if (!measure || !ws || !socket || ws.readyState !== WebSocket.OPEN || socket.localPort === undefined || socket.remotePort === undefined) return release();
    const conn = this.conn;
    const pages = this.historyWaiters?.size ?? 0;
    const synced = this.synced;
    kernelQueues(socket.localPort, socket.remotePort).then(
      (kernel) => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN && this.state !== 'stopped') {
          const timer = setTimeout(() => this.endDrain('timeout'), 10_000);
          this.drain = { ws, conn, at: Date.now(), kernel, bytes: 0, frames: 0, pages, synced, timer };
        }
        release();
      },
      release,
    );
  }

  /** A frame read while draining: counted until the first message stored after the device read again. */
  private drained(data: WebSocket.RawData): void {
    const d = this.drain!;
    const buf = data as Buffer;
    // history pages are not live bytes (and those asked for after the stall were never waiting)
    if (buf.length > 11 && buf.toString('latin1', 0, 11) === '{"t":"page"') return;
    d.bytes += buf.length;
    d.frames++;
    // {"t":"msg",…,"ts":<store time>,…}: the first stored after the stall ended closes the backlog
    if (buf.length > 12 && buf.toString('latin1', 0, 12) === '{"t":"msg","') {
      const i = buf.lastIndexOf('"ts":');
      const ts = i < 0 ? NaN : parseInt(buf.toString('latin1', i + 5, i + 25), 10);
      if (ts >= d.at) this.endDrain('caught-up');
    }
  }

  private endDrain(ended: 'caught-up' | 'closed' | 'timeout', code?: number): void {
    const d = this.drain;
    if (!d) return;
    this.drain = null;
    clearTimeout(d.timer);
    this.o.recorder.fact({
      k: 'drain',
      client: this.client,
      conn: d.conn,
      at: d.at,
      ...(d.kernel ? { kernelBytes: d.kernel.rx + d.kernel.tx, rxQueue: d.kernel.rx, txQueue: d.kernel.tx } : {}),
      bytes: d.bytes,
      frames: d.frames,
      pages: d.pages,
      synced: d.synced,
      until: Date.now(),
      ended,
      ...(code !== undefined ? { code } : {}),
    });
  }

  private socketOf(ws: WebSocket | null): Socket | undefined {
    return (ws as unknown as { _socket?: Socket } | null)?._socket;
  }

  /**
   * `leave`: once synced (waiting at most 30 s), closes 1000 and never comes back. The
   * `gone` fact tells the checkers this device is owed only what was stored while it was
   * there (lost: stored at least unseenWithinMs before it left).
   */
  private async leave(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'gone') return;
    this.stopLoad();
    // a visitor not admitted (refused 4429, retrying) leaves at once; one welcomed finishes its sync first
    const synced = this.plan.mode?.kind === 'visit' && !(this.state === 'open' && this.welcomed) ? Promise.resolve() : this.whenSynced();
    await Promise.race([synced, new Promise((r) => this.modeTimer(30_000, () => r(undefined)))]);
    // stop() may have run while it waited
    if ((this.state as State) === 'stopped') return;
    const ws = this.ws;
    this.state = 'gone';
    this.o.recorder.fact({ k: 'gone', client: this.client, at: Date.now() });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (ws && ws.readyState === WebSocket.OPEN) {
      await this.flushAcks();
      this.closeOwn(ws, 'leaving');
    } else ws?.terminate();
    this.wakeSyncedWaiters();
  }
}

/** A body that carries its intended send time, so any receiver can measure send→delivered. */
export function bodyFor(intendedAt: number, bytes: number): string {
  const head = `{"i":${intendedAt},"p":"`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length - 2)) + '"}';
}

function intendedOf(body: string): number | null {
  if (!body.startsWith('{"i":')) return null;
  const end = body.indexOf(',', 5);
  const n = Number(body.slice(5, end));
  return Number.isFinite(n) ? n : null;
}
