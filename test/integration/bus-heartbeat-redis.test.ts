// The bus heartbeat on real Redis and a real node (server/bus/bus.ts). A heartbeat published
// into a stalled link and lost with the cut must not make the node reopen the bus subscription
// that replaced it (before 2026-12-05 it did, a second drop and resync about STORE_TIMEOUT_MS
// after the link was back). Nor may a heartbeat whose PUBLISH Redis refused while the
// subscription stayed up (it reopened a healthy subscription every STORE_TIMEOUT_MS or so).
// In the first, the node's Redis links go through the test's TCP relay (harness/util/tcp-relay.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../helpers/nodes.ts';
import { waitUntil } from '../helpers/procs.ts';
import { startRedis } from '../helpers/redis.ts';
import { redisBehindRelay } from '../helpers/relay.ts';
import { readyzStatus } from '../../harness/util/http-call.ts';

const STORE_TIMEOUT_MS = 2000; // a heartbeat every 1000 ms, judged after 2000 (room for a loaded CI machine)

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('the bus heartbeat across a Redis link cut (real Redis, a real node)', () => {
  it('reconnects once: the heartbeat lost with the old subscription does not reopen the new one', { timeout: 30_000 }, async () => {
    const { relay } = await redisBehindRelay(cleanups);
    const node = await startNode({ redisUrl: relay.url, env: { STORE_TIMEOUT_MS } });
    cleanups.push(() => node.kill());
    await waitUntil(async () => (await readyzStatus(node.url)) === 200 || undefined, { what: 'the node ready' });
    await sleep(2_200); // heartbeats going round

    const from = node.logs.length;
    relay.stall(); // longer than a heartbeat period, shorter than STORE_TIMEOUT_MS: one is published into the stall
    await sleep(1_400);
    relay.cut(); // and lost with the sockets
    relay.restore();
    await waitUntil(async () => (await readyzStatus(node.url)) === 200 || undefined, { what: 'the node ready again' });
    await sleep(3 * STORE_TIMEOUT_MS);

    const reopened = node.logs.slice(from).filter((l) => l.json?.msg === 'reopening the bus link').map((l) => l.json?.reason);
    expect(reopened).toEqual([]);
    // the bus was back and its heartbeats came round: the node still serves
    expect(await readyzStatus(node.url)).toBe(200);
  });

  it('a heartbeat whose PUBLISH Redis refused is not waited for: the subscription that stayed up is not reopened', { timeout: 30_000 }, async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const node = await startNode({ redisUrl: redis.url, env: { STORE_TIMEOUT_MS } });
    cleanups.push(() => node.kill());
    await waitUntil(async () => (await readyzStatus(node.url)) === 200 || undefined, { what: 'the node ready' });
    await sleep(2_200);

    const from = node.logs.length;
    // every PUBLISH of the node's command link is refused (NOPERM) at once; its links stay up
    // and the subscription goes on delivering what anyone else publishes
    await redis.command('ACL', 'SETUSER', 'default', '-publish');
    cleanups.push(() => void redis.command('ACL', 'SETUSER', 'default', '+publish').catch(() => {}));
    await sleep(3 * STORE_TIMEOUT_MS);
    await redis.command('ACL', 'SETUSER', 'default', '+publish');
    await sleep(STORE_TIMEOUT_MS);

    const reopened = node.logs.slice(from).filter((l) => l.json?.msg === 'reopening the bus link').map((l) => l.json?.reason);
    expect(reopened).toEqual([]);
    expect(node.logs.slice(from).some((l) => l.json?.msg === 'bus link down')).toBe(false);
    expect(await readyzStatus(node.url)).toBe(200);
  });
});
