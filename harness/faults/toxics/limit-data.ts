import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

interface LimitDataState {
  bytesTransmitted: number;
}

/** Passes the first `bytes` bytes of the stream, then closes it. */
export class LimitDataToxic implements Toxic {
  readonly bytes: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.bytes = attributes['bytes'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { bytes: this.bytes };
  }

  // Kept per connection so that raising or lowering the limit on a live
  // connection counts the bytes it already let through.
  newState(): LimitDataState {
    return { bytesTransmitted: 0 };
  }

  async pipe(stub: ToxicStub): Promise<void> {
    const state = (stub.state ??= this.newState()) as LimitDataState;
    let remaining = this.bytes - state.bytesTransmitted;
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        stub.close();
        return;
      }
      if (remaining < 0) remaining = 0;
      const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
      if (data.length > 0) {
        await stub.write({ data, timestamp: chunk.timestamp });
        state.bytesTransmitted += data.length;
      }
      remaining = this.bytes - state.bytesTransmitted;
      if (remaining <= 0) {
        stub.close();
        return;
      }
    }
  }
}

export const limitData: ToxicDefinition = {
  type: 'limit_data',
  fields: { bytes: 'int64' },
  create: (attributes) => new LimitDataToxic(attributes),
};
