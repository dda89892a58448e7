import { describe, expect, it } from 'vitest';
import { settle, simCluster } from './sim-node.ts';

/**
 * Issue 8 item 10, "Unpaced connect and resync": the store work of a connect storm and of
 * a resync is bounded in how much of it runs at once, and a resync that fails part-way
 * goes on where it stopped instead of starting over. Counted on the in-memory seams,
 * with each call taking a millisecond so overlapping calls can be seen.
 */

/** Wraps `target` so `method` takes 1 ms, counts its calls and their peak overlap, and can fail once. */
function instrument<T extends object>(target: T, method: keyof T & string) {
  const stats = { calls: 0, active: 0, peak: 0, failAtCall: -1 };
  const proxy = new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      if (key !== method) return v.bind(t);
      return async (...args: unknown[]) => {
        const n = ++stats.calls;
        stats.active++;
        stats.peak = Math.max(stats.peak, stats.active);
        try {
          await new Promise((r) => setTimeout(r, 1));
          if (n === stats.failAtCall) throw new Error('the store timed out (deliberately, once)');
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        } finally {
          stats.active--;
        }
      };
    },
  });
  return { proxy, stats };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Stats = ReturnType<typeof instrument<object>>['stats'];

/** One node whose `states` and `userConvs` reads are instrumented, with `users` connected users in a group each. */
async function pacedNode(users: number) {
  const seen: { states?: Stats; index?: Stats } = {};
  const { store, nodes } = simCluster(1, {
    wrapLog: (log) => {
      const w = instrument(log, 'states');
      seen.states = w.stats;
      return w.proxy;
    },
    wrapGroups: (groups) => {
      const w = instrument(groups, 'userConvs');
      seen.index = w.stats;
      return w.proxy;
    },
  });
  const n1 = nodes[0]!;
  for (let i = 0; i < users; i++) await store.createGroup(`u${i}`, `t${i}`, []);
  for (let i = 0; i < users; i++) await n1.connect(`u${i}`, 'a');
  await settle();
  return { n1, states: seen.states!, index: seen.index! };
}

describe('connect storms and resyncs are paced', () => {
  it('300 connects at once read conversation states at most 64 at a time', async () => {
    let states!: Stats;
    const { store, nodes } = simCluster(1, {
      wrapLog: (log) => {
        const w = instrument(log, 'states');
        states = w.stats;
        return w.proxy;
      },
    });
    for (let i = 0; i < 300; i++) await store.createGroup(`u${i}`, `t${i}`, []);
    const conns = await Promise.all(Array.from({ length: 300 }, (_, i) => nodes[0]!.connect(`u${i}`, 'a')));
    expect(conns.every((c) => c.socket.frames.some((f) => f.t === 'synced'))).toBe(true);
    expect(states.peak, 'conversation-state reads in flight at once').toBeLessThanOrEqual(64);
  });

  it('a resync reconciles memberships at most 50 at a time and reads user indexes at most 32 at a time', async () => {
    const { n1, states, index } = await pacedNode(200);
    states.peak = 0;
    index.peak = 0;
    const before = index.calls;
    n1.link.goDown();
    n1.link.reopen();
    await until(() => index.calls - before >= 200, 5000, 'the resync to read every local user index');
    expect(states.peak, 'membership reads in flight at once').toBeLessThanOrEqual(50);
    expect(index.peak, 'user-index reads in flight at once').toBeLessThanOrEqual(32);
  });

  it('a resync that fails part-way goes on where it stopped instead of reading everything again', async () => {
    const { n1, index } = await pacedNode(200);
    const before = index.calls;
    index.failAtCall = before + 150;
    n1.link.goDown();
    n1.link.reopen();
    // the failed run is retried after 500 ms; wait for it to finish, then a little more
    await until(() => index.calls - before >= 200, 5000, 'the resync to read every local user index');
    await new Promise((r) => setTimeout(r, 700));
    // from zero again: 150 + 200 reads; resumed: 200 plus the failed read's batch again
    expect(index.calls - before, 'user-index reads by the failed resync and its retry').toBeLessThanOrEqual(200 + 32);
  });
});
