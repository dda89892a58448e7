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
import { pino } from 'pino';
import type { Conn } from '../../server/gateway/connection.ts';
import { Presence } from '../../server/presence/presence.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../server/store/keys.ts';
import { loadLua } from '../../server/store/redis/lua-source.ts';
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
  /** until started, commands pass ungated (a test's setup) */
  active = false;
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
    // one command a side at a time, or the schedule would lose one (fail rather than hang)
    if (this.waiting.has(side)) return Promise.reject(new Error(`${side} sent ${cmd} while another of its commands waited`));
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
    if (!turns.active) return send(command, stream as never);
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
      if (n++ === failAt) return command.reject(new Error(INJECTED));
      void send(command, stream as never);
    });
    return command.promise;
  }) as Redis['sendCommand'];
}

const uid = (p: string) => `${p}${randomBytes(4).toString('hex')}`;
const INJECTED = 'injected: the sweep failed at this command';
const store = () => new RedisPresenceStore(file.cmd);

/** the schedule as alternating runs, the sweep's first: [3, 4] is three sweep commands, then four of the node's */
const schedule = fc.array(fc.nat(10), { minLength: 1, maxLength: 6 }).map((runs) => runs.flatMap((n, i) => Array<boolean>(n).fill(i % 2 === 1)));

/** Two clients on the test's Redis whose commands are granted by `turns`; the sweeper's fails at `sweepFailsAt`. */
async function gatedClients(turns: Turns, sweepFailsAt: number | null) {
  const sweeperRedis = new Redis(file.redis.url);
  const nodeRedis = new Redis(file.redis.url);
  clients.push(sweeperRedis, nodeRedis);
  await Promise.all([sweeperRedis.ping(), nodeRedis.ping()]);
  gate(sweeperRedis, turns, 'sweep', sweepFailsAt);
  gate(nodeRedis, turns, 'node');
  return { sweeper: new RedisPresenceStore(sweeperRedis), node: new RedisPresenceStore(nodeRedis), nodeRedis, end: () => [sweeperRedis, nodeRedis].forEach((c) => c.disconnect()) };
}

/** The lease of `inc` lapsed (its expiry set in the past: the test does not wait for it). */
const lapse = (inc: string) => file.cmd.zadd(keys.leases(), 1, inc);

/** A sweep that may fail where the test injected it, and only there. */
const sweepOrInjected = (s: RedisPresenceStore, inc: string, sweepFailsAt: number | null) =>
  s.sweepIncarnation(inc, 'sweeper').catch((e: unknown) => {
    if (sweepFailsAt !== null && e instanceof Error && (e.cause instanceof Error ? e.cause : e).message.includes(INJECTED)) return -1;
    throw e;
  });

/**
 * The node dies for good: its lease lapses, a failed sweep's claim expires, another node
 * sweeps. Nothing of `user` may be left registered, and the registry must be gone.
 */
async function diesAndIsSwept(user: string, inc: string, order: string) {
  await lapse(inc);
  await file.cmd.del(keys.leaseSweep(inc));
  await store().sweepIncarnation(inc, 'final');
  expect(await file.cmd.hgetall(keys.conns(user)), `registrations left once the node died and was swept, after ${order}`).toEqual({});
  expect(await file.cmd.exists(keys.nodeRegistry(inc)), `registry left once the node died and was swept, after ${order}`).toBe(0);
}

/** what the node does once back: re-register c1; also open c2 after it; re-register c1 and close it; open c2 and die again */
type Return = 'reregister' | 'then-hello' | 'then-close' | 'then-dies';

