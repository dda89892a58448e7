import type { Logger } from 'pino';
import type { BusLink } from './link.ts';
import { decodeBusPayload, type BusPayload } from './payloads.ts';
import { monoNow } from '../util/clock.ts';

/**
 * Cross-node delivery over a lossy BusLink (link.ts). The node publishes a heartbeat of
 * its own and, when it does not come back within STORE_TIMEOUT_MS or the link comes back
 * after a drop, asks for a resync (re-read heads, fill from the log). Payloads and their
 * text form: payloads.ts.
 */
export interface BusHandlers {
  message(conv: string, epoch: string, seq: number, frame: string): void;
  join(conv: string, user: string, atSeq: number): void;
  leave(conv: string, user: string, atSeq: number): void;
  presence(user: string, status: 'online' | 'offline', v: number, ts: number): void;
  read(user: string, conv: string, seq: number, originConn: string): void;
  kick(user: string, connId: string, code: number): void;
  kickUser(user: string, device: string | null): void;
  /** the link dropped: what follows may come after lost payloads */
  busDown(): void;
  /** the bus may have lost messages: re-read and fill */
  resync(reason: string): void;
}

export class Bus {
  private readonly link: BusLink;
  private readonly log: Logger;
  private readonly handlers: BusHandlers;
  private readonly incarnation: string;
  private readonly timeoutMs: number;
  private hbSent = 0;
  private hbSentAt = 0;
  private hbSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private wasDown = false;

  constructor(link: BusLink, log: Logger, incarnation: string, timeoutMs: number, handlers: BusHandlers) {
    this.link = link;
    this.log = log;
    this.incarnation = incarnation;
    this.timeoutMs = timeoutMs;
    this.handlers = handlers;
    link.on('payload', (p) => this.dispatch(p));
    link.on('down', () => {
      this.wasDown = true;
      handlers.busDown();
    });
    link.on('up', () => {
      // a heartbeat published before the new subscription may have gone with the old one;
      // waiting for it would reopen a bus that just came back (a second drop and resync a
      // STORE_TIMEOUT_MS or so after the first: test/replay/incident.test.ts saw one in CI).
      // The next heartbeat judges the new subscription.
      this.hbSeen = this.hbSent;
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

  /** For payloads no store write carries (operator kicks). */
  publish(payload: BusPayload): Promise<void> {
    return this.link.publish(payload);
  }

  private beat(): void {
    const now = monoNow();
    if (!this.link.isUp) return;
    if (this.hbSeen < this.hbSent && now - this.hbSentAt > this.timeoutMs) {
      // Our own publication did not come back: the subscriber is stalled or lost.
      this.hbSeen = this.hbSent;
      this.link.reopen('own heartbeat did not come back');
      return;
    }
    if (this.hbSeen < this.hbSent) return;
    const n = ++this.hbSent;
    this.hbSentAt = now;
    this.link.publish({ k: 'h', incarnation: this.incarnation, n }).catch(() => {
      // Rejected: it may never have reached Redis (the command link dropped while the
      // subscription stayed up), and waiting for it would reopen a healthy subscription.
      // The next heartbeat judges the subscription instead.
      if (this.hbSent === n) this.hbSeen = Math.max(this.hbSeen, n);
    });
  }

  private dispatch(text: string): void {
    let p: BusPayload;
    try {
      p = decodeBusPayload(text);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'bus payload ignored');
      return;
    }
    const h = this.handlers;
    try {
      switch (p.k) {
        case 'm':
          return h.message(p.conv, p.epoch, p.seq, p.frame);
        case 'j':
          return h.join(p.conv, p.user, p.atSeq);
        case 'l':
          return h.leave(p.conv, p.user, p.atSeq);
        case 'p':
          return h.presence(p.user, p.status, p.v, p.ts);
        case 'r':
          return h.read(p.user, p.conv, p.seq, p.originConn);
        case 'k':
          return h.kick(p.user, p.connId, p.code);
        case 'K':
          return h.kickUser(p.user, p.device);
        case 'h':
          if (p.incarnation === this.incarnation) this.hbSeen = Math.max(this.hbSeen, p.n);
          return;
      }
    } catch (err) {
      this.log.error({ err: String(err), kind: p.k }, 'bus dispatch failed');
    }
  }
}
