// The benches' latency by window of intended send time (bench-kit.ts latencyWindows,
// formatWindows; receivers.ts records them): windows from several receiver processes merge
// by their number, in time order, each counted from the step's first intended send.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { formatWindows, latencyWindows } from '../../harness/bench/bench-kit.ts';
import { LATENCY_WINDOW_MS } from '../../harness/bench/fanout-plan.ts';
import { encodeHistogram } from '../../harness/measure/latency.ts';

/** one process's window k with these latencies (ms) */
function win(k: number, ms: number[]): [number, string] {
  const h = hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true });
  for (const m of ms) h.recordValue(m * 1000);
  return [k, encodeHistogram(h)];
}

describe('latency by window of send time', () => {
  it('merges the processes by window, in time order, from the step start', () => {
    const k0 = 400_000; // a window number on the nowMs clock
    const t0 = k0 * LATENCY_WINDOW_MS + 1_200; // the step began 1.2 s into window k0
    const a = [win(k0 + 1, Array(99).fill(2).concat([40])), win(k0, [1, 1, 3])];
    const b = [win(k0 + 2, Array(100).fill(900)), win(k0 + 1, Array(100).fill(2))];
    const ws = latencyWindows([a, b, []], t0);
    expect(ws.map((w) => [w.fromS, w.messages])).toEqual([
      [0, 3],
      [3.8, 200],
      [8.8, 100],
    ]);
    expect(ws[1]!.p50Ms).toBe(2);
    expect(ws[1]!.p99Ms).toBe(2); // 1 of 200 at 40 ms is past the 99th percentile
    expect(ws[2]!.p50Ms).toBeCloseTo(900, 0);
    expect(formatWindows(ws)).toBe(`p50/p99 by ${LATENCY_WINDOW_MS / 1000} s of send time: 1/3, 2/2, 900/900 ms`);
  });

  it('a step with nothing received has no windows', () => {
    expect(latencyWindows([[], []], 0)).toEqual([]);
  });
});
