// The Redis link probe (server/store/links.ts) on its own: which link states it drops. For
// the command link, a real ioredis object that never connects (lazyConnect, never started),
// its state set by hand, the clock by vitest: what is checked is the decision at each probe.
// The bus link (redis/bus-subscription.ts) times its commands itself: it talks to a scripted
// stand-in for Redis on a real socket, on the real clock.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';
import { waitUntil } from '../helpers/procs.ts';
import { standInRedis, type StandInOptions } from '../helpers/stand-in-redis.ts';

const TIMEOUT = 1000;

function setup() {
  const links = new RedisLinks('redis://127.0.0.1:1', TIMEOUT, 'ch', pino({ level: 'silent' }));
  const drops = { cmd: 0 };
  const connects = { cmd: 0 };
  links.cmd.disconnect = () => void drops.cmd++;
  links.cmd.connect = () => {
    connects.cmd++;
    return Promise.resolve();
  };
  links.cmd.ping = (() => Promise.resolve('PONG')) as never;
  const set = (link: 'cmd', status: string) => ((links[link] as unknown as { status: string }).status = status);
  const probe = () => (links as unknown as { probe(): Promise<void> }).probe();
  return { links, drops, connects, set, probe };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => vi.useRealTimers());

describe('the Redis link probe', () => {
  it('does not cut a reconnect\'s handshake that is within STORE_TIMEOUT_MS of its start, however long the link was away', async () => {
    const { links, drops, set, probe } = setup();
    set('cmd', 'ready');
    links.cmd.emit('ready');
    expect(links.isCmdUp).toBe(true);
    // Redis goes away: the link closes and waits to reconnect (ioredis's timer)
    set('cmd', 'reconnecting');
    links.cmd.emit('close');
    vi.advanceTimersByTime(3000);
    await probe();
    expect(drops.cmd).toBe(0);
    // its reconnect delay (up to 1 s) passes; a new connection begins its handshake
    vi.advanceTimersByTime(1000);
    set('cmd', 'connect');
    links.cmd.emit('connect');
    vi.advanceTimersByTime(200);
    await probe();
    expect(drops.cmd, 'a handshake 200 ms old was cut').toBe(0);
    vi.advanceTimersByTime(600);
    await probe();
    expect(drops.cmd, 'a handshake 800 ms old was cut').toBe(0);
    // ready: the link is back
    set('cmd', 'ready');
    links.cmd.emit('ready');
    expect(links.isCmdUp).toBe(true);
  });

  it('cuts a handshake that takes longer than STORE_TIMEOUT_MS from its start (PROTOCOL.md: its handshake included)', async () => {
    const { links, drops, set, probe } = setup();
    set('cmd', 'connect');
    links.cmd.emit('connect');
    vi.advanceTimersByTime(TIMEOUT + 100);
    await probe();
    expect(drops.cmd).toBe(1);
  });

  it('cuts an answering link that stops answering pings for STORE_TIMEOUT_MS', async () => {
    const { links, drops, set, probe } = setup();
    set('cmd', 'ready');
    links.cmd.emit('ready');
    links.cmd.ping = (() => Promise.reject(new Error('Command timed out'))) as never;
    vi.advanceTimersByTime(500);
    await probe();
    expect(drops.cmd).toBe(0);
    vi.advanceTimersByTime(600);
    await probe();
    expect(drops.cmd).toBe(1);
    expect(links.isCmdUp).toBe(false);
  });

  it('does not cut a link whose ping timed out while the node itself was frozen; cuts it when pings then time out on time for STORE_TIMEOUT_MS', async () => {
    const { links, drops, set, probe } = setup();
    set('cmd', 'ready');
    links.cmd.emit('ready');
    await probe();
    // the node freezes 3 s with a ping in flight: its timeout runs 2 s late
    links.cmd.ping = (() => {
      vi.advanceTimersByTime(3 * TIMEOUT);
      return Promise.reject(new Error('Command timed out'));
    }) as never;
    await probe();
    expect(drops.cmd, 'a ping that timed out during a freeze cut the link').toBe(0);
    expect(links.isCmdUp).toBe(true);
    // after it, pings time out on time: a link that stopped answering
    links.cmd.ping = (() => {
      vi.advanceTimersByTime(TIMEOUT);
      return Promise.reject(new Error('Command timed out'));
    }) as never;
    await probe();
    expect(drops.cmd).toBe(0);
    await probe();
    expect(drops.cmd).toBe(1);
  });

  it('cuts a link that stops answering though the wall clock was set an hour back meanwhile (it counts on the monotonic clock)', async () => {
    const { links, drops, set, probe } = setup();
    set('cmd', 'ready');
    links.cmd.emit('ready');
    await probe();
    // vi.setSystemTime moves Date alone: a step of the wall clock, as NTP or an operator makes
    vi.setSystemTime(Date.now() - 3_600_000);
    links.cmd.ping = (() => {
      vi.advanceTimersByTime(TIMEOUT / 2);
      return Promise.reject(new Error('Command timed out'));
    }) as never;
    for (let i = 0; i < 4; i++) await probe();
    expect(drops.cmd, 'a link that stopped answering was kept for the hour of the step').toBe(1);
  });

  it('starts again a link that ended by itself', async () => {
    const { connects, set, probe } = setup();
    set('cmd', 'end');
    await probe();
    expect(connects.cmd).toBe(1);
  });
});

