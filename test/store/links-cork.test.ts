// The node's ioredis command link against a real redis-server: what one event-loop turn
// writes on it leaves in one syscall (server/util/turn-cork.ts holdEveryTurn), on the first
// connection and on every reconnect, and every command still gets its own answer.
import type net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';
import { sleep } from '../helpers/procs.ts';
import { rawCommand, startRedis } from '../helpers/redis.ts';
import { watchSyscalls } from '../helpers/sockets.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('the command link writes once a turn', () => {
  it('ten commands issued in one turn reach the socket in one writev, answered each in order; so after a reconnect', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const links = new RedisLinks(redis.url, 2000, 'imstorm-test-bus', pino({ level: 'silent' }), 'cork-test');
    links.start();
    cleanups.push(() => links.close());
    await until(() => links.isCmdUp, 5000, 'the command link');

    for (const round of ['first connection', 'after a reconnect']) {
      const sock = links.cmd.stream as net.Socket;
      const calls = watchSyscalls(sock);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => links.cmd.incrby(`cork:${round}`, i + 1)));
      // INCRBY answers the running total: each command got its own answer, in the order written
      expect(answers, round).toEqual([1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
      expect(calls, `${round}: socket write calls (chunks each)`).toEqual([10]);
      if (round === 'first connection') {
        // Redis drops the connection; ioredis reconnects on a new socket
        await rawCommand(redis.port, ['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'no']);
        await until(() => links.cmd.stream !== sock && links.isCmdUp && links.cmd.status === 'ready', 5000, 'the command link back');
      }
    }
  });
});
