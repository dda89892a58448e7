// ThrottledWarning (server/util/throttled-warning.ts), the gateway's "connect registrations
// failed" line: at most one line a second, and a burst's tail is written, counted, when its
// second ends (it used to be counted into a line that only the next failure would write).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledWarning } from '../../server/util/throttled-warning.ts';

describe('ThrottledWarning', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first at once, the rest of the second together at its end, counted', () => {
    const lines: [string, number][] = [];
    const w = new ThrottledWarning<{ err: string }>((f, n) => lines.push([f.err, n]));
    w.note({ err: 'a' });
    expect(lines).toEqual([['a', 1]]);
    vi.advanceTimersByTime(100);
    w.note({ err: 'b' });
    vi.advanceTimersByTime(300);
    w.note({ err: 'c' });
    w.note({ err: 'd' });
    expect(lines).toHaveLength(1);
    // no further failure: the tail is written when the second ends
    vi.advanceTimersByTime(599);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual([['a', 1], ['d', 3]]);
    // nothing pending: no more lines, and the next after a quiet second is written at once
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
    w.note({ err: 'e' });
    expect(lines).toEqual([['a', 1], ['d', 3], ['e', 1]]);
  });

  it('never writes more than one line an interval under a steady stream', () => {
    const at: number[] = [];
    let count = 0;
    const w = new ThrottledWarning<{ err: string }>((_f, n) => {
      at.push(Date.now());
      count += n;
    }, 1000);
    for (let i = 0; i < 3500; i++) {
      w.note({ err: 'x' });
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(2000);
    expect(count).toBe(3500);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(at.length).toBeLessThanOrEqual(5);
  });
});
