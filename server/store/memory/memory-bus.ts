import { EventEmitter } from 'node:events';
import { ProtocolError } from '../../protocol/codes.ts';
import type { BusLink, BusLinkEvents } from '../../bus/link.ts';
import { encodeBusPayload, type BusPayload } from '../../bus/payloads.ts';

/**
 * The bus in memory: one broker, one link per simulated node, keeping the contract of
 * server/bus/link.ts. Payloads wait in each link's inbox; `auto` delivers them on a
 * microtask, in order, and a test can instead take them one at a time (`deliverNext`),
 * lose them (`dropNext`, `loseAll`), or take a link down and up again, to explore what
 * the delivery core does with a lossy bus.
 */
export class MemoryBroker {
  readonly links = new Set<MemoryBusLink>();
  /** deliver every payload on a microtask (false: the test delivers them) */
  auto: boolean;

  constructor(opts: { auto?: boolean } = {}) {
    this.auto = opts.auto ?? true;
  }

  link(name: string): MemoryBusLink {
    const l = new MemoryBusLink(this, name);
    this.links.add(l);
    return l;
  }

  publish(text: string): void {
    for (const l of this.links) l.enqueue(text);
  }

  /** Payloads waiting in any inbox. */
  get pending(): number {
    let n = 0;
    for (const l of this.links) n += l.inbox.length;
    return n;
  }
}

export class MemoryBusLink extends EventEmitter<BusLinkEvents> implements BusLink {
  readonly name: string;
  readonly inbox: string[] = [];
  private readonly broker: MemoryBroker;
  private up = true;
  private scheduled = false;

  constructor(broker: MemoryBroker, name: string) {
    super();
    this.broker = broker;
    this.name = name;
  }

  get isUp(): boolean {
    return this.up;
  }

  async publish(payload: BusPayload): Promise<void> {
    if (!this.up) throw new ProtocolError('unavailable', 'bus link down');
    this.broker.publish(encodeBusPayload(payload));
  }

  /** Called by the broker: a payload for this node (lost while the link is down). */
  enqueue(text: string): void {
    if (!this.up) return;
    this.inbox.push(text);
    if (this.broker.auto && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        while (this.inbox.length && this.broker.auto) this.deliverNext();
      });
    }
  }

  /** Hands the oldest waiting payload to the node; false when there was none. */
  deliverNext(): boolean {
    const text = this.inbox.shift();
    if (text === undefined) return false;
    this.emit('payload', text);
    return true;
  }

  /** Loses the oldest waiting payload. */
  dropNext(): boolean {
    return this.inbox.shift() !== undefined;
  }

  loseAll(): void {
    this.inbox.length = 0;
  }

  /** The link drops: what waits is lost, and nothing arrives until `reopen`. */
  goDown(): void {
    if (!this.up) return;
    this.up = false;
    this.inbox.length = 0;
    this.emit('down');
  }

  reopen(_reason = 'test'): void {
    if (this.up) this.goDown();
    this.up = true;
    this.emit('up');
  }
}
