// The lean links' connection code (server/store/redis/resp-link.ts) against a stand-in for
// Redis (test/helpers/stand-in-redis.ts), on the real clock: deadlines timed from the write,
// a handshake that fails (dropped, retried, reported once per outage), a listener of the
// owner's that throws, close().
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';
import { hotScripts, ScriptLink } from '../../server/store/redis/script-link.ts';
import { waitUntil } from '../helpers/procs.ts';
import { standInRedis, type StandInOptions } from '../helpers/stand-in-redis.ts';

const T = 200;
const live: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of live.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = (cond: () => boolean, ms: number, what: string) => waitUntil(cond, { timeoutMs: ms, intervalMs: 10, what });

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

describe('deadlines count from the write, not from the queueing', () => {
  it("a bus PING queued, then a turn of the node 2.5× the timeout before it leaves: a link that answers in a few ms stays up", async () => {
    const { redis, links, events } = await busOn({ hold: (w) => (w[0] === 'PING' ? 3 : 0) });
    await until(() => links.isBusUp, 3000, 'busUp');
    // the probe's PING, queued in the timers phase; its bytes leave at the turn's end
    await queuedThenFrozen(() => links.sub.ping(), 2.5 * T);
    expect(links.sub.inFlight).toBe(1);
    await until(() => links.sub.inFlight === 0 || events.length > 1, 3000, 'the PING answered or the link dropped');
    await sleep(T);
    expect(events, 'a healthy link was dropped').toEqual(['busUp']);
    expect(redis.conns.length).toBe(1);
    expect(redis.conns[0]!.got.map((g) => g.words[0])).toEqual(['CLIENT', 'SUBSCRIBE', 'PING']);
  });

  it('a hot-script call queued, then such a turn: answered, not rejected, and the link stays up', async () => {
    const redis = await standInRedis({ hold: (w) => (w[0] === 'EVALSHA' ? 3 : 0) });
    live.push(redis.close);
    const link = new ScriptLink(redis.url, T, Object.values(hotScripts), 'imstorm-fast-t');
    link.start();
    live.push(() => link.close());
    await until(() => link.isReady, 3000, 'ready');
    let answer: Promise<unknown> = Promise.resolve();
    await queuedThenFrozen(() => (answer = link.call(hotScripts.send, ['a', 'b', 'c', 'd', 'e', 'x'])), 2.5 * T);
    await expect(answer).resolves.toBe(1);
    expect(link.isReady).toBe(true);
    expect(redis.conns.length).toBe(1);
  });
});

describe('deadlines when the wall clock is set', () => {
  it('an hour back with a call in flight that Redis never answers: rejected after the timeout, not an hour later', async () => {
    const redis = await standInRedis({ hold: (w) => (w[0] === 'EVALSHA' ? Infinity : 0) });
    live.push(redis.close);
    const link = new ScriptLink(redis.url, T, Object.values(hotScripts), 'imstorm-fast-t');
    link.start();
    live.push(() => link.close());
    await until(() => link.isReady, 3000, 'ready');
    // Date alone is faked (moving with real time), and stepped as NTP or an operator steps the
    // wall clock; timers and the monotonic clock (util/clock.ts) run on
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 5 });
    const answer = link.call(hotScripts.send, ['a', 'b', 'c', 'd', 'e', 'x']);
    const settled = answer.then(
      () => 'answered',
      (e: Error) => e.message,
    );
    vi.setSystemTime(Date.now() - 3_600_000);
    const outcome = await Promise.race([settled, sleep(10 * T).then(() => 'still waiting')]);
    expect(outcome).toBe('Command timed out');
  });
});

describe('a failed handshake', () => {
  it('ScriptLink: an error reply to SCRIPT LOAD (LOADING) drops the connection, and the next one becomes ready', async () => {
    let refused = 0;
    const redis = await standInRedis({
      reply: (w) => (w[0] === 'SCRIPT' && refused++ === 0 ? '-LOADING Redis is loading the dataset in memory\r\n' : undefined),
    });
    live.push(redis.close);
    const link = new ScriptLink(redis.url, T, Object.values(hotScripts), 'imstorm-fast-t');
    const reports: (string | null)[] = [];
    link.onHandshake = (f) => reports.push(f);
    link.start();
    live.push(() => link.close());
    await until(() => link.isReady, 3000, 'ready');
    expect(redis.conns.length).toBe(2);
    expect(redis.conns[0]!.closed).not.toBeNull();
    expect(redis.conns[1]!.got.filter((g) => g.words[0] === 'SCRIPT').length).toBe(Object.keys(hotScripts).length);
    expect(reports).toEqual(['LOADING Redis is loading the dataset in memory', null]);
    await expect(link.call(hotScripts.send, ['a', 'b', 'c', 'd', 'e', 'x'])).resolves.toBe(1);
  });

  it('a connection refused is reported with its cause, not only "closed"', async () => {
    // nothing listens on port 1
    const link = new ScriptLink('redis://127.0.0.1:1', T, [], 'imstorm-fast-t');
    const reports: (string | null)[] = [];
    link.onHandshake = (f) => reports.push(f);
    link.start();
    live.push(() => link.close());
    await until(() => reports.length > 0, 3000, 'a report');
    expect(reports[0]).toMatch(/^Connection is closed \(connect ECONNREFUSED 127\.0\.0\.1:1\)\.$/);
  });

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
    // backs off like any failure (100 ms, then 200 ms): a listener that always throws is not a 10 Hz reconnect loop
    expect(redis.conns[2]!.got[0]!.at - redis.conns[1]!.got[0]!.at).toBeGreaterThanOrEqual(180);
    expect(logged.filter((l) => l.msg.includes('handshake failed'))).toEqual([expect.objectContaining({ link: 'bus', reason: 'listener broke' })]);
  });
});

describe('close()', () => {
  it('while waiting to reconnect: clears the reconnect timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // nothing listens on port 1: the connect is refused and a reconnect is due
    const link = new ScriptLink('redis://127.0.0.1:1', T, [], 'imstorm-fast-t');
    link.start();
    live.push(() => link.close());
    const end = performance.now() + 3000;
    while (link.status !== 'reconnecting' && performance.now() < end) await new Promise((r) => setImmediate(r));
    expect(link.status).toBe('reconnecting');
    // the socket's 'close' comes a turn or two after it was destroyed: its handler drops
    // the handshake's calls (their deadline timer) and arms the reconnect
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(vi.getTimerCount(), 'the reconnect timer alone').toBe(1);
    link.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
