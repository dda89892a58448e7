import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/** Delays each chunk by `latency` ± `jitter` milliseconds. */
export class LatencyToxic implements Toxic {
  readonly latency: number;
  readonly jitter: number;
  // Lets chunks keep arriving while earlier ones wait out their delay, so
  // latency delays the stream rather than throttling it.
  readonly bufferSize = 1024;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.latency = attributes['latency'] ?? 0;
    this.jitter = attributes['jitter'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { latency: this.latency, jitter: this.jitter };
  }

  #delay(): number {
    let delay = this.latency;
    if (this.jitter > 0) delay += Math.floor(Math.random() * this.jitter * 2) - this.jitter;
    return delay;
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        stub.close();
        return;
      }
      // Measured from when the chunk was read, so queueing time counts.
      const sleep = this.#delay() - (performance.now() - chunk.timestamp);
      if (!(await stub.sleep(sleep))) {
        // Interrupted: hand the chunk on now rather than drop it.
        await stub.write(chunk);
        return;
      }
      chunk.timestamp += sleep;
      await stub.write(chunk);
    }
  }
}

export const latency: ToxicDefinition = {
  type: 'latency',
  fields: { latency: 'int64', jitter: 'int64' },
  create: (attributes) => new LatencyToxic(attributes),
};
