// A sweep of a lapsed incarnation racing that node's return, on Redis, in every order
// fast-check picks. The node's registry of its connections (a set in the incarnation's slot)
// and each registration (in the user's slot) cannot change in one atomic step, so the sweep
// and the node's re-registration each take several commands. Whatever the interleaving, a
// connection registered at the end is in its node's set, or a later sweep never finds it
// and the user shows online forever after the node dies.
//
// Each side runs on its own ioredis client, wrapped so that every command waits for its turn:
// one command in flight at a time, the schedule choosing which side goes next.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../server/store/keys.ts';
import { RedisPresenceStore } from '../../server/store/redis/redis-presence.ts';
import { redisForFile } from '../helpers/redis.ts';

const file = redisForFile();
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

type Side = 'sweep' | 'node';

/**
 * Grants Redis commands one at a time. The next goes once every side still running waits at
 * its next command (so the schedule, not timing, decides); when both wait, `choices` says
 * who goes, the sweep once they run out.
 */
class Turns {
  private readonly waiting = new Map<Side, () => void>();
  /** both from the start: neither goes before the other reached its first command */
  private readonly running = new Set<Side>(['sweep', 'node']);
  private busy = false;
  private next = 0;
  readonly order: string[] = [];
  private readonly choices: readonly boolean[];

  constructor(choices: readonly boolean[]) {
    this.choices = choices;
  }

  run<T>(side: Side, work: () => Promise<T>): Promise<T> {
    return work().finally(() => {
      this.running.delete(side);
      this.kick();
    });
  }

  turn(side: Side, cmd: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(side, () => {
        this.order.push(`${side}:${cmd}`);
        resolve();
      });
      this.kick();
    });
  }

  done(): void {
    this.busy = false;
    this.kick();
  }

  private kick(): void {
    if (this.busy || !this.waiting.size || this.waiting.size < this.running.size) return;
    const side: Side = this.waiting.size === 2 ? ((this.choices[this.next++] ?? false) ? 'node' : 'sweep') : [...this.waiting.keys()][0]!;
    const go = this.waiting.get(side)!;
    this.waiting.delete(side);
    this.busy = true;
    go();
  }
}

/** `redis` whose commands (the store's scripts are commands too) each wait for `side`'s turn. */
function gated(redis: Redis, turns: Turns, side: Side): Redis {
  return new Proxy(redis, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const name = String(prop);
      if (!/^(im_|sadd$|srem$|sscan$|scard$|del$|hexists$|hget$)/.test(name)) return (v as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        await turns.turn(side, name);
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          turns.done();
        }
      };
    },
  });
}

const uid = (p: string) => `${p}${randomBytes(4).toString('hex')}`;
const LEASE_MS = 25;

describe('a sweep racing the return of the node it sweeps (Redis)', () => {
  it('leaves every connection registered at the end in its node’s set, in any interleaving', async () => {
    const sweeperRedis = new Redis(file.redis.url);
    const nodeRedis = new Redis(file.redis.url);
    clients.push(sweeperRedis, nodeRedis);
    const setup = new RedisPresenceStore(file.cmd);

    await fc.assert(
      // the schedule as alternating runs, the sweep's first: [3, 4] is three sweep commands,
      // then four of the node's (a whole re-registration between two sweep steps is likely)
      fc.asyncProperty(fc.array(fc.nat(6), { minLength: 1, maxLength: 6 }), async (runs) => {
        const choices = runs.flatMap((n, i) => Array<boolean>(n).fill(i % 2 === 1));
        // a node with one connection whose lease lapsed
        const [user, dead, connId] = [uid('u'), uid('n'), uid('c')];
        const { generation: g1 } = await setup.renewLease(dead, LEASE_MS);
        await setup.openConn({ user, connId, device: 'd', incarnation: dead, generation: g1 }, 10, 'hello');
        await new Promise((r) => setTimeout(r, LEASE_MS + 20));

        const turns = new Turns(choices);
        const sweeper = new RedisPresenceStore(gated(sweeperRedis, turns, 'sweep'));
        const node = new RedisPresenceStore(gated(nodeRedis, turns, 'node'));
        // the node comes back: a new generation, then the re-registration of its connection
        const comeBack = async () => {
          const { generation } = await node.renewLease(dead, 60_000);
          expect(await node.openConn({ user, connId, device: 'd', incarnation: dead, generation }, 10, 'reregister')).toEqual([]);
        };
        await Promise.all([turns.run('sweep', () => sweeper.sweepIncarnation(dead, 'sweeper')), turns.run('node', comeBack)]);

        const registered = (await file.cmd.hexists(keys.conns(user), connId)) === 1;
        const listed = (await file.cmd.sismember(keys.nodeConns(dead), `${user}\t${connId}`)) === 1;
        expect(registered, turns.order.join(' ')).toBe(true);
        expect(listed, `registered but not in ${keys.nodeConns(dead)} after ${turns.order.join(' ')}`).toBe(true);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
