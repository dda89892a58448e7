import type { Logger } from 'pino';
import type { RedisLinks } from '../store/links.ts';
import type { Store } from '../store/store.ts';

/**
 * Cross-node delivery on Redis pub/sub. The bus is lossy — a subscriber that reconnects
 * or a link that stalls misses messages — so the node publishes a heartbeat of its own
 * and, when it does not come back within STORE_TIMEOUT_MS or the subscriber reconnects,
 * asks for a resync (re-read heads, fill from the log).
 *
 * Payloads: a tab-separated header; a `msg` carries its frame after a newline.
 *   m conv epoch seq \n frame     — a stored message
 *   j conv epoch user atSeq       — a group join
 *   l conv epoch user atSeq       — a group leave
 *   p user status v ts            — a presence change
 *   r user conv seq originConn    — a read mark moved
 *   k user connId code            — close one connection (4409 replacement)
 *   K user device|*               — operator kick (4401)
 *   h incarnation n               — a node's heartbeat
 */
export interface BusHandlers {
  message(conv: string, epoch: string, seq: number, frame: string): void;
  join(conv: string, user: string, atSeq: number): void;
  leave(conv: string, user: string, atSeq: number): void;
  presence(user: string, status: string, v: number, ts: number): void;
  read(user: string, conv: string, seq: number, originConn: string): void;
  kick(user: string, connId: string, code: number): void;
  kickUser(user: string, device: string | null): void;
  /** the bus may have lost messages: re-read and fill */
  resync(reason: string): void;
}

export class Bus {
  private readonly links: RedisLinks;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly handlers: BusHandlers;
  private readonly incarnation: string;
  private readonly timeoutMs: number;
  private hbSent = 0;
  private hbSentAt = 0;
  private hbSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private wasDown = false;

  constructor(links: RedisLinks, store: Store, log: Logger, incarnation: string, timeoutMs: number, handlers: BusHandlers) {
    this.links = links;
    this.store = store;
    this.log = log;
    this.incarnation = incarnation;
    this.timeoutMs = timeoutMs;
    this.handlers = handlers;
    links.on('message', (p) => this.dispatch(p));
    links.on('busDown', () => (this.wasDown = true));
    links.on('busUp', () => {
      if (this.wasDown) handlers.resync('bus link reconnected');
      this.wasDown = false;
    });
  }

  start(): void {
    const every = Math.max(50, Math.floor(this.timeoutMs / 2));
    this.timer = setInterval(() => this.beat(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private beat(): void {
    const now = Date.now();
    if (!this.links.isBusUp || !this.links.isCmdUp) return;
    if (this.hbSeen < this.hbSent && now - this.hbSentAt > this.timeoutMs) {
      // Our own publication did not come back: the subscriber is stalled or lost.
      this.hbSeen = this.hbSent;
      this.links.reopenBus('own heartbeat did not come back');
      return;
    }
    if (this.hbSeen < this.hbSent) return;
    this.hbSent++;
    this.hbSentAt = now;
    this.store.publish(`h\t${this.incarnation}\t${this.hbSent}`).catch(() => {});
  }

  private dispatch(payload: string): void {
    try {
      const nl = payload.indexOf('\n');
      const head = (nl < 0 ? payload : payload.slice(0, nl)).split('\t');
      const h = this.handlers;
      switch (head[0]) {
        case 'm':
          return h.message(head[1]!, head[2]!, Number(head[3]), payload.slice(nl + 1));
        case 'j':
          return h.join(head[1]!, head[3]!, Number(head[4]));
        case 'l':
          return h.leave(head[1]!, head[3]!, Number(head[4]));
        case 'p':
          return h.presence(head[1]!, head[2]!, Number(head[3]), Number(head[4]));
        case 'r':
          return h.read(head[1]!, head[2]!, Number(head[3]), head[4]!);
        case 'k':
          return h.kick(head[1]!, head[2]!, Number(head[3]));
        case 'K':
          return h.kickUser(head[1]!, head[2] === '*' ? null : head[2]!);
        case 'h':
          if (head[1] === this.incarnation) this.hbSeen = Math.max(this.hbSeen, Number(head[2]));
          return;
        default:
          this.log.warn({ kind: head[0] }, 'unknown bus payload ignored');
      }
    } catch (err) {
      this.log.error({ err: String(err) }, 'bus dispatch failed');
    }
  }
}
