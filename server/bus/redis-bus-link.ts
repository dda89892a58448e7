import { EventEmitter } from 'node:events';
import type { RedisLinks } from '../store/links.ts';
import { storeCall } from '../store/redis/scripts.ts';
import type { BusLink, BusLinkEvents } from './link.ts';
import { encodeBusPayload, type BusPayload } from './payloads.ts';

/** BusLink on Redis pub/sub: the node's `sub` link receives, its `cmd` link publishes. */
export class RedisBusLink extends EventEmitter<BusLinkEvents> implements BusLink {
  private readonly links: RedisLinks;
  private readonly channel: string;

  constructor(links: RedisLinks, channel: string) {
    super();
    this.links = links;
    this.channel = channel;
    links.on('message', (text) => this.emit('payload', text));
    links.on('busUp', () => this.emit('up'));
    links.on('busDown', () => this.emit('down'));
  }

  get isUp(): boolean {
    return this.links.isBusUp && this.links.isCmdUp;
  }

  async publish(payload: BusPayload): Promise<void> {
    await storeCall(() => this.links.cmd.publish(this.channel, encodeBusPayload(payload)));
  }

  reopen(reason: string): void {
    this.links.reopenBus(reason);
  }
}
