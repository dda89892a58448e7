import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/** Passes data through untouched. Heads every chain, and stands in for a toxic a connection's toxicity roll spared. */
export class NoopToxic implements Toxic {
  attributes(): Record<string, number> {
    return {};
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        stub.close();
        return;
      }
      await stub.write(chunk);
    }
  }
}

export const noop: ToxicDefinition = {
  type: 'noop',
  fields: {},
  create: () => new NoopToxic(),
};
