import { RespLink } from './resp-link.ts';

/** What the subscription tells the node's links (links.ts). */
export interface BusSubscriptionEvents {
  /** SUBSCRIBE answered: from now on the channel's messages arrive */
  up(): void;
  /** the connection dropped: what is published until the next `up` is lost */
  down(): void;
  message(payload: string): void;
}

/**
 * The bus's subscription to its channel on a RespLink (resp-link.ts) rather than ioredis:
 * every node decodes every message published on the bus, each 1:1 message included, and
 * ioredis spent 5.0–5.6 µs of CPU on one (a 200-byte payload, 2-core machine), this link
 * 2.3–2.5 µs; the node spends 80–100 µs a message in all.
 *
 * Each connection's handshake has timeoutMs, then its SUBSCRIBE as much again; it is up
 * once SUBSCRIBE is answered. A `ping` unanswered for timeoutMs, with no message meanwhile,
 * drops the connection, as does a passed deadline only after the poll phase that would read
 * its answer (resp-link.ts onTimer: a node that was itself frozen keeps its link).
 */
export class BusSubscription extends RespLink {
  private readonly channel: string;
  private readonly events: BusSubscriptionEvents;

  constructor(url: string, timeoutMs: number, channel: string, name: string, events: BusSubscriptionEvents) {
    super(url, timeoutMs, name, true);
    this.channel = channel;
    this.events = events;
  }

  /** Asks whether the subscription still answers; one PING at a time. */
  ping(): void {
    if (!this.isReady || this.inFlight > 0) return;
    // a missing answer drops the link by itself (the deadline)
    this.send(['PING']).catch(() => {});
  }

  /** Drops the connection; the next one subscribes again (after the reconnect delay). */
  reopen(): void {
    this.drop(new Error('bus link reopened'));
  }

  protected override afterHandshake(): Promise<unknown> {
    return this.send(['SUBSCRIBE', this.channel]);
  }

  protected override readyChanged(ready: boolean): void {
    if (ready) this.events.up();
    else this.events.down();
  }

  protected override pushed(payload: string): void {
    this.events.message(payload);
  }
}
