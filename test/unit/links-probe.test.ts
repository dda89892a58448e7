// The Redis link probe (server/store/links.ts) on its own: which link states it drops. Real
// ioredis objects that never connect (lazyConnect, never started), their state set by hand,
// the clock by vitest: what is checked is the decision at each probe.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';

const TIMEOUT = 1000;

function setup() {
  const links = new RedisLinks('redis://127.0.0.1:1', TIMEOUT, 'ch', pino({ level: 'silent' }));
  const drops = { cmd: 0, sub: 0 };
  const connects = { cmd: 0, sub: 0 };
  for (const [name, link] of [['cmd', links.cmd], ['sub', links.sub]] as const) {
    link.disconnect = () => void drops[name]++;
    link.connect = () => {
      connects[name]++;
      return Promise.resolve();
    };
    link.ping = (() => Promise.resolve('PONG')) as never;
  }
  const set = (link: 'cmd' | 'sub', status: string) => ((links[link] as unknown as { status: string }).status = status);
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
      vi.setSystemTime(Date.now() + 3 * TIMEOUT);
      return Promise.reject(new Error('Command timed out'));
    }) as never;
    await probe();
    expect(drops.cmd, 'a ping that timed out during a freeze cut the link').toBe(0);
    expect(links.isCmdUp).toBe(true);
    // after it, pings time out on time: a link that stopped answering
    links.cmd.ping = (() => {
      vi.setSystemTime(Date.now() + TIMEOUT);
      return Promise.reject(new Error('Command timed out'));
    }) as never;
    await probe();
    expect(drops.cmd).toBe(0);
    await probe();
    expect(drops.cmd).toBe(1);
  });

  it('the bus link: its handshake, then its SUBSCRIBE, each timed from its own start', async () => {
    const { links, drops, set, probe } = setup();
    links.sub.subscribe = (() => new Promise(() => {})) as never;
    // subscribed long ago, then away for a while
    vi.advanceTimersByTime(5000);
    set('sub', 'connect');
    links.sub.emit('connect');
    vi.advanceTimersByTime(700);
    await probe();
    expect(drops.sub, 'a bus handshake 700 ms old was cut').toBe(0);
    // ready, SUBSCRIBE in flight (not yet `busUp`)
    set('sub', 'ready');
    links.sub.emit('ready');
    vi.advanceTimersByTime(800);
    await probe();
    expect(drops.sub, 'a SUBSCRIBE 800 ms old was cut').toBe(0);
    vi.advanceTimersByTime(300);
    await probe();
    expect(drops.sub, 'a SUBSCRIBE 1100 ms old').toBe(1);
  });

  it('starts again a link that ended by itself', async () => {
    const { connects, set, probe } = setup();
    set('cmd', 'end');
    await probe();
    expect(connects.cmd).toBe(1);
  });
});
