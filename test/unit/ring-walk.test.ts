// RingWalk (server/util/ring-walk.ts): the gateway's sweep and ack flush visit every live
// connection once a round, a slice per tick, while connections come and go.
import { describe, expect, it } from 'vitest';
import { RingWalk } from '../../server/util/ring-walk.ts';

/** one tick: the members it visited, and whether it found the round's end */
function tick<T>(walk: RingWalk<T>): { seen: T[]; ended: boolean } {
  const seen: T[] = [];
  for (let i = walk.slice(); i > 0; i--) {
    const m = walk.next();
    if (m === undefined) return { seen, ended: true };
    seen.push(m);
  }
  return { seen, ended: false };
}

describe('RingWalk', () => {
  it('a round of 20 ticks visits each of 1000 members once, 50 a tick, and the tick after finds its end', () => {
    const set = new Set(Array.from({ length: 1000 }, (_, i) => i));
    const walk = new RingWalk(set, 20);
    const seen: number[] = [];
    for (let t = 0; t < 20; t++) {
      const r = tick(walk);
      expect(r.seen.length).toBe(50);
      expect(r.ended).toBe(false);
      seen.push(...r.seen);
    }
    expect(seen).toEqual([...set]);
    expect(tick(walk)).toEqual({ seen: [], ended: true });
    expect(tick(walk).seen[0]).toBe(0); // the next round starts over
  });

  it('members added during a round are visited in it; deleted ones that were not yet visited are not', () => {
    const set = new Set([1, 2, 3, 4]);
    const walk = new RingWalk(set, 2);
    expect(tick(walk).seen).toEqual([1, 2]);
    set.delete(3);
    set.add(5);
    const rest = [...tick(walk).seen, ...tick(walk).seen];
    expect(rest).toEqual([4, 5]);
  });

  it('an empty set: every tick ends a round at once; a fraction of a tick per round counts as one', () => {
    const walk = new RingWalk(new Set<number>(), 0.5);
    expect(walk.ticksPerRound).toBe(1);
    expect(tick(walk)).toEqual({ seen: [], ended: true });
  });
});
