// A sweep of a lapsed incarnation racing that node's return, on Redis, in every order
// fast-check picks. The node's registry of its connections (in the incarnation's slot)
// and each registration (in the user's slot) cannot change in one atomic step, so the sweep
// and the node's re-registration each take several commands. Whatever the interleaving, a
// connection registered at the end is in its node's registry, or a later sweep never finds
// it and the user shows online forever after the node dies; and the registry names no
// connection that is gone (a live node's registry is swept by no one).
//
// Each side runs on its own ioredis client whose every command waits for its turn: one
// command in flight at a time, the schedule choosing which side goes next. The node, back,
// re-registers its connection and may then open another or close it; the sweep may fail
// part-way. At the end the registry holds exactly the connections that are registered.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis, type Command } from 'ioredis';
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

/**
 * Every command of `redis` (its scripts too: they go through sendCommand) waits for `side`'s
 * turn; the one numbered `failAt` (from 0) fails instead of reaching Redis, as a sweeper that
 * dies or loses Redis there would.
 */
function gate(redis: Redis, turns: Turns, side: Side, failAt: number | null = null): void {
  const send = redis.sendCommand.bind(redis);
  let n = 0;
  redis.sendCommand = ((command: Command, stream?: unknown) => {
    void turns.turn(side, command.name).then(() => {
      const { resolve, reject } = command;
      command.resolve = (v: unknown) => {
        resolve(v);
        turns.done();
      };
      command.reject = (e: Error) => {
        reject(e);
        turns.done();
      };
      if (n++ === failAt) return command.reject(new Error(`injected: the ${side} failed at this command`));
      void send(command, stream as never);
    });
    return command.promise;
  }) as Redis['sendCommand'];
}

const uid = (p: string) => `${p}${randomBytes(4).toString('hex')}`;
const LEASE_MS = 25;

/** what the node does once back: re-register c1; also open c2 after it; or re-register c1 and close it */
type Return = 'reregister' | 'then-hello' | 'then-close';

describe('a sweep racing the return of the node it sweeps (Redis)', () => {
  it("leaves the node's registry and the registrations agreeing, in any interleaving, whether the sweep finishes or fails part-way", async () => {
    const setup = new RedisPresenceStore(file.cmd);
    await fc.assert(
      fc.asyncProperty(
        // the schedule as alternating runs, the sweep's first: [3, 4] is three sweep commands,
        // then four of the node's (a whole re-registration between two sweep steps is likely)
        fc.array(fc.nat(10), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<Return>('reregister', 'then-hello', 'then-close'),
        fc.option(fc.nat(9), { nil: null }),
        async (runs, back, sweepFailsAt) => {
          const choices = runs.flatMap((n, i) => Array<boolean>(n).fill(i % 2 === 1));
          // a node with one connection whose lease lapsed
          const [user, dead, c1, c2] = [uid('u'), uid('n'), uid('c'), uid('c')];
          const { generation: g1 } = await setup.renewLease(dead, LEASE_MS);
          await setup.openConn({ user, connId: c1, device: 'd', incarnation: dead, generation: g1 }, 10, 'hello');
          await new Promise((r) => setTimeout(r, LEASE_MS + 20));

          const turns = new Turns(choices);
          const sweeperRedis = new Redis(file.redis.url);
          const nodeRedis = new Redis(file.redis.url);
          clients.push(sweeperRedis, nodeRedis);
          await Promise.all([sweeperRedis.ping(), nodeRedis.ping()]);
          gate(sweeperRedis, turns, 'sweep', sweepFailsAt);
          gate(nodeRedis, turns, 'node');
          const sweeper = new RedisPresenceStore(sweeperRedis);
          const node = new RedisPresenceStore(nodeRedis);
          const comeBack = async () => {
            const { generation } = await node.renewLease(dead, 60_000);
            const reopened = await node.openConn({ user, connId: c1, device: 'd', incarnation: dead, generation }, 10, 'reregister');
            if (back === 'then-hello') await node.openConn({ user, connId: c2, device: 'e', incarnation: dead, generation }, 10, 'hello');
            if (back === 'then-close') await node.closeConn(user, c1, dead);
            return reopened;
          };
          const [, reopened] = await Promise.all([
            turns.run('sweep', () => sweeper.sweepIncarnation(dead, 'sweeper').catch((e: unknown) => (sweepFailsAt === null ? Promise.reject(e) : 0))),
            turns.run('node', comeBack),
          ]);
          sweeperRedis.disconnect();
          nodeRedis.disconnect();

          const order = turns.order.join(' ');
          expect(reopened, order).toEqual([]);
          const registry = await file.cmd.hgetall(keys.nodeRegistry(dead));
          const registered = await file.cmd.hgetall(keys.conns(user));
          const open = back === 'then-close' ? [] : back === 'then-hello' ? [c1, c2] : [c1];
          expect(Object.keys(registered).sort(), `registrations after ${order}`).toEqual([...open].sort());
          expect(Object.keys(registry).sort(), `the node's registry after ${order}`).toEqual(open.map((c) => `${user}\t${c}`).sort());
        },
      ),
      { numRuns: 250 },
    );
  }, 180_000);
});
