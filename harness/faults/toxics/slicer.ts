import { INTERRUPTED, type Toxic, type ToxicDefinition, type ToxicStub } from './toxic.ts';

/**
 * Slices chunks into pieces of about `average_size` ± `size_variation` bytes,
 * waiting `delay` microseconds after each piece.
 */
export class SlicerToxic implements Toxic {
  readonly averageSize: number;
  readonly sizeVariation: number;
  readonly delay: number;

  constructor(attributes: Readonly<Record<string, number>>) {
    this.averageSize = attributes['average_size'] ?? 0;
    this.sizeVariation = attributes['size_variation'] ?? 0;
    this.delay = attributes['delay'] ?? 0;
  }

  attributes(): Record<string, number> {
    return { average_size: this.averageSize, size_variation: this.sizeVariation, delay: this.delay };
  }

  /**
   * Slice boundaries for [start, end) as [s0, e0, s1, e1, ...]. Halving with
   * a random nudge gives evenly varying sizes, with no bias towards a small
   * or large piece at either end.
   */
  chunk(start: number, end: number): number[] {
    if (end - start - this.averageSize <= this.sizeVariation || end - start < 2) return [start, end];
    const variation = this.sizeVariation > 0 ? Math.floor(Math.random() * (this.sizeVariation * 2 + 1)) - this.sizeVariation : 0;
    // Clamped so that nonsense attributes (average_size <= 0) still terminate.
    const mid = Math.min(end - 1, Math.max(start + 1, start + Math.floor((end - start) / 2) + variation));
    return [...this.chunk(start, mid), ...this.chunk(mid, end)];
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === INTERRUPTED) return;
      if (chunk === null) {
        stub.close();
        return;
      }
      const bounds = this.chunk(0, chunk.data.length);
      for (let i = 1; i < bounds.length; i += 2) {
        const from = bounds[i - 1] ?? 0;
        const to = bounds[i] ?? chunk.data.length;
        await stub.write({ data: chunk.data.subarray(from, to), timestamp: chunk.timestamp });
        if (!(await stub.sleep(this.delay / 1000))) {
          // Interrupted: the rest of this chunk goes out in one piece.
          await stub.write({ data: chunk.data.subarray(to), timestamp: chunk.timestamp });
          return;
        }
      }
    }
  }
}

export const slicer: ToxicDefinition = {
  type: 'slicer',
  fields: { average_size: 'int', size_variation: 'int', delay: 'int' },
  create: (attributes) => new SlicerToxic(attributes),
};
