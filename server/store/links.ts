import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { BusSubscription } from './redis/bus-subscription.ts';
import { hotScripts, ScriptLink } from './redis/script-link.ts';
import { holdEveryTurn } from '../util/turn-cork.ts';
import { monoNow } from '../util/clock.ts';

/**
 * The node's Redis links: `cmd` for commands and scripts (ioredis), `sub` for the bus
 * (redis/bus-subscription.ts), and `fast` for the 1:1 hot scripts.
 *
 * All fail fast instead of queueing: no offline queue and no resend of unfulfilled
 * commands, so a command that timed out is never replayed behind the caller's back (the
 * caller already answered `unavailable`). `cmd` and `sub` are probed every STORE_TIMEOUT_MS/2;
 * a link that has not answered for STORE_TIMEOUT_MS (handshake included) is dropped and
 * reopened, because a stalled TCP link otherwise looks healthy for minutes.
 *
 * A lean link's handshake that fails (`sub`, `fast`: resp-link.ts onHandshake) is logged
 * once per outage (`warn`, with Redis's reason: a wrong password, a refused command),
 * not at every retry; it is logged again only after the link was up in between.
 *
 * The bus link is up once SUBSCRIBE is answered, with no check that Redis has finished
 * loading its data (the INFO ready check ioredis made). That is harmless: a Redis still
 * loading accepts SUBSCRIBE and PUBLISH (both are allowed while loading), so what is
 * published from then on arrives; the reads of the resync that follows busUp after an
 * outage (bus.ts) fail meanwhile (the command link waits for its ready check, a lean link's
 * read is answered LOADING), and a failed resync is run again 500 ms
 * later until one succeeds (hub.ts requestResync, util/coalesced.ts), so what was stored
 * during the outage is still filled from the log.
 */
export interface LinksEvents {
  /** the cmd link became usable (first time or after an outage) */
  up: [];
  down: [];
  /** the bus link (re)subscribed: whatever was published meanwhile may be lost */
  busUp: [];
  busDown: [];
  message: [payload: string];
}

export class RedisLinks extends EventEmitter<LinksEvents> {
  readonly cmd: Redis;
  readonly sub: BusSubscription;
  /** the lean link for the 1:1 hot scripts (redis/script-link.ts); null where it cannot speak the URL */
  readonly fast: ScriptLink | null;
  private readonly timeoutMs: number;
  private probeTimer: NodeJS.Timeout | null = null;
  private lastCmdOk = monoNow();
  /** when the command link's current connection began its handshake (ioredis 'connect': TCP up) */
  private cmdHandshakeAt = monoNow();
  private cmdUp = false;
  private subUp = false;
  private closed = false;

  private readonly log: Logger;

