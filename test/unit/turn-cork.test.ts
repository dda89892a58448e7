import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { holdForTurn, releaseNow } from '../../server/util/turn-cork.ts';

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
