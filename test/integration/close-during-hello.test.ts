// A connection that closes while its hello's registration is still on its way to Redis must
// not stay registered: no ghost connection in the user's registrations (it would count
// against MAX_DEVICES and keep the user online), nothing in the node's connection set.
// Real node, real Redis; Redis paused (SIGSTOP) holds the registration's first command, so
// the close reliably arrives in between.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { Client } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { uid } from '../helpers/ids.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { monitor, linksOf } from '../helpers/redis.ts';
import { token } from '../helpers/tokens.ts';

let cl: Cluster;

beforeAll(async () => {
  // a store call outlives the pause: the open is answered, not timed out
  cl = await startCluster({ env: { STORE_TIMEOUT_MS: 10_000 } });
});
afterAll(async () => {
  await cl?.cleanup();
});

it('a close that arrives while the hello registers the connection removes the registration after it, not before', async () => {
  const node = cl.nodes[0]!;
  const user = uid('ghost');
  const watch = await monitor(cl.redis.port);
  const links = new Set(await linksOf(cl.redis.port, node.nodeId));
  try {
    const c = await Client.connect(node.wsUrl);
    const hello = { t: 'hello', v: 1, token: await token({ sub: user }) };
    cl.redis.pause();
    try {
      c.send(hello);
      // the node verifies the token and writes the registration's first command (HSET of its
      // node's registry) into the paused Redis's socket
      await sleep(300);
      c.terminate();
      // its close is handled and the close's commands are written behind it
      await sleep(300);
    } finally {
      cl.redis.resume();
    }
    const mine = (w: string[]) => w.some((x) => x.includes(user));
    // once Redis runs what was queued, the node's commands for this user settle
    await waitUntil(() => [...watch.byAddr].some(([a, l]) => links.has(a) && l.filter(mine).some((w) => w[0]!.toLowerCase() === 'hdel')), { timeoutMs: 10_000, what: `the node's HDEL of its registry entry for ${user}` });
    await sleep(300);
    const ran = [...watch.byAddr].filter(([a]) => links.has(a)).flatMap(([, l]) => l.filter(mine).map((w) => w[0]!.toLowerCase()));
    // the race was hit: the registration began (HSET) before the close was handled
    expect(ran).toContain('hset');
    expect(await cl.redis.command('HLEN', `u:{${user}}:conns`), `commands for ${user}: ${ran.join(', ')}`).toBe(0);
    for (const registry of (await cl.redis.command('KEYS', 'n:{*}:conns')) as string[]) {
      expect((await cl.redis.command('HKEYS', registry)) as string[]).not.toContainEqual(expect.stringContaining(user));
    }
    const res = await api(node.url, 'GET', `/v1/presence?users=${user}`, { token: await token({ sub: uid('asker') }) });
    expect(res.body.users[user]).toMatchObject({ status: 'offline' });
  } finally {
    watch.stop();
  }
}, 60_000);