describe('a sweep racing the return of the node it sweeps (Redis)', () => {
  it("leaves the node's registry and the registrations agreeing, in any interleaving, whether the sweep finishes or fails part-way", async () => {
    await fc.assert(
      fc.asyncProperty(schedule, fc.constantFrom<Return>('reregister', 'then-hello', 'then-close', 'then-dies'), fc.option(fc.nat(9), { nil: null }), async (choices, back, sweepFailsAt) => {
        // a node with one connection whose lease lapsed
        const [user, dead, c1, c2] = [uid('u'), uid('n'), uid('c'), uid('c')];
        const { generation: g1 } = await store().renewLease(dead, 60_000);
        await store().openConn({ user, connId: c1, device: 'd', incarnation: dead, generation: g1 }, 10, 'hello');
        await lapse(dead);

        const turns = new Turns(choices);
        turns.active = true;
        const { sweeper, node, nodeRedis, end } = await gatedClients(turns, sweepFailsAt);
        const comeBack = async () => {
          const { generation } = await node.renewLease(dead, 60_000);
          const reopened = await node.openConn({ user, connId: c1, device: 'd', incarnation: dead, generation }, 10, 'reregister');
          if (back === 'then-hello' || back === 'then-dies') await node.openConn({ user, connId: c2, device: 'e', incarnation: dead, generation }, 10, 'hello');
          if (back === 'then-close') await node.closeConn(user, c1, dead);
          if (back === 'then-dies') await nodeRedis.zadd(keys.leases(), 1, dead);
          return reopened;
        };
        const [, reopened] = await Promise.all([turns.run('sweep', () => sweepOrInjected(sweeper, dead, sweepFailsAt)), turns.run('node', comeBack)]);
        end();

        const order = turns.order.join(' ');
        expect(reopened, order).toEqual([]);
        if (back !== 'then-dies') {
          const open = back === 'then-close' ? [] : back === 'then-hello' ? [c1, c2] : [c1];
          expect(Object.keys(await file.cmd.hgetall(keys.conns(user))).sort(), `registrations after ${order}`).toEqual([...open].sort());
          expect(Object.keys(await file.cmd.hgetall(keys.nodeRegistry(dead))).sort(), `the node's registry after ${order}`).toEqual(open.map((c) => `${user}\t${c}`).sort());
        }
        await diesAndIsSwept(user, dead, order);
      }),
      { numRuns: 400 },
    );
  }, 180_000);

  it('a registry an older server left as a set is swept as it was (registrations of the lapsed generation removed, the set emptied)', async () => {
    const [user, dead] = [uid('u'), uid('n')];
    const { generation } = await store().renewLease(dead, 60_000);
    // what a server before 2026-12-06 wrote for a hello: a set member, then the registration
    const open = async (connId: string, device: string) => {
      await file.cmd.sadd(keys.nodeRegistry(dead), `${user}\t${connId}`);
      await file.cmd.eval(loadLua('conn-open.lua'), 2, keys.conns(user), keys.presence(user), keys.busChannel(), user, connId, `${dead}#${generation}`, device, 10, 'hello');
    };
    await open('c1', 'd1');
    await open('c2', 'd2');
    expect(await file.cmd.type(keys.nodeRegistry(dead))).toBe('set');
    await lapse(dead);
    expect(await store().sweepIncarnation(dead, 'sweeper')).toBe(2);
    expect(await file.cmd.hgetall(keys.conns(user))).toEqual({});
    expect(await file.cmd.exists(keys.nodeRegistry(dead))).toBe(0);
    expect((await store().presence([user]))[0]!.status).toBe('offline');
  });

  it('a hello on its way when the node notices the lapse is re-registered at the next renewal, in any interleaving with the sweep', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (choices) => {
        const [user1, user2, dead] = [uid('u'), uid('u'), uid('n')];
        const turns = new Turns(choices);
        const { sweeper, node, end } = await gatedClients(turns, null);
        // the node's presence, on the gated client; u2's hello waits before its first command
        let letThrough = (): void => {};
        const held = new Promise<void>((r) => (letThrough = r));
        const openConn = node.openConn.bind(node);
        node.openConn = async (reg, max, mode) => {
          if (reg.user === user2 && mode === 'hello') await held;
          return openConn(reg, max, mode);
        };
        const conns: Conn[] = [];
        const presence = new Presence(node, pino({ level: 'silent' }), dead, 60_000, 10, () => conns);
        const connOf = (user: string, id: string) => ({ user, id, device: 'd', registered: false, isOpen: true }) as unknown as Conn;
        const [c1, c2] = [connOf(user1, uid('c')), connOf(user2, uid('c'))];
        // before the schedule: c1 open, u2's hello held on its way, then the lease lapses
        await presence.open(c1);
        conns.push(c1);
        const opening = presence.open(c2);
        await lapse(dead);
        turns.active = true;
        // the sweep, against: the renewal that notices the lapse (and re-registers c1), then u2's hello landing
        await Promise.all([
          turns.run('sweep', () => sweeper.sweepIncarnation(dead, 'sweeper')),
          turns.run('node', async () => {
            await presence.renew();
            letThrough();
            expect(await opening).toEqual([]);
          }),
        ]);
        conns.push(c2);
        // the node's next renewal
        await presence.renew();
        end();
        const order = turns.order.join(' ');
        for (const c of [c1, c2]) {
          expect(Object.keys(await file.cmd.hgetall(keys.conns(c.user))), `${c.user}'s registrations after ${order}`).toEqual([c.id]);
          expect(await file.cmd.hexists(keys.nodeRegistry(dead), `${c.user}\t${c.id}`), `${c.user} in the registry after ${order}`).toBe(1);
        }
        for (const c of [c1, c2]) await diesAndIsSwept(c.user, dead, order);
      }),
      { numRuns: 200 },
    );
  }, 180_000);
});