  /**
   * `nodeId` names both connections in Redis (CLIENT SETNAME `imstorm-cmd-<node>`,
   * `imstorm-bus-<node>`), so an operator's CLIENT LIST, or a fault drill, can tell one
   * node's links from another's.
   */
  constructor(url: string, timeoutMs: number, channel: string, log: Logger, nodeId = '') {
    super();
    this.log = log;
    this.timeoutMs = timeoutMs;
    const base: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      enableReadyCheck: true,
      retryStrategy: (times) => Math.min(100 * times, 1000),
      reconnectOnError: () => false,
    };
    const suffix = nodeId ? `-${nodeId}` : '';
    this.cmd = new Redis(url, { ...base, connectionName: `imstorm-cmd${suffix}` });
    this.sub = new BusSubscription(url, timeoutMs, channel, `imstorm-bus${suffix}`, {
      up: () => this.setSub(true),
      down: () => this.setSub(false),
      message: (payload) => this.emit('message', payload),
    });
    this.fast = ScriptLink.supports(url) ? new ScriptLink(url, timeoutMs, Object.values(hotScripts), `imstorm-fast${suffix}`) : null;
    this.reportHandshakes(this.sub, 'bus');
    if (this.fast) this.reportHandshakes(this.fast, 'fast');
    // ioredis emits 'error' for every failed reconnect; the probe and the state
    // transitions below are what we log.
    this.cmd.on('error', () => {});
    this.cmd.on('connect', () => {
      this.cmdHandshakeAt = monoNow();
      // a new socket each (re)connect; what ioredis writes on it leaves once a turn
      if (this.cmd.stream) holdEveryTurn(this.cmd.stream);
    });
    this.cmd.on('ready', () => this.setCmd(true));
    this.cmd.on('close', () => this.setCmd(false));
  }

  get isCmdUp(): boolean {
    return this.cmdUp;
  }
  get isBusUp(): boolean {
    return this.subUp;
  }

  start(): void {
    this.cmd.connect().catch(() => {});
    this.sub.start();
    this.fast?.start();
    this.probeTimer = setInterval(() => void this.probe(), Math.max(25, Math.floor(this.timeoutMs / 2)));
    this.probeTimer.unref();
  }

  /** Drops and reopens the bus link (used when the node's own heartbeat did not come back). */
  reopenBus(reason: string): void {
    if (this.closed) return;
    this.log.warn({ reason }, 'reopening the bus link');
    this.sub.reopen();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.cmd.disconnect(false);
    this.sub.close();
    this.fast?.close();
  }

  private setCmd(up: boolean): void {
    if (up === this.cmdUp) return;
    this.cmdUp = up;
    if (up) this.lastCmdOk = monoNow();
    this.log[up ? 'info' : 'warn']({ link: 'cmd' }, up ? 'redis link up' : 'redis link down');
    this.emit(up ? 'up' : 'down');
  }

  /** A failed handshake is logged once, until the link has been up again. */
  private reportHandshakes(link: BusSubscription | ScriptLink, name: string): void {
    let reported = false;
    link.onHandshake = (failure) => {
      if (failure === null) reported = false;
      else if (!reported && !this.closed) {
        reported = true;
        this.log.warn({ link: name, reason: failure }, 'redis link handshake failed; trying again until it succeeds');
      }
    };
  }

  private setSub(up: boolean): void {
    if (up === this.subUp) return;
    this.subUp = up;
    this.log[up ? 'info' : 'warn']({ link: 'bus' }, up ? 'bus link up' : 'bus link down');
    this.emit(up ? 'busUp' : 'busDown');
  }

  private async probe(): Promise<void> {
    if (this.closed) return;
    // the bus link times its PING itself (a passed deadline is checked again after a poll phase)
    this.sub.ping();
    await this.probeCmd(monoNow());
  }

  /**
   * A link that answers is pinged; one that stopped answering for STORE_TIMEOUT_MS is dropped
   * and reopened. A handshake (CLIENT SETNAME/SETINFO and the INFO ready check) gets
   * STORE_TIMEOUT_MS from its own start. A link waiting to
   * reconnect, or still opening its TCP connection, is ioredis's (its retry timer,
   * connectTimeout). The staleness of an answering link is never held against a new
   * connection's handshake: that cut every handshake slower than what was left of the
   * timeout once the reconnect delay had grown to its 1 s cap, so a node on a slow (busy)
   * Redis link could stay without its store long after Redis was back (`imstorm explore`:
   * 503s on every node after Redis was killed or paused; test/integration/redis-bounce.test.ts).
   */
  private async probeCmd(now: number): Promise<void> {
    const link = this.cmd;
    if (link.status === 'ready') {
      const sentAt = monoNow();
      try {
        await link.ping();
        this.lastCmdOk = monoNow();
        return;
      } catch {
        // falls through to the staleness check
      }
      const failedAt = monoNow();
      // A ping whose timeout ran well after it was due (a quarter of STORE_TIMEOUT_MS late)
      // timed out while this node itself was frozen (SIGSTOP, a long GC, a starved core):
      // timers run before the poll phase that reads the socket, so its answer may be waiting
      // unread, and it says nothing about the link. Dropping here cut every node's command
      // link, and with it its presence lease, after the nodes of a 100k bench were frozen for
      // 2.6–10 s (connects answered 1013 for a second; README "The ramp alone"). The
      // staleness counts from now; the next ping decides.
      if (failedAt - sentAt - this.timeoutMs > this.timeoutMs / 4) {
        this.lastCmdOk = failedAt;
        return;
      }
      if (failedAt - this.lastCmdOk > this.timeoutMs) this.drop(now);
      return;
    }
    if (this.closed) return;
    if (link.status === 'connect' && now - this.cmdHandshakeAt > this.timeoutMs) this.drop(now);
    // nothing would ever reconnect a link that ended (a disconnect caught between ioredis's
    // connect() and its socket): start it again
    else if (link.status === 'end') link.connect().catch(() => {});
  }

  private drop(now: number): void {
    if (this.closed) return;
    this.lastCmdOk = now;
    this.setCmd(false);
    this.cmd.disconnect(true);
  }
}
