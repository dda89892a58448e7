// dm-bench's warm-up (harness/bench/bench-kit.ts dmWarmupSeconds) must have every client send
// once, or the first measured step makes dms (a dm's first message is the costliest). The
// clients and the sends are split as dm-bench and receivers.ts split them: client i in
// process i % P; each process sends round(rate / P · seconds) messages, round robin over its
// own clients (receivers.ts `drive`).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dmWarmupSeconds, receiverProcesses } from '../../harness/bench/bench-kit.ts';

/** how many of its clients each process reaches in `seconds` at `rate` in all */
function reached(connections: number, processes: number, rate: number, seconds: number): { clients: number; sent: number }[] {
  return Array.from({ length: processes }, (_, k) => {
    const clients = Math.floor((connections - k + processes - 1) / processes);
    const total = Math.max(1, Math.round(((rate / processes) * (seconds * 1000)) / 1000));
    return { clients, sent: Math.min(total, clients) };
  });
}

describe('dm-bench warm-up', () => {
  it('every client of every receiver process sends once, for any size, rate and process count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 200_000 }), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 60 }), fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }), (n, rate, flag, given) => {
        const p = receiverProcesses(n, given);
        const s = dmWarmupSeconds(flag, n, rate, p);
        expect(s).toBeGreaterThanOrEqual(flag);
        for (const { clients, sent } of reached(n, p, rate, s)) expect(sent).toBe(clients);
      }),
    );
  });

  it('the full bench\'s sizes: 4 s at 2,500/s for 10,000 clients (3 s reached 7,500); 5 s with 3 processes; the CI sizes unchanged; 0 is no warm-up', () => {
    expect(dmWarmupSeconds(3, 10_000, 2500, receiverProcesses(10_000))).toBe(4);
    expect(reached(10_000, 2, 2500, 3).reduce((a, r) => a + r.sent, 0)).toBe(7500);
    expect(dmWarmupSeconds(3, 10_000, 2500, 3)).toBe(5);
    expect(dmWarmupSeconds(2, 1000, 500, receiverProcesses(1000))).toBe(2);
    expect(dmWarmupSeconds(0, 10_000, 2500, 2)).toBe(0);
  });
});
