// The lean links' connection code (server/store/redis/resp-link.ts) against a stand-in for
// Redis (test/helpers/stand-in-redis.ts), on the real clock: deadlines timed from the write,
// a handshake that fails (dropped, retried, reported once per outage), a listener of the
// owner's that throws, close().
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';
import { hotScripts, ScriptLink } from '../../server/store/redis/script-link.ts';
import { standInRedis, type StandInOptions } from '../helpers/stand-in-redis.ts';

const T = 200;
const live: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of live.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Runs `fn` in the timers phase, then keeps the node busy for `ms` in the same turn. */
function queuedThenFrozen(fn: () => void, ms: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      fn();
      const end = Date.now() + ms;
      while (Date.now() < end);
      resolve();
    }, 0),
  );
}

async function busOn(opts: StandInOptions, url?: (port: number) => string) {
  const redis = await standInRedis(opts);
  live.push(redis.close);
  const logged: { msg: string; link?: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const links = new RedisLinks(url ? url(redis.port) : redis.url, T, 'ch', pino({ level: 'warn' }, sink), 'n1');
  const events: string[] = [];
  links.on('busUp', () => events.push('busUp'));
  links.on('busDown', () => events.push('busDown'));
  links.sub.start();
  live.push(() => links.close());
  return { redis, links, events, logged };
}


describe('a failed handshake', () => {
  it('is logged once per outage (warn, with the reason and not the password), not at each retry', async () => {
    let refuse = true;
    const { redis, links, logged } = await busOn(
      { reply: (w) => (w[0] === 'AUTH' && refuse ? '-WRONGPASS invalid username-password pair or user is disabled.\r\n' : undefined) },
      (port) => `redis://:s3cret-pw@127.0.0.1:${port}`,
    );
    await until(() => redis.conns.length >= 4, 5000, 'four tries');
    const failed = () => logged.filter((l) => l.msg.includes('handshake failed'));
    expect(failed()).toEqual([expect.objectContaining({ link: 'bus', reason: 'WRONGPASS invalid username-password pair or user is disabled.' })]);
    expect(JSON.stringify(logged)).not.toContain('s3cret');
    expect(links.isBusUp).toBe(false);
    // the password is right again: up; a new outage is logged again, once
    refuse = false;
    await until(() => links.isBusUp, 3000, 'busUp');
    refuse = true;
    const n = redis.conns.length;
    links.sub.reopen();
    await until(() => redis.conns.length >= n + 3, 5000, 'three more tries');
    expect(failed().length).toBe(2);
  });

  it('a busUp listener that throws: no unhandled rejection; the link is dropped, reported, and comes up once it no longer throws', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    live.push(() => void process.off('unhandledRejection', onUnhandled));
    const { redis, links, events, logged } = await busOn({});
    let throws = 2;
    links.on('busUp', () => {
      if (throws-- > 0) throw new Error('listener broke');
    });
    await until(() => events.filter((e) => e === 'busUp').length === 3, 5000, 'a third busUp');
    await sleep(50);
    expect(unhandled).toEqual([]);
    expect(events).toEqual(['busUp', 'busDown', 'busUp', 'busDown', 'busUp']);
    expect(links.isBusUp).toBe(true);
    expect(redis.conns.length).toBe(3);
    expect(logged.filter((l) => l.msg.includes('handshake failed'))).toEqual([expect.objectContaining({ link: 'bus', reason: 'listener broke' })]);
  });
});

