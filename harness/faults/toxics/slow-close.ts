import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/** Holds the end of the stream back for `delay` milliseconds. */
export class SlowCloseToxic implements Toxic {
  readonly delay: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.delay = attributes['delay'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { delay: this.delay };
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        // If interrupted here, the end of stream is still there for whichever
        // toxic runs next (the input stays closed).
        if (!(await stub.sleep(this.delay))) return;
        stub.close();
        return;
      }
      await stub.write(chunk);
    }
  }
}

export const slowClose: ToxicDefinition = {
  type: 'slow_close',
  fields: { delay: 'int64' },
  create: (attributes) => new SlowCloseToxic(attributes),
};
