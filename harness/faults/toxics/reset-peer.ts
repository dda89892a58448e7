import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/**
 * Resets the connection (TCP RST, "connection reset by peer") `timeout`
 * milliseconds after the first data (or end of stream) reaches the toxic.
 */
export class ResetPeerToxic implements Toxic {
  readonly timeout: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.timeout = attributes['timeout'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { timeout: this.timeout };
  }

  async pipe(stub: ToxicStub): Promise<void> {
    const chunk = await stub.read();
    if (chunk === INTERRUPTED) return;
    // The triggering data is dropped, and from here on the reset will
    // happen: updating or removing the toxic no longer stops it.
    stub.commitClose();
    await stub.hold(this.timeout);
    stub.resetPeer();
    stub.close();
  }
}

export const resetPeer: ToxicDefinition = {
  type: 'reset_peer',
  fields: { timeout: 'int64' },
  create: (attributes) => new ResetPeerToxic(attributes),
};
