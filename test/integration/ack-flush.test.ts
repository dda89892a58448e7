// Acks written by the spread flush (issue 10, "The ack stall") against a real node and
// Redis: devices that ack and stay connected get their cursors written (no close needed),
// also when Redis stopped answering for a while meanwhile, and a reconnecting device
// resumes right after its acked seq.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers/client.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import { uid } from '../helpers/ids.ts';
import { sleep, waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';
import { keys } from '../../server/store/keys.ts';

const STORE_TIMEOUT_MS = 500;
const MEMBERS = 60;

let cl: Cluster;
beforeAll(async () => {
  cl = await startCluster({ nodes: 1, env: { STORE_TIMEOUT_MS } });
});
afterAll(async () => {
  await cl?.cleanup();
});

/** the device's stored cursor of `conv` (`<epoch>|<seq>`), read from Redis */
async function storedSeq(user: string, conv: string): Promise<number | null> {
  const v = (await cl.redis.command('HGET', keys.cursors(user, 'd'), conv)) as string | null;
  return v ? Number(v.split('|')[1]) : null;
}

async function groupWithMembers(): Promise<{ conv: string; owner: Client; members: string[]; conns: Client[] }> {
  const A = cl.nodes[0]!;
  const owner = uid('o');
  const members = Array.from({ length: MEMBERS }, () => uid('m'));
  const id = uid('g');
  const res = await api(A.url, 'POST', '/v1/groups', { token: await token({ sub: owner }), body: { id, members } });
  expect(res.status).toBe(201);
  const conv = `g:${id}`;
  const conns = await Promise.all(members.map((m) => connectAs(A, m, 'd').then((c) => cl.track(c))));
  for (const c of conns) await c.waitSynced();
  return { conv, owner: cl.track(await connectAs(A, owner)), members, conns };
}

async function sendAll(owner: Client, conv: string, n: number, tag: string): Promise<void> {
  for (let i = 1; i <= n; i++) expect((await owner.request({ t: 'send', conv, cmid: `${tag}${i}`, body: 'x' })).t).toBe('sent');
}

describe('the spread ack flush', () => {
  it(`${MEMBERS} connected devices ack: every cursor is written while they stay connected; each resumes after its acked seq`, async () => {
    const { conv, owner, members, conns } = await groupWithMembers();
    await sendAll(owner, conv, 3, 'a');
    for (const c of conns) await c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 3);
    // device i acks 2 or 3
    await Promise.all(conns.map(async (c, i) => expect((await c.request({ t: 'ack', conv, seq: 2 + (i % 2) })).t).toBe('ok')));
    await waitUntil(async () => (await Promise.all(members.map((m) => storedSeq(m, conv)))).every((s, i) => s === 2 + (i % 2)), { timeoutMs: 10_000, what: 'every cursor written' });
    expect(conns.every((c) => c.ws.readyState === 1)).toBe(true);

    for (const c of conns) c.terminate();
    for (const [i, m] of members.entries()) {
      const back = cl.track(await connectAs(cl.nodes[0]!, m, 'd'));
      await back.waitSynced();
      // acked 2: a conv frame from cursor 2 and message 3; acked 3 (the head): nothing to replay
      if (i % 2 === 0) expect(back.frames.find((f) => f.t === 'conv' && f.conv === conv)).toMatchObject({ cursor: 2, head: 3 });
      expect(back.msgs(conv).map((f) => f.seq)).toEqual(i % 2 ? [] : [3]);
      back.terminate();
    }
  });

  it('acks held while Redis does not answer are written once it answers again, connections still open', async () => {
    const { conv, owner, members, conns } = await groupWithMembers();
    await sendAll(owner, conv, 2, 'b');
    for (const c of conns) await c.waitFor((f) => f.t === 'msg' && f.conv === conv && f.seq === 2);
    await Promise.all(conns.map(async (c) => expect((await c.request({ t: 'ack', conv, seq: 2 })).t).toBe('ok')));
    // longer than a whole round of the flush and than STORE_TIMEOUT_MS: the writes of this round fail
    cl.redis.pause();
    try {
      await sleep(1500);
    } finally {
      cl.redis.resume();
    }
    await waitUntil(async () => (await Promise.all(members.map((m) => storedSeq(m, conv)))).every((s) => s === 2), { timeoutMs: 15_000, what: 'every cursor written after the pause' });
    expect(conns.every((c) => c.ws.readyState === 1)).toBe(true);
  });
});
