import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HOLD_MAX_BYTES, holdEveryTurn, holdForTurn, releaseNow, spillPast } from '../../server/util/turn-cork.ts';

/** A stream recording how its writes reach it: one entry per _write / _writev call. */
function recorder() {
  const calls: string[][] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  return { w, calls };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('turn-cork', () => {
  it('writes from callbacks of one turn leave together, in order, at the end of the turn', async () => {
    const { w, calls } = recorder();
    holdForTurn(w);
    w.write('a');
    holdForTurn(w); // held once per turn
    w.write('b');
    await Promise.resolve();
    w.write('c');
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(w.writableCorked).toBe(0);
    // the next turn is held afresh
    holdForTurn(w);
    w.write('d');
    w.write('e');
    expect(calls.length).toBe(1);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });

  it('releaseNow writes what a stream holds at once (before it is destroyed); an unheld stream is left alone', async () => {
    const { w, calls } = recorder();
    holdForTurn(w);
    w.write('x');
    w.write('y');
    releaseNow(w);
    expect(calls).toEqual([['x', 'y']]);
    expect(w.writableCorked).toBe(0);
    w.cork(); // someone else's cork is not ours to undo
    releaseNow(w);
    expect(w.writableCorked).toBe(1);
    w.uncork();
    await nextTurn();
    expect(w.writableCorked).toBe(0);
  });

  it('a stream without the hold writes at once', () => {
    const { w, calls } = recorder();
    w.write('z');
    expect(calls).toEqual([['z']]);
  });
});

describe('turn-cork: the bound on what a hold keeps', () => {
  it(`a hold keeps less than HOLD_MAX_BYTES (${HOLD_MAX_BYTES}) after each write: past it, what it holds is written at once and the hold goes on`, async () => {
    const { w, calls } = recorder();
    const frame = 'f'.repeat(16_000);
    let most = 0;
    for (let i = 0; i < 20; i++) {
      holdForTurn(w);
      w.write(frame);
      spillPast(w);
      most = Math.max(most, w.writableLength);
    }
    expect(most).toBeLessThan(HOLD_MAX_BYTES);
    // 16,000-byte writes: every fourth spills the four it holds (64,000 < 65,536; the fifth passes it)
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every((c) => c.length >= 2)).toBe(true);
    expect(w.writableCorked).toBe(1);
    await nextTurn();
    expect(w.writableCorked).toBe(0);
    expect(calls.flat().join('').length).toBe(20 * 16_000);
  });

  it('holdForTurn on a stream already held writes first what is past the bound; an unheld stream is never spilled', () => {
    const { w, calls } = recorder();
    holdForTurn(w);
    w.write('g'.repeat(HOLD_MAX_BYTES));
    expect(calls).toEqual([]);
    holdForTurn(w);
    expect(calls.length).toBe(1);
    expect(w.writableCorked).toBe(1);
    const other = recorder();
    other.w.cork(); // someone else's cork
    other.w.write('h'.repeat(HOLD_MAX_BYTES));
    spillPast(other.w);
    expect(other.calls).toEqual([]);
    other.w.uncork();
  });
});

describe('turn-cork: a stream held every turn (holdEveryTurn)', () => {
  it('every write is held for its turn: a turn\'s writes leave in one writev, in order, and the next turn\'s are held again', async () => {
    const { w, calls } = recorder();
    holdEveryTurn(w);
    w.write('a');
    w.write('b');
    await Promise.resolve();
    w.write('c');
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(w.writableCorked).toBe(0);
    w.write('d');
    w.write('e');
    expect(calls.length).toBe(1);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });

  it('a turn\'s writes past HOLD_MAX_BYTES are written at once; end() flushes what is held', async () => {
    const { w, calls } = recorder();
    holdEveryTurn(w);
    for (let i = 0; i < 5; i++) w.write('f'.repeat(16_000));
    // the fifth passes the bound: the five leave together, and the hold goes on
    expect(calls.length).toBe(1);
    expect(calls[0]!.length).toBe(5);
    expect(w.writableLength).toBe(0);
    w.write('g');
    const finished = new Promise((r) => w.on('finish', r));
    w.end();
    await finished;
    expect(calls.flat().at(-1)).toBe('g');
  });
});
