// The bus link (server/store/redis/bus-subscription.ts, as RedisLinks runs it) against a real
// redis-server: payloads exactly as published and in order, a Redis killed and restarted,
// a Redis paused past the timeout, a node frozen past it, AUTH and TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisLinks } from '../../server/store/links.ts';
import { freePort, sleep, waitUntil } from '../helpers/procs.ts';
import { startRedis, type RedisHandle, type RedisOptions } from '../helpers/redis.ts';

const TIMEOUT_MS = 400;
const CHANNEL = 'bus-test';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = (cond: () => boolean, ms: number, what: string) => waitUntil(cond, { timeoutMs: ms, intervalMs: 10, what });

interface Bus {
  links: RedisLinks;
  /** busUp / busDown, in order */
  events: string[];
  got: string[];
}

function busOn(url: string, nodeId = 'n1'): Bus {
  const links = new RedisLinks(url, TIMEOUT_MS, CHANNEL, pino({ level: 'silent' }), nodeId);
  const bus: Bus = { links, events: [], got: [] };
  links.on('busUp', () => bus.events.push('busUp'));
  links.on('busDown', () => bus.events.push('busDown'));
  links.on('message', (p) => bus.got.push(p));
  links.start();
  cleanups.push(() => links.close());
  return bus;
}

async function setup(opts: RedisOptions = {}): Promise<{ redis: RedisHandle; pub: Redis; bus: Bus }> {
  const redis = await startRedis(opts);
  cleanups.push(() => redis.cleanup());
  cleanups.push(() => (redis.paused ? redis.resume() : undefined));
  const pub = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  pub.on('error', () => {});
  cleanups.push(() => pub.disconnect());
  const bus = busOn(redis.url);
  await until(() => bus.links.isBusUp, 3000, 'busUp');
  return { redis, pub, bus };
}

/** Publishes `p` and waits until the bus delivered it. */
async function roundTrip(pub: Redis, bus: Bus, p: string): Promise<void> {
  await pub.publish(CHANNEL, p);
  await until(() => bus.got.includes(p), 3000, `message ${p}`);
}

function busClient(list: string, name: string): Record<string, string> | undefined {
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  return line ? Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : undefined;
}

