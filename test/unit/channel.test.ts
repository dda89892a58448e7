import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConvChannel, type ChannelLimits } from '../../server/delivery/channel.ts';
import type { LogEntry } from '../../server/store/log.ts';

/** A model log 1..n, and a channel wired to it; deliveries must be exactly 1..n in order. */
type Fetch = (from: number, to: number, count: number) => Promise<LogEntry[]>;

function harness(n: number, fetchWrap: (f: Fetch) => Fetch = (f) => f, trimmedUpTo = 0, startHead = 0, limits?: ChannelLimits) {
  const delivered: number[] = [];
  let expectedNext = startHead + 1;
  const skipped: [number, number][] = [];
  const fetch = async (from: number, to: number, count: number): Promise<LogEntry[]> => {
    const out: LogEntry[] = [];
    for (let s = Math.max(from, trimmedUpTo + 1); s <= Math.min(to, n) && out.length < count; s++) out.push({ seq: s, frame: `f${s}` });
    return out;
  };
  const wrapped = fetchWrap(fetch);
  const ch = new ConvChannel('g:x', {
    fetch: (_ch, from, to, count) => wrapped(from, to, count),
    deliver(_ch, seq, frame) {
      if (seq !== expectedNext) throw new Error(`out of order: got ${seq}, expected ${expectedNext}`);
      expectedNext = seq + 1;
      if (frame !== `f${seq}`) throw new Error(`wrong frame for ${seq}`);
      delivered.push(seq);
    },
    skipped: (_ch, from, to) => {
      if (from !== expectedNext) throw new Error(`skipped from ${from}, expected ${expectedNext}`);
      skipped.push([from, to]);
      expectedNext = to + 1;
    },
    epochChanged: () => {
      throw new Error('no epoch change in this model');
    },
    fillFailed: (_ch, err) => {
      throw err;
    },
  }, limits);
  return { ch, delivered, skipped };
}

const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('ConvChannel (ordering and hole fill)', () => {
  it('keeps at most its limits of out-of-order and captured messages (count and bytes); what it does not keep comes from the log, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray(seqs(n), { minLength: n, maxLength: n }))),
        fc.record({ messages: fc.integer({ min: 1, max: 4 }), bytes: fc.integer({ min: 2, max: 12 }) }),
        fc.boolean(),
        async (s, [n, order], limits, captureFirst) => {
          const { ch, delivered } = harness(n, (f) => s.scheduleFunction(f), 0, 0, limits);
          let peak = { messages: 0, chars: 0 };
          const onBus = (q: number) => {
            ch.onBus('e1', q, `f${q}`);
            const k = ch.kept;
            peak = { messages: Math.max(peak.messages, k.messages), chars: Math.max(peak.chars, k.chars) };
          };
          if (!captureFirst) ch.start('e1', 0);
          for (const seq of order) void s.schedule(Promise.resolve(seq)).then(onBus);
          if (captureFirst) void s.schedule(Promise.resolve()).then(() => ch.start('e1', 0));
          await s.waitAll();
          expect(delivered).toEqual(seqs(n));
          expect(peak.messages).toBeLessThanOrEqual(limits.messages);
          expect(peak.chars).toBeLessThanOrEqual(limits.bytes);
          expect(ch.kept).toEqual({ messages: 0, chars: 0 });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivers 1..n in order, once, whatever the bus drops, repeats or reorders, once the head is learnt', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 40 }), fc.array(fc.constantFrom('deliver', 'drop', 'twice'), { minLength: 40, maxLength: 40 }), async (s, n, fate) => {
        const { ch, delivered } = harness(n, (f) => s.scheduleFunction(f));
        ch.start('e1', 0);
        for (const seq of seqs(n)) {
          const times = fate[seq - 1] === 'drop' ? 0 : fate[seq - 1] === 'twice' ? 2 : 1;
          for (let k = 0; k < times; k++) void s.schedule(Promise.resolve(seq)).then((q) => ch.onBus('e1', q, `f${q}`));
        }
        // the resync a node runs after its bus was lost
        void s.schedule(Promise.resolve()).then(() => ch.noteHead('e1', n));
        await s.waitAll();
        expect(delivered).toEqual(seqs(n));
      }),
      { numRuns: 300 },
    );
  });

  it('delivers the last message without a resync when only earlier ones were dropped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), async (s, n, dropped) => {
        const { ch, delivered } = harness(n, (f) => s.scheduleFunction(f));
        ch.start('e1', 0);
        // the bus keeps order (Redis pub/sub on one link); it only loses
        for (const seq of seqs(n)) if (seq === n || !dropped[seq - 1]) ch.onBus('e1', seq, `f${seq}`);
        await s.waitAll();
        expect(delivered).toEqual(seqs(n));
      }),
      { numRuns: 200 },
    );
  });

  it('ignores what was captured below the head read at start, and keeps what came after it', () => {
    const { ch, delivered } = harness(5, undefined, 0, 3);
    ch.onBus('e1', 3, 'f3');
    ch.onBus('e1', 4, 'f4');
    ch.start('e1', 3);
    expect(delivered).toEqual([4]);
    expect(ch.last).toBe(4);
  });

  it('reports a stretch retention removed as skipped, then continues in order', async () => {
    const { ch, delivered, skipped } = harness(10, undefined, 6);
    ch.start('e1', 0);
    ch.onBus('e1', 10, 'f10');
    await new Promise((r) => setTimeout(r, 10));
    expect(skipped).toEqual([[1, 6]]);
    expect(delivered).toEqual([7, 8, 9, 10]);
  });

  it('starts over on an epoch change', () => {
    const changes: string[] = [];
    const delivered: string[] = [];
    const ch = new ConvChannel('dm:a:b', {
      fetch: async () => [],
      deliver: (_ch, seq, frame) => void delivered.push(`${seq}:${frame}`),
      skipped: () => {},
      epochChanged: (_ch, e) => void changes.push(e),
      fillFailed: () => {},
    });
    ch.start('old', 7);
    ch.onBus('new', 1, 'x');
    expect(changes).toEqual(['new']);
    expect(delivered).toEqual(['1:x']);
    expect(ch.last).toBe(1);
  });
});