describe('the bus link', () => {
  const T = 400;
  const live: Array<() => Promise<void> | void> = [];
  beforeEach(() => vi.useRealTimers());
  afterEach(async () => {
    for (const fn of live.splice(0).reverse()) await fn();
  });

  async function busOn(hold: (words: string[]) => number, timeout = T, opts: StandInOptions = {}) {
    const redis = await standInRedis({ hold, ...opts });
    live.push(redis.close);
    const links = new RedisLinks(redis.url, timeout, 'ch', pino({ level: 'silent' }), 'n1');
    const events: { e: string; at: number }[] = [];
    links.on('busUp', () => events.push({ e: 'busUp', at: Date.now() }));
    links.on('busDown', () => events.push({ e: 'busDown', at: Date.now() }));
    // the bus link alone: the command link would talk to the stand-in too
    links.sub.start();
    live.push(() => void links.sub.close());
    return { redis, links, events };
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const until = (cond: () => boolean, ms: number, what: string) => waitUntil(cond, { timeoutMs: ms, intervalMs: 10, what });

  // The order of events is asserted, not wall-clock bounds (a busy 2-core machine delays
  // timers by tens of ms); the margins that remain are 40-50 % of a 1 s timeout.
  it('is up only once SUBSCRIBE is answered; its handshake, then its SUBSCRIBE, each get STORE_TIMEOUT_MS of their own', async () => {
    const T1 = 1000;
    // CLIENT SETNAME answered after 50 % of the timeout, SUBSCRIBE after 60 % more: 110 % in all
    let upAtAnswer: boolean | null = null;
    let links!: RedisLinks;
    const bus = await busOn((w) => (w[0] === 'CLIENT' ? 0.5 * T1 : w[0] === 'SUBSCRIBE' ? 0.6 * T1 : 0), T1, {
      beforeReply: (w) => {
        if (w[0] === 'SUBSCRIBE') upAtAnswer = links.isBusUp;
      },
    });
    ({ links } = bus);
    const { redis, events } = bus;
    await until(() => events.length > 0 || redis.conns.length > 1 || redis.conns[0]?.closed != null, 4 * T1, 'busUp or a drop');
    expect(redis.conns[0]!.got.map((g) => g.words[0])).toEqual(['CLIENT', 'SUBSCRIBE']);
    expect(redis.conns[0]!.got[0]!.words).toEqual(['CLIENT', 'SETNAME', 'imstorm-bus-n1']);
    expect(redis.conns[0]!.got[1]!.words).toEqual(['SUBSCRIBE', 'ch']);
    expect(upAtAnswer, 'up before its SUBSCRIBE was answered').toBe(false);
    expect(events.map((e) => e.e), 'a handshake plus SUBSCRIBE longer than STORE_TIMEOUT_MS in all was cut').toEqual(['busUp']);
    expect(links.sub.status).toBe('ready');
    expect(redis.conns.length).toBe(1);
    expect(redis.conns[0]!.closed).toBeNull();
  });

  it('cuts a SUBSCRIBE unanswered for STORE_TIMEOUT_MS from its own start, and tries again', async () => {
    const T1 = 1000;
    const { redis, events } = await busOn((w) => (w[0] === 'CLIENT' ? 0.5 * T1 : w[0] === 'SUBSCRIBE' ? Infinity : 0), T1);
    await until(() => redis.conns.length > 1, 6 * T1, 'a second connection');
    const first = redis.conns[0]!;
    const sub = first.got.find((g) => g.words[0] === 'SUBSCRIBE')!;
    expect(first.closed).not.toBeNull();
    // not from the connect (that would cut it 0.5 s after it was sent), nor left much longer
    expect(first.closed! - sub.at).toBeGreaterThanOrEqual(0.75 * T1);
    expect(first.closed! - sub.at).toBeLessThan(1.5 * T1);
    expect(events).toEqual([]);
  });

  it('a PING unanswered for STORE_TIMEOUT_MS drops the subscription (busDown) and a new one subscribes', async () => {
    let pings = 0;
    const { redis, links, events } = await busOn((w) => (w[0] === 'PING' && ++pings === 1 ? Infinity : 0));
    await until(() => events.length > 0, 4 * T, 'busUp');
    expect(events.map((e) => e.e)).toEqual(['busUp']);
    links.sub.ping();
    await until(() => events.length >= 3, 6 * T, 'busDown, then busUp again');
    expect(events.map((e) => e.e)).toEqual(['busUp', 'busDown', 'busUp']);
    const ping = redis.conns[0]!.got.find((g) => g.words[0] === 'PING')!;
    // timed from the PING's write (a little before the stand-in read it), never cut at once
    expect(events[1]!.at - ping.at).toBeGreaterThanOrEqual(0.75 * T);
    expect(redis.conns.length).toBe(2);
  });

  it('a PING answered late behind a stream of messages does not drop it: the messages are answers too', async () => {
    let pings = 0;
    const { redis, links, events } = await busOn((w) => (w[0] === 'PING' && ++pings === 1 ? 2 * T : 0));
    const got: string[] = [];
    links.on('message', (p) => got.push(p));
    await until(() => events.length > 0, 4 * T, 'busUp');
    links.sub.ping();
    for (let i = 0; i < 2 * T; i += 50) {
      await sleep(50);
      redis.conns[0]!.sock.write(`*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$${String(i).length}\r\n${i}\r\n`);
    }
    await sleep(200);
    expect(got.length).toBe(2 * T / 50);
    expect(links.sub.inFlight, 'the PING was answered').toBe(0);
    expect(events.map((e) => e.e)).toEqual(['busUp']);
    expect(redis.conns.length).toBe(1);
  });
});

