import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/** Limits throughput to `rate` KB/s (1 KB = 1000 bytes). */
export class BandwidthToxic implements Toxic {
  readonly rate: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.rate = attributes['rate'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { rate: this.rate };
  }

  async pipe(stub: ToxicStub): Promise<void> {
    // Milliseconds of sending we owe; goes negative when timers overshoot,
    // which credits the next chunk so the long-run rate stays exact.
    let sleep = 0;
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        stub.close();
        return;
      }
      const { timestamp } = chunk;
      let data = chunk.data;

      if (this.rate <= 0) {
        // Toxiproxy's 100 ms slicing loop never makes progress at rate <= 0:
        // nothing passes until the toxic is updated or removed.
        while (await stub.sleep(100)) {
          // keep stalling
        }
        await stub.write({ data, timestamp });
        return;
      }

      sleep += data.length / this.rate;
      // Large chunks go out as rate*100-byte slices every 100 ms, so a slow
      // rate yields a steady trickle instead of long silences and bursts.
      const slice = this.rate * 100;
      while (data.length > slice) {
        if (!(await stub.sleep(100))) {
          await stub.write({ data, timestamp });
          return;
        }
        await stub.write({ data: data.subarray(0, slice), timestamp });
        data = data.subarray(slice);
        sleep -= 100;
      }
      const start = performance.now();
      if (!(await stub.sleep(sleep))) {
        await stub.write({ data, timestamp });
        return;
      }
      sleep -= performance.now() - start;
      await stub.write({ data, timestamp });
    }
  }
}

export const bandwidth: ToxicDefinition = {
  type: 'bandwidth',
  fields: { rate: 'int64' },
  create: (attributes) => new BandwidthToxic(attributes),
};
