import { INTERRUPTED, TIMED_OUT, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/**
 * Drops all data and closes the stream after `timeout` milliseconds; with
 * `timeout` 0 it drops data and never closes by itself.
 */
export class TimeoutToxic implements Toxic {
  readonly timeout: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.timeout = attributes['timeout'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { timeout: this.timeout };
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      // As in Toxiproxy, the timer starts afresh after every dropped chunk:
      // the close comes `timeout` ms after the stream last went quiet.
      const chunk = this.timeout > 0 ? await stub.read(this.timeout) : await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null || chunk === TIMED_OUT) {
        stub.close();
        return;
      }
      // Drop the data on the floor.
    }
  }

  // Removing the toxic ends the connection instead of letting it resume with
  // a hole in the stream (Toxiproxy's Cleanup).
  cleanup(stub: ToxicStub): void {
    stub.close();
  }
}

export const timeout: ToxicDefinition = {
  type: 'timeout',
  fields: { timeout: 'int64' },
  create: (attributes) => new TimeoutToxic(attributes),
};
