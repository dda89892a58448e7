// A Redis killed and back within ~1.5 s (`imstorm explore` saw group joins answered 503 on
// every node for 15 s after one): every node must take group changes and sends again as
// soon as Redis answers, with a real redis-server killed (SIGKILL) and restarted on its AOF.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.ts';
import { connectAs } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import { uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { killAll, sleep } from '../helpers/procs.ts';
import { startRedis } from '../helpers/redis.ts';
import { token } from '../helpers/tokens.ts';
import { startHarness } from '../faults/helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  Client.terminateAll();
  await killAll();
});

/** Joins a fresh user to the group through `node` every 250 ms (under GROUP_OPS_RATE 5/s, so no 429) until one answers 200; the ms that took, and the last refusal. */
async function joinUntilOk(node: NodeHandle, ownerToken: string, group: string, deadlineMs: number): Promise<{ ms: number; last: string }> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < deadlineMs) {
    try {
      const res = await api(node.url, 'POST', `/v1/groups/${group}/members`, { token: ownerToken, body: { users: [uid('j')] }, timeoutMs: 3000 });
      if (res.status === 200) return { ms: Date.now() - start, last };
      last = `${res.status} ${res.text}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  return { ms: Infinity, last };
}

describe('Redis killed and back within 1.5 s', () => {
  // as `imstorm explore` runs them: each node reaches Redis through its own proxy (redis-link:<node>)
  it('every node takes group joins again within a few seconds of Redis answering, bounce after bounce', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const tp = await startHarness();
    cleanups.push(() => tp.close());
    const nodes: NodeHandle[] = [];
    for (let i = 0; i < 2; i++) {
      const proxy = await tp.proxy(`127.0.0.1:${redis.port}`);
      const n = await startNode({ redisUrl: `redis://${proxy.listen}`, env: { STORE_TIMEOUT_MS: 1000 } });
      cleanups.push(() => n.kill());
      nodes.push(n);
    }
    const owner = uid('own');
    const group = uid('g');
    const ownerToken = await token({ sub: owner });
    expect((await api(nodes[0]!.url, 'POST', '/v1/groups', { token: ownerToken, body: { id: group, members: [] } })).status).toBe(201);
    for (const n of nodes) expect((await joinUntilOk(n, ownerToken, group, 5000)).ms).toBeLessThan(5000);
    // load through the outage: devices of the group's members sending, reconnecting when closed
    let loading = true;
    const members = Array.from({ length: 8 }, () => uid('m'));
    expect((await api(nodes[0]!.url, 'POST', `/v1/groups/${group}/members`, { token: ownerToken, body: { users: members } })).status).toBe(200);
    const load = members.map(async (m, i) => {
      let c: Client | null = null;
      let k = 0;
      while (loading) {
        try {
          if (!c || !c.isOpen) c = await connectAs(nodes[i % nodes.length]!, m, 'd1');
          await c.request({ t: 'send', conv: `g:${group}`, cmid: `c${k++}`, body: 'x' }, 3000);
        } catch {
          await sleep(100);
        }
        await sleep(50);
      }
      c?.terminate();
    });

    const downFor = [300, 900, 1400];
    const report: string[] = [];
    for (const ms of downFor) {
      await redis.kill();
      await sleep(ms);
      await redis.start();
      const back = Date.now();
      const results = await Promise.all(nodes.map((n) => joinUntilOk(n, ownerToken, group, 20_000)));
      report.push(`down ${ms} ms: ${results.map((r, i) => `${nodes[i]!.nodeId} ok after ${r.ms} ms${r.last ? ` (last refusal ${r.last.slice(0, 160)})` : ''}`).join('; ')} (${Date.now() - back} ms)`);
      // the links are probed every STORE_TIMEOUT_MS/2 and reconnect at most 1 s apart: a few seconds is plenty
      for (const r of results) expect(r.ms, `${report.join('\n')}\n${nodes.map((n) => n.tail(30)).join('\n')}`).toBeLessThan(5000);
    }
    loading = false;
    await Promise.all(load);
    console.log(report.join('\n'));
  }, 120_000);

  // A loaded machine makes a reconnect's handshake (CLIENT SETNAME/SETINFO, then the INFO
  // ready check) slow; a latency toxic on the node's Redis link makes it slow here on purpose
  // (about 800 ms, within STORE_TIMEOUT_MS). The link probe used to drop any link that had not
  // answered for STORE_TIMEOUT_MS whatever its state, the reconnect delay (up to 1 s) counted
  // in, so it cut such handshakes again and again: recovery took seconds more, by chance (on
  // the old probe this test passed twice and failed once, 8.3 s; test/unit/links-probe.test.ts
  // shows the decision itself, deterministically).
  it('a node whose reconnect handshake is slow (400 ms a reply) gets its link back after Redis returns', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const tp = await startHarness();
    cleanups.push(() => tp.close());
    const proxy = await tp.proxy(`127.0.0.1:${redis.port}`);
    const n = await startNode({ redisUrl: `redis://${proxy.listen}`, env: { STORE_TIMEOUT_MS: 1000 } });
    cleanups.push(() => n.kill());
    const owner = uid('own');
    const group = uid('g');
    const ownerToken = await token({ sub: owner });
    expect((await api(n.url, 'POST', '/v1/groups', { token: ownerToken, body: { id: group, members: [] } })).status).toBe(201);
    await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 400, jitter: 0 } } as never);
    expect((await joinUntilOk(n, ownerToken, group, 5000)).ms).toBeLessThan(5000);
    // down long enough for ioredis's reconnect delay to reach its cap (100 ms more an attempt, at most 1 s)
    await redis.kill();
    await sleep(4000);
    await redis.start();
    const r = await joinUntilOk(n, ownerToken, group, 20_000);
    console.log(`slow handshake: join ok ${r.ms} ms after Redis returned (last refusal ${r.last.slice(0, 120)})`);
    // reconnect delay ≤ 1 s, handshake ≈ 800 ms, a join's 4 round trips ≈ 1.6 s
    expect(r.ms, n.tail(20)).toBeLessThan(6000);
  }, 60_000);
});