describe('the bus link on a real Redis', () => {
  it('delivers every payload as published, in order: non-ASCII, CRLF inside, empty, and 200 KB ones that take many reads', async () => {
    const { pub, bus } = await setup();
    const big = 'é✓🙂'.repeat(25_000) + 'x'.repeat(100_000);
    const sent = ['hello', 'héllo ✓ 🙂 日本語', 'a\r\nb\r\n', '', big, '{"k":"m","frame":"\\u0000"}', big + '!', ...Array.from({ length: 500 }, (_, i) => `m${i}:${'y'.repeat(i)}`)];
    for (const p of sent) void pub.publish(CHANNEL, p);
    await until(() => bus.got.length >= sent.length, 5000, 'every message');
    expect(bus.got.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) expect(bus.got[i] === sent[i], `payload ${i} (${sent[i]!.length} chars) differs`).toBe(true);
    expect(bus.events).toEqual(['busUp']);
  });

  it('is named in CLIENT LIST, subscribed, and a message published as busUp is emitted arrives', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const pub = new Redis(redis.port, '127.0.0.1');
    cleanups.push(() => pub.disconnect());
    const bus = busOn(redis.url, 'node-7');
    // published the moment busUp is emitted: SUBSCRIBE was answered, so it must arrive
    bus.links.on('busUp', () => void pub.publish(CHANNEL, 'first'));
    await until(() => bus.got.includes('first'), 3000, 'the message published at busUp');
    const c = busClient(String(await pub.client('LIST')), 'imstorm-bus-node-7');
    expect(c, 'no client named imstorm-bus-node-7').toBeDefined();
    expect(c!.sub).toBe('1');
    expect(c!.cmd).toMatch(/^(subscribe|ping)$/);
  });

  it('a Redis killed and restarted: busDown, then busUp again and messages flow', async () => {
    const { redis, pub, bus } = await setup({ appendonly: false });
    await roundTrip(pub, bus, 'before');
    await redis.kill();
    await until(() => bus.events.includes('busDown'), 3000, 'busDown');
    expect(bus.links.isBusUp).toBe(false);
    await redis.start();
    await until(() => bus.links.isBusUp, 5000, 'busUp after the restart');
    expect(bus.events).toEqual(['busUp', 'busDown', 'busUp']);
    await roundTrip(pub, bus, 'after');
  });

  it('a Redis paused past STORE_TIMEOUT_MS: the link is dropped while paused and subscribes again after SIGCONT', async () => {
    const { redis, pub, bus } = await setup();
    const before = busClient(String(await pub.client('LIST')), 'imstorm-bus-n1')!.id;
    redis.pause();
    const pausedAt = Date.now();
    await until(() => bus.events.includes('busDown'), 3 * TIMEOUT_MS + 500, 'busDown while paused');
    // a PING every TIMEOUT/2, unanswered for TIMEOUT
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    await sleep(TIMEOUT_MS);
    redis.resume();
    await until(() => bus.links.isBusUp, 5000, 'busUp after SIGCONT');
    expect(bus.events).toEqual(['busUp', 'busDown', 'busUp']);
    await roundTrip(pub, bus, 'after the pause');
    expect(busClient(String(await pub.client('LIST')), 'imstorm-bus-n1')!.id).not.toBe(before);
  });

  it('a node frozen longer than STORE_TIMEOUT_MS with a PING in flight keeps its link: Redis answered meanwhile', async () => {
    const { pub, bus } = await setup();
    const before = busClient(String(await pub.client('LIST')), 'imstorm-bus-n1')!.id;
    await sleep(TIMEOUT_MS); // the probe's own ping answered
    bus.links.sub.ping();
    expect(bus.links.sub.inFlight).toBe(1);
    const published = pub.publish(CHANNEL, 'during the freeze');
    // queued after the link's own end-of-turn write: the PING is on the wire when the node
    // freezes, and the link's timer is due before the poll that reads the answer
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const end = Date.now() + 2.5 * TIMEOUT_MS;
        while (Date.now() < end);
        resolve();
      }),
    );
    await published;
    await until(() => bus.got.includes('during the freeze'), 3000, 'the message published during the freeze');
    await sleep(TIMEOUT_MS);
    expect(bus.events).toEqual(['busUp']);
    expect(busClient(String(await pub.client('LIST')), 'imstorm-bus-n1')!.id).toBe(before);
  });

  it('logs in with the URL\'s password (requirepass) and ACL user; a wrong one does not come up, and is tried again', async () => {
    const { redis, pub } = await setup();
    await pub.call('ACL', 'SETUSER', 'bususer', 'on', '>bus pass', '&*', '+@all', '~*');
    await pub.config('SET', 'requirepass', 'pw:1@x');
    const plain = busOn(`redis://:${encodeURIComponent('pw:1@x')}@127.0.0.1:${redis.port}`, 'pw');
    const acl = busOn(`redis://bususer:${encodeURIComponent('bus pass')}@127.0.0.1:${redis.port}`, 'acl');
    const wrong = busOn(`redis://bususer:nope@127.0.0.1:${redis.port}`, 'wrong');
    await until(() => plain.links.isBusUp && acl.links.isBusUp, 3000, 'both up');
    await pub.publish(CHANNEL, 'authed');
    await until(() => plain.got.includes('authed') && acl.got.includes('authed'), 3000, 'the message on both');
    const list = String(await pub.client('LIST'));
    expect(busClient(list, 'imstorm-bus-acl')!.user).toBe('bususer');
    expect(busClient(list, 'imstorm-bus-pw')!.user).toBe('default');
    await sleep(2 * TIMEOUT_MS);
    expect(wrong.events).toEqual([]);
    expect(busClient(list, 'imstorm-bus-wrong')).toBeUndefined();
    // a refused handshake is tried again (after the reconnect delay): once the password is right, it comes up
    await pub.call('ACL', 'SETUSER', 'bususer', '>nope');
    await until(() => wrong.links.isBusUp, 3000, 'busUp once the password is right');
  });

  // ioredis went on after these two error replies; a handshake that failed on them came up never
  it('an ACL user refused CLIENT SETNAME (-client) still comes up: the refusal is ignored, the link goes unnamed', async () => {
    const { redis, pub } = await setup();
    await pub.call('ACL', 'SETUSER', 'app', 'on', '>pw', '&*', '~*', '+@all', '-client');
    const bus = busOn(`redis://app:pw@127.0.0.1:${redis.port}`, 'noclient');
    await until(() => bus.links.isBusUp, 3000, 'busUp for a user without CLIENT');
    await roundTrip(pub, bus, 'to the unnamed link');
    const list = String(await pub.client('LIST'));
    expect(busClient(list, 'imstorm-bus-noclient'), 'SETNAME was refused: the link has no name').toBeUndefined();
    expect(list.split('\n').filter((l) => / sub=1 /.test(l) && / user=app /.test(l)).length, 'subscribed as app').toBe(1);
    expect(bus.events).toEqual(['busUp']);
  });

  it('a URL with a password on a Redis without one comes up (AUTH answered "called without any password configured")', async () => {
    const { redis, pub } = await setup();
    const bus = busOn(`redis://:secret@127.0.0.1:${redis.port}`, 'nopass');
    await until(() => bus.links.isBusUp, 3000, 'busUp with a needless password');
    await roundTrip(pub, bus, 'authed for nothing');
    expect(busClient(String(await pub.client('LIST')), 'imstorm-bus-nopass')!.user).toBe('default');
    expect(bus.events).toEqual(['busUp']);
  });

  it('speaks TLS for rediss:// URLs', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const tlsPort = await freePort();
    const { pub } = await setup({ extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no'] });
    // the certificate is self-signed: this test's process trusts it (Node reads this at each connect)
    const was = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    cleanups.push(() => {
      if (was === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = was;
    });
    const bus = busOn(`rediss://localhost:${tlsPort}`, 'tls');
    await until(() => bus.links.isBusUp, 3000, 'busUp over TLS');
    const payload = 'über TLS ✓'.repeat(10_000);
    await pub.publish(CHANNEL, payload);
    await until(() => bus.got.length > 0, 3000, 'the message over TLS');
    expect(bus.got).toEqual([payload]);
    expect(busClient(String(await pub.client('LIST')), 'imstorm-bus-tls')!.laddr).toBe(`127.0.0.1:${tlsPort}`);
  });
});
