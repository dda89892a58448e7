// The store seams' contracts (server/store/{log,cursors,groups,presence-store}.ts), one
// suite run against every implementation: Redis (a real redis-server, the production
// scripts; on the command link alone, and with the lean link as a node runs them) and
// memory (what the in-process core tests stand on). If they ever disagree, the in-process
// tests stop meaning anything; this suite is what says so.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeBusPayload, type BusPayload } from '../../server/bus/payloads.ts';
import { decodeServerFrame } from '../../server/protocol/server-frames.ts';
import { keys } from '../../server/store/keys.ts';
import { MEMBERSHIPS_KEPT } from '../../server/store/log.ts';
import { MemoryBroker, type MemoryBusLink } from '../../server/store/memory/memory-bus.ts';
import { MemoryStore } from '../../server/store/memory/memory-store.ts';
import { RedisCursorStore } from '../../server/store/redis/redis-cursors.ts';
import { RedisGroupStore } from '../../server/store/redis/redis-groups.ts';
import { RedisConversationLog } from '../../server/store/redis/redis-log.ts';
import { RedisPresenceStore } from '../../server/store/redis/redis-presence.ts';
import { hotScripts, ScriptLink } from '../../server/store/redis/script-link.ts';
import type { Stores } from '../../server/store/stores.ts';
import { waitUntil } from '../helpers/procs.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

const GROUP_MAX = 4;
const MAX_GROUPS = 3;

interface Impl {
  stores: Omit<Stores, 'bus'>;
  /** a log with other limits: at most `retentionMaxMsgs` messages per conversation, `newConversationsPerMinute`, retention and dedupe times */
  limitedLog(limits: { retentionMaxMsgs?: number; newConversationsPerMinute?: number }): Pick<Stores, 'log' | 'groups'>;
  /**
   * a log with these retention and dedupe times on a store of its own (Redis: another
   * database, so its reclaimer meets no other test's conversations), and what a
   * conversation there holds: stored messages plus remembered dedupe entries (an orphan once)
   */
  reclaimingLog(limits: { retentionMs: number; dedupeTtlMs: number }): { log: Stores['log']; entriesHeld(conv: string): Promise<number> };
  /** payloads published since the last call, in order */
  published(): Promise<BusPayload[]>;
}

let redis: RedisHandle;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
}, 60_000);
const links: ScriptLink[] = [];
/**
 * The next Redis database a reclaiming log gets, one each: the reclaim index and the dedupe
 * entries a variant's test leaves expire seconds later, and a later variant sharing the
 * database reclaimed them as its own (CI, 2026-12-07: the lean variant's first reclaim counted
 * one conversation where it expected none).
 */
let nextReclaimDb = 1;
afterAll(async () => {
  for (const l of links) l.close();
  for (const c of clients) c.disconnect();
  await redis?.cleanup();
});

/**
 * The Redis stores; `withLean`: with the lean link too (script-link.ts), as a node runs them,
 * so what it serves (the hot scripts, the connect's commands) keeps the contract as well.
 */
async function redisImpl(withLean = false): Promise<Impl> {
  const cmd = new Redis(redis.url);
  const sub = new Redis(redis.url);
  clients.push(cmd, sub);
  let fast: ScriptLink | null = null;
  if (withLean) {
    const link = new ScriptLink(redis.url, 2000, Object.values(hotScripts), 'imstorm-fast-contract');
    fast = link;
    link.start();
    links.push(link);
    await waitUntil(() => link.isReady || null, { timeoutMs: 5000, what: 'the lean link ready' });
  }
  const got: string[] = [];
  sub.on('message', (_ch, text: string) => got.push(text));
  await sub.subscribe(keys.busChannel());
  // one client at a time here: a short grace keeps the reclaim timings of the contract readable
  const limits = { retentionMaxMsgs: 1000, retentionMs: 3_600_000, dedupeTtlMs: 3_600_000, reclaimAddGraceMs: 100 };
  return {
    stores: { log: new RedisConversationLog(cmd, limits, fast), cursors: new RedisCursorStore(cmd, fast), groups: new RedisGroupStore(cmd, { groupMax: GROUP_MAX, maxGroupsPerUser: MAX_GROUPS }, fast), presence: new RedisPresenceStore(cmd, fast) },
    limitedLog: (l) => ({ log: new RedisConversationLog(cmd, { ...limits, ...l }, fast), groups: new RedisGroupStore(cmd, { groupMax: GROUP_MAX, maxGroupsPerUser: MAX_GROUPS }, fast) }),
    reclaimingLog(l) {
      const other = new Redis(redis.url, { db: nextReclaimDb++ });
      clients.push(other);
      return {
        log: new RedisConversationLog(other, { ...limits, ...l }),
        async entriesHeld(conv) {
          const [len, dedupe] = await Promise.all([other.xlen(keys.log(conv)), other.hlen(keys.dedupe(conv))]);
          return len + dedupe;
        },
      };
    },
    async published() {
      // a PING on the subscriber comes back after every message published before it
      await sub.ping();
      return got.splice(0).map(decodeBusPayload).filter((p) => p.k !== 'h');
    },
  };
}

async function memoryImpl(): Promise<Impl> {
  const broker = new MemoryBroker({ auto: false });
  const link: MemoryBusLink = broker.link('observer');
  const store = new MemoryStore(broker, { limits: { groupMax: GROUP_MAX, maxGroupsPerUser: MAX_GROUPS } });
  return {
    stores: { log: store, cursors: store, groups: store, presence: store },
    limitedLog: (l) => {
      const other = new MemoryStore(broker, { limits: { groupMax: GROUP_MAX, ...l } });
      return { log: other, groups: other };
    },
    reclaimingLog(l) {
      const other = new MemoryStore(broker, { limits: l });
      return { log: other, entriesHeld: async (conv) => other.storedSeqs(conv).length + other.dedupeEntries(conv) };
    },
    async published() {
      return link.inbox.splice(0).map(decodeBusPayload);
    },
  };
}

const uid = (p: string) => `${p}${randomBytes(4).toString('hex')}`;
const dmOf = (a: string, b: string) => (a < b ? `dm:${a}:${b}` : `dm:${b}:${a}`);
const sendReq = (conv: string, sender: string, cmid: string, body = 'hi') => ({
  conv,
  isGroup: conv.startsWith('g:'),
  dmUsers: conv.startsWith('dm:') ? conv.slice(3).split(':') : [],
  sender,
  cmid,
  bodyJson: JSON.stringify(body),
});

describe.each([
  ['redis', () => redisImpl()],
  ['redis with the lean link', () => redisImpl(true)],
  ['memory', memoryImpl],
])('store contract: %s', (_name, make) => {
  let impl: Impl;
  beforeAll(async () => {
    impl = await make();
  });
  // the lean variant's stores fall back to ioredis while their link is down: a test that ran so proved nothing of it
  afterEach(() => {
    for (const l of links) expect(l.isReady, 'the lean link was down at the end of the test (it ran on ioredis)').toBe(true);
  });

  it('send: seqs from 1, a dm indexed for both users, one seq per (sender, cmid), the m payload carries the msg frame', async () => {
    const { log, groups } = impl.stores;
    const [a, b] = [uid('a'), uid('b')];
    const conv = dmOf(a, b);
    await impl.published();
    const first = await log.send(sendReq(conv, a, 'c1', 'he said "hi"\n'));
    expect(first).toMatchObject({ seq: 1, dup: false });
    expect(typeof first.epoch).toBe('string');
    expect(await groups.userConvs(a)).toContain(conv);
    expect(await groups.userConvs(b)).toContain(conv);
    const again = await log.send(sendReq(conv, a, 'c1', 'other body'));
    expect(again).toEqual({ ...first, dup: true });
    expect((await log.send(sendReq(conv, b, 'c1'))).seq).toBe(2);
    const pub = await impl.published();
    expect(pub.map((p) => p.k)).toEqual(['m', 'm']);
    const m = pub[0]!;
    if (m.k !== 'm') throw new Error('expected m');
    expect(m).toMatchObject({ conv, epoch: first.epoch, seq: 1 });
    expect(decodeServerFrame(m.frame)).toEqual({ t: 'msg', conv, seq: 1, from: a, cmid: 'c1', body: 'he said "hi"\n', ts: first.ts });
  });

  it('retention trims by count; a trimmed message keeps its dedupe entry (a retry answers its seq, dup)', async () => {
    const { log } = impl.limitedLog({ retentionMaxMsgs: 3 });
    const [a, b] = [uid('a'), uid('b')];
    const conv = dmOf(a, b);
    for (let i = 1; i <= 6; i++) await log.send(sendReq(conv, a, `c${i}`));
    const [st] = await log.states(a, [conv]);
    expect(st).toMatchObject({ head: 6, trimmed: 3 });
    expect((await log.range(conv, 1, null, 10)).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(await log.send(sendReq(conv, a, 'c1'))).toMatchObject({ seq: 1, dup: true });
    expect(await log.send(sendReq(conv, a, 'c7'))).toMatchObject({ seq: 7, dup: false });
  });

  it('reclaim: a conversation nobody writes to loses its messages after RETENTION_MS (a retry still answers dup), its dedupe entries after DEDUPE_TTL_MS; written again, it is reclaimed again', async () => {
    const retentionMs = 1000;
    const dedupeTtlMs = 4000;
    const { log, entriesHeld } = impl.reclaimingLog({ retentionMs, dedupeTtlMs });
    const [a, b, c] = [uid('a'), uid('b'), uid('c')];
    const idle = dmOf(a, b);
    const total = { conversations: 0, messages: 0, dedupeEntries: 0 };
    // two reclaimers at once, as two nodes run them: each expiry is still counted once
    const reclaimer = async () => {
      for (let more = true; more; ) {
        const r = await log.reclaim(100);
        total.conversations += r.conversations;
        total.messages += r.messages;
        total.dedupeEntries += r.dedupeEntries;
        more = r.more;
      }
    };
    const reclaimAll = async () => {
      await Promise.all([reclaimer(), reclaimer()]);
      return total;
    };
    const trimmed = async () => (await log.states(a, [idle]))[0]!.trimmed;
    for (let i = 1; i <= 3; i++) await log.send(sendReq(idle, a, `c${i}`));
    expect(await reclaimAll()).toEqual({ conversations: 0, messages: 0, dedupeEntries: 0 });
    expect(await entriesHeld(idle)).toBe(6);

    await waitUntil(async () => (await reclaimAll(), (await trimmed()) === 3), { what: 'the idle conversation trimmed', timeoutMs: 10_000, intervalMs: 100 });
    expect(total).toEqual({ conversations: 1, messages: 3, dedupeEntries: 0 });
    expect(await log.range(idle, 1, null, 10)).toEqual([]);
    expect((await log.states(a, [idle]))[0]).toMatchObject({ head: 3, trimmed: 3 });
    expect(await log.send(sendReq(idle, a, 'c2'))).toMatchObject({ seq: 2, dup: true });
    // a conversation written just now is left alone
    const young = dmOf(a, c);
    await log.send(sendReq(young, a, 'y1'));
    await reclaimAll();
    expect(await entriesHeld(young)).toBe(2);

    await waitUntil(async () => (await reclaimAll(), (await entriesHeld(idle)) === 0), { what: 'the dedupe entries expired', timeoutMs: 15_000, intervalMs: 100 });
    expect(total.dedupeEntries).toBeGreaterThanOrEqual(3);
    // written again after everything expired: a new seq (the cmid is forgotten), reclaimed again
    expect(await log.send(sendReq(idle, a, 'c1'))).toMatchObject({ seq: 4, dup: false });
    await waitUntil(async () => (await reclaimAll(), (await trimmed()) === 4), { what: 'the conversation reclaimed again', timeoutMs: 10_000, intervalMs: 100 });
    expect((await log.states(a, [idle]))[0]).toMatchObject({ head: 4, trimmed: 4 });
  }, 40_000);

  it('NEW_CONVERSATIONS_PER_MINUTE: a sender starting more dms in a minute is refused rate_limited (nothing indexed); its existing dms and other senders go on', async () => {
    const { log, groups } = impl.limitedLog({ newConversationsPerMinute: 2 });
    const [a, b] = [uid('a'), uid('b')];
    const peers = [uid('p'), uid('p'), uid('p')];
    await log.send(sendReq(dmOf(a, peers[0]!), a, 'c'));
    await log.send(sendReq(dmOf(a, peers[1]!), a, 'c'));
    await expect(log.send(sendReq(dmOf(a, peers[2]!), a, 'c'))).rejects.toMatchObject({ code: 'rate_limited', message: expect.stringContaining('NEW_CONVERSATIONS_PER_MINUTE') });
    expect(await groups.userConvs(peers[2]!)).toEqual([]);
    expect((await log.send(sendReq(dmOf(a, peers[0]!), a, 'c2'))).seq).toBe(2);
    expect((await log.send(sendReq(dmOf(b, peers[2]!), b, 'c'))).seq).toBe(1);
  });

  it('send to a group: not_found without it, forbidden for a non-member', async () => {
    const { log, groups } = impl.stores;
    const [o, x] = [uid('o'), uid('x')];
    const g = uid('g');
    await expect(log.send(sendReq(`g:${g}`, o, 'c'))).rejects.toMatchObject({ code: 'not_found' });
    await groups.createGroup(o, g, []);
    await expect(log.send(sendReq(`g:${g}`, x, 'c'))).rejects.toMatchObject({ code: 'forbidden' });
    expect((await log.send(sendReq(`g:${g}`, o, 'c'))).seq).toBe(1);
  });

  it('states, heads and range: join points, leave points, a missing conversation', async () => {
    const { log, groups } = impl.stores;
    const [o, m, late, out] = [uid('o'), uid('m'), uid('l'), uid('z')];
    const g = uid('g');
    const conv = `g:${g}`;
    await groups.createGroup(o, g, [m]);
    for (let i = 1; i <= 3; i++) await log.send(sendReq(conv, o, `c${i}`));
    expect(await groups.joinGroup(o, g, [late, m])).toEqual([late]);
    await log.send(sendReq(conv, o, 'c4'));
    expect(await groups.leaveGroup(m, g, m)).toBe(true);
    await log.send(sendReq(conv, o, 'c5'));
    const [so, sm, sl, sz] = await log.states(o, [conv]).then(async (r) => [r[0]!, ...(await log.states(m, [conv])), ...(await log.states(late, [conv])), ...(await log.states(out, [conv]))]);
    expect(so).toMatchObject({ head: 5, trimmed: 0, join: 0, left: -1 });
    expect(sm).toMatchObject({ head: 5, join: 0, left: 4 });
    expect(sl).toMatchObject({ head: 5, join: 3, left: -1 });
    expect(sz).toMatchObject({ join: -1, left: -1 });
    const [missing] = await log.states(o, [`g:${uid('nope')}`]);
    expect(missing).toEqual({ epoch: null, head: 0, trimmed: 0, join: -1, left: -1, earlier: [] });
    // the member who left at 4 joins again at 5: its open connections are owed up to 4, then from 5
    expect(await groups.joinGroup(o, g, [m])).toEqual([m]);
    expect((await log.states(m, [conv]))[0]).toMatchObject({ join: 5, left: -1, earlier: [0, 4] });
    expect((await log.states(late, [conv]))[0]).toMatchObject({ join: 3, earlier: [] });
    expect(await log.heads([conv, 'dm:nobody1:nobody2'])).toEqual([{ epoch: so!.epoch, head: 5 }, { epoch: null, head: 0 }]);
    expect((await log.range(conv, 2, 4, 100)).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await log.range(conv, 2, null, 2)).map((e) => e.seq)).toEqual([2, 3]);
    expect(decodeServerFrame((await log.range(conv, 5, 5, 1))[0]!.frame)).toMatchObject({ t: 'msg', conv, seq: 5, cmid: 'c5' });
  });

  it('states: every ended membership of a user who left and joined again and again, oldest first, at most MEMBERSHIPS_KEPT', async () => {
    const { log, groups } = impl.stores;
    const [o, u] = [uid('o'), uid('u')];
    const g = uid('g');
    const conv = `g:${g}`;
    await groups.createGroup(o, g, [u]);
    const st = async () => (await log.states(u, [conv]))[0]!;
    // u: member (0, 1], then (2, 3], then (4, …): three memberships, seqs 2 and 4 stored between
    let n = 0;
    const send = () => log.send(sendReq(conv, o, `c${++n}`));
    await send();
    await groups.leaveGroup(u, g, u);
    await send();
    await groups.joinGroup(o, g, [u]);
    await send();
    await groups.leaveGroup(u, g, u);
    expect(await st()).toMatchObject({ head: 3, join: 2, left: 3, earlier: [0, 1] });
    await send();
    await groups.joinGroup(o, g, [u]);
    expect(await st()).toMatchObject({ head: 4, join: 4, left: -1, earlier: [0, 1, 2, 3] });
    // past MEMBERSHIPS_KEPT ended memberships, the oldest is forgotten
    for (let i = 0; i < MEMBERSHIPS_KEPT; i++) {
      await send();
      await groups.leaveGroup(u, g, u);
      await send();
      await groups.joinGroup(o, g, [u]);
    }
    const last = await st();
    expect(last.earlier).toHaveLength(2 * MEMBERSHIPS_KEPT);
    expect(last.earlier.slice(0, 4)).toEqual([4, 5, 6, 7]);
    expect(last.earlier.at(-1)).toBe(last.join - 1);
    expect(last).toMatchObject({ left: -1, join: 4 + 2 * MEMBERSHIPS_KEPT });
    await groups.leaveGroup(u, g, u);
    const gone = await st();
    expect(gone.earlier).toHaveLength(2 * (MEMBERSHIPS_KEPT - 1));
    expect(gone).toMatchObject({ join: last.join, left: last.head });
  });

  it('history: after, before, both, neither, and more', async () => {
    const { log } = impl.stores;
    const [a, b] = [uid('a'), uid('b')];
    const conv = dmOf(a, b);
    for (let i = 1; i <= 7; i++) await log.send(sendReq(conv, a, `c${i}`, `m${i}`));
    const seqs = async (q: { after?: number; before?: number; limit: number }) => {
      const p = await log.history(a, conv, q);
      return { seqs: p.msgsJson.map((j) => (JSON.parse(j) as { seq: number }).seq), more: p.more };
    };
    expect(await seqs({ after: 2, limit: 3 })).toEqual({ seqs: [3, 4, 5], more: true });
    expect(await seqs({ after: 5, limit: 3 })).toEqual({ seqs: [6, 7], more: false });
    expect(await seqs({ before: 5, limit: 2 })).toEqual({ seqs: [3, 4], more: true });
    expect(await seqs({ after: 1, before: 4, limit: 10 })).toEqual({ seqs: [2, 3], more: false });
    expect(await seqs({ limit: 3 })).toEqual({ seqs: [5, 6, 7], more: true });
    expect(JSON.parse((await log.history(a, conv, { after: 0, limit: 1 })).msgsJson[0]!)).toMatchObject({ seq: 1, from: a, cmid: 'c1', body: 'm1' });
    await expect(log.history(a, `g:${uid('nope')}`, { limit: 5 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('cursors and read marks: forward only within an epoch, replaced by another epoch; a read that moved is announced', async () => {
    const { cursors } = impl.stores;
    const u = uid('u');
    await cursors.advanceCursors(
      u,
      'd1',
      new Map([
        ['g:x', { epoch: 'E1', seq: 5 }],
        ['g:y', { epoch: 'E1', seq: 2 }],
      ]),
    );
    await cursors.advanceCursors(u, 'd1', new Map([['g:x', { epoch: 'E1', seq: 3 }]]));
    expect(await cursors.cursorOf(u, 'd1', 'g:x')).toEqual({ epoch: 'E1', seq: 5 });
    await cursors.advanceCursors(u, 'd1', new Map([['g:x', { epoch: 'E2', seq: 1 }]]));
    expect(await cursors.cursors(u, 'd1')).toEqual(new Map([['g:x', { epoch: 'E2', seq: 1 }], ['g:y', { epoch: 'E1', seq: 2 }]]));
    expect(await cursors.cursors(u, 'd2')).toEqual(new Map());
    await impl.published();
    expect(await cursors.advanceRead(u, { conv: 'g:x', epoch: 'E1', seq: 4 }, 'conn1')).toBe(true);
    expect(await cursors.advanceRead(u, { conv: 'g:x', epoch: 'E1', seq: 4 }, 'conn1')).toBe(false);
    expect(await cursors.reads(u)).toEqual(new Map([['g:x', { epoch: 'E1', seq: 4 }]]));
    expect(await impl.published()).toEqual([{ k: 'r', user: u, conv: 'g:x', seq: 4, originConn: 'conn1' }]);
  });

  it('advanceCursorsBatch: several devices (of several users) in one call, each forward only as advanceCursors, one answer per device', async () => {
    const { cursors } = impl.stores;
    const [u, v] = [uid('u'), uid('u')];
    await cursors.advanceCursors(u, 'd1', new Map([['g:x', { epoch: 'E1', seq: 5 }]]));
    const ok = await cursors.advanceCursorsBatch([
      {
        user: u,
        device: 'd1',
        marks: new Map([
          ['g:x', { epoch: 'E1', seq: 3 }],
          ['g:y', { epoch: 'E1', seq: 7 }],
        ]),
      },
      { user: u, device: 'd2', marks: new Map([['g:x', { epoch: 'E1', seq: 9 }]]) },
      { user: v, device: 'd1', marks: new Map([['g:x', { epoch: 'E2', seq: 1 }]]) },
      { user: v, device: 'd2', marks: new Map() },
    ]);
    expect(ok).toEqual([true, true, true, true]);
    expect(await cursors.cursors(u, 'd1')).toEqual(new Map([['g:x', { epoch: 'E1', seq: 5 }], ['g:y', { epoch: 'E1', seq: 7 }]]));
    expect(await cursors.cursors(u, 'd2')).toEqual(new Map([['g:x', { epoch: 'E1', seq: 9 }]]));
    expect(await cursors.cursors(v, 'd1')).toEqual(new Map([['g:x', { epoch: 'E2', seq: 1 }]]));
    expect(await cursors.cursors(v, 'd2')).toEqual(new Map());
    // another epoch replaces, within a batch as alone
    await cursors.advanceCursorsBatch([{ user: u, device: 'd1', marks: new Map([['g:x', { epoch: 'E2', seq: 2 }]]) }]);
    expect(await cursors.cursorOf(u, 'd1', 'g:x')).toEqual({ epoch: 'E2', seq: 2 });
    expect(await cursors.advanceCursorsBatch([])).toEqual([]);
  });

  it('groups: create, conflict, size, who may add and remove, ownership, join and leave announced with their seq', async () => {
    const { groups, log } = impl.stores;
    const [o, m1, m2, m3, m4] = [uid('o'), uid('a'), uid('b'), uid('c'), uid('d')];
    const g = uid('g');
    const conv = `g:${g}`;
    await impl.published();
    expect(await groups.createGroup(o, g, [m1, m1, o])).toBe(conv);
    await expect(groups.createGroup(o, g, [])).rejects.toMatchObject({ code: 'conflict' });
    await expect(groups.createGroup(o, uid('g'), [m1, m2, m3, m4])).rejects.toMatchObject({ code: 'too_large' });
    await expect(groups.joinGroup(m2, g, [m3])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(groups.joinGroup(o, uid('nope'), [m3])).rejects.toMatchObject({ code: 'not_found' });
    await log.send(sendReq(conv, o, 'c1'));
    expect(await groups.joinGroup(m1, g, [m2])).toEqual([m2]);
    await expect(groups.joinGroup(o, g, [m3, m4])).rejects.toMatchObject({ code: 'too_large' });
    await expect(groups.leaveGroup(m1, g, m2)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await groups.leaveGroup(o, g, o)).toBe(true);
    expect(await groups.leaveGroup(o, g, o)).toBe(false);
    expect(await groups.getGroup(m1, g)).toEqual({ owner: m1, head: 1, members: [m1, m2] });
    await expect(groups.getGroup(o, g)).rejects.toMatchObject({ code: 'forbidden' });
    const events = (await impl.published()).filter((p) => p.k === 'j' || p.k === 'l');
    expect(events.map((p) => (p.k === 'j' || p.k === 'l' ? `${p.k} ${p.user === o ? 'o' : p.user === m1 ? 'm1' : 'm2'} ${p.atSeq}` : ''))).toEqual(['j o 0', 'j m1 0', 'j m2 1', 'l o 1']);
    await groups.forgetConvs(o, [conv]);
    expect(await groups.userConvs(o)).not.toContain(conv);
  });

  it('a refused group change writes nothing: no index entries for a non-member\'s join, a conflicting create or an oversized one', async () => {
    const { groups } = impl.stores;
    const [o, x, v1, v2] = [uid('o'), uid('x'), uid('v'), uid('v')];
    const g = uid('g');
    await groups.createGroup(o, g, []);
    await expect(groups.joinGroup(x, g, [v1])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(groups.createGroup(x, g, [v1])).rejects.toMatchObject({ code: 'conflict' });
    await expect(groups.createGroup(x, uid('g'), [v1, v2, uid('a'), uid('b')])).rejects.toMatchObject({ code: 'too_large' });
    await expect(groups.joinGroup(o, uid('nope'), [v2])).rejects.toMatchObject({ code: 'not_found' });
    for (const u of [x, v1, v2]) expect(await groups.userConvs(u)).toEqual([]);
  });

  it('MAX_GROUPS_PER_USER: a user in that many groups is not added to another (nobody in that change is); forgetting frees a place', async () => {
    const { groups } = impl.stores;
    const [o, full, other] = [uid('o'), uid('f'), uid('u')];
    const gs = [uid('g'), uid('g'), uid('g')];
    for (const g of gs) await groups.createGroup(o === full ? o : uid('o'), g, [full]);
    const extra = uid('g');
    await expect(groups.createGroup(o, extra, [other, full])).rejects.toMatchObject({ code: 'too_large', message: expect.stringContaining(full) });
    expect(await groups.userConvs(other)).toEqual([]);
    const g2 = uid('g');
    await groups.createGroup(o, g2, [other]);
    await expect(groups.joinGroup(o, g2, [full])).rejects.toMatchObject({ code: 'too_large' });
    await groups.forgetConvs(full, [`g:${gs[0]}`]);
    expect(await groups.joinGroup(o, g2, [full])).toEqual([full]);
  });

  it('presence: online with the first connection, a device replaces itself (k 4409), at most maxDevices, offline with the last; v rises', async () => {
    const { presence } = impl.stores;
    const u = uid('u');
    const inc = uid('n');
    await presence.renewLease(inc, 10_000);
    await impl.published();
    const reg = (connId: string, device: string) => ({ user: u, connId, device, incarnation: inc, generation: 1 });
    expect(await presence.openConn(reg('c1', 'd1'), 2, 'hello')).toEqual([]);
    expect(await presence.openConn(reg('c2', 'd1'), 2, 'hello')).toEqual(['c1']);
    expect(await presence.openConn(reg('c3', 'd2'), 2, 'hello')).toEqual([]);
    expect(await presence.openConn(reg('c4', 'd3'), 2, 'hello')).toBeNull();
    const [online] = await presence.presence([u]);
    expect(online!.status).toBe('online');
    await presence.closeConn(u, 'c2', inc);
    expect((await presence.presence([u]))[0]!.status).toBe('online');
    await presence.closeConn(u, 'c3', inc);
    await presence.closeConn(u, 'c3', inc);
    const [offline] = await presence.presence([u]);
    expect(offline!.status).toBe('offline');
    expect(offline!.v).toBeGreaterThan(online!.v);
    expect(online!.v).toBeGreaterThan(Date.now() - 60_000);
    expect((await impl.published()).map((p) => (p.k === 'p' ? `p ${p.status}` : p.k === 'k' ? `k ${p.connId} ${p.code}` : p.k))).toEqual(['p online', 'k c1 4409', 'p offline']);
    expect(await presence.presence([uid('never')])).toEqual([{ status: 'offline', v: 0, ts: 0 }]);
  });

  it('leases: a lapsed lease starts a new generation; a held lease is not swept; a sweep takes a lapsed incarnation offline once', async () => {
    const { presence } = impl.stores;
    const [u1, u2] = [uid('u'), uid('u')];
    const dead = uid('n');
    const first = await presence.renewLease(dead, 150);
    expect(first.held).toBe(false);
    const g1 = first.generation;
    expect(await presence.renewLease(dead, 150)).toEqual({ held: true, generation: g1 });
    await presence.openConn({ user: u1, connId: 'c1', device: 'd', incarnation: dead, generation: g1 }, 10, 'hello');
    await new Promise((r) => setTimeout(r, 250));
    expect(await presence.expiredLeases(1000)).toContain(dead);
    // the node comes back: a new generation, above the old; it re-registers and opens another connection
    const back = await presence.renewLease(dead, 150);
    expect(back.held).toBe(false);
    expect(back.generation).toBeGreaterThan(g1);
    const g2 = back.generation;
    await presence.openConn({ user: u1, connId: 'c1', device: 'd', incarnation: dead, generation: g2 }, 10, 'reregister');
    await presence.openConn({ user: u2, connId: 'c2', device: 'd', incarnation: dead, generation: g2 }, 10, 'hello');
    expect(await presence.sweepIncarnation(dead, 'sweeper')).toBe(0);
    expect((await presence.presence([u1, u2])).map((s) => s.status)).toEqual(['online', 'online']);
    // then it dies for good
    await new Promise((r) => setTimeout(r, 250));
    expect(await presence.sweepIncarnation(dead, 'sweeper')).toBe(2);
    expect(await presence.sweepIncarnation(dead, 'sweeper')).toBe(0);
    expect((await presence.presence([u1, u2])).map((s) => s.status)).toEqual(['offline', 'offline']);
    expect(await presence.expiredLeases(1000)).not.toContain(dead);
  });

  it('leases: the generation after a sweep forgot the incarnation is not one it had before (a node that lost the answer of the renewal that saw the lapse still sees it)', async () => {
    const { presence } = impl.stores;
    const u = uid('u');
    const n = uid('n');
    const { generation: g1 } = await presence.renewLease(n, 150);
    await presence.openConn({ user: u, connId: 'c1', device: 'd', incarnation: n, generation: g1 }, 10, 'hello');
    await new Promise((r) => setTimeout(r, 250));
    // swept to the end: the incarnation's lease and generation are forgotten
    expect(await presence.sweepIncarnation(n, 'sweeper')).toBe(1);
    expect(await presence.expiredLeases(1000)).not.toContain(n);
    // the renewal that sees the lapse (its answer may be lost on the way), then the next one
    const lapse = await presence.renewLease(n, 150);
    expect(lapse.held).toBe(false);
    expect(lapse.generation).not.toBe(g1);
    expect(await presence.renewLease(n, 150)).toEqual({ held: true, generation: lapse.generation });
  });

  it('a re-registration whose device registered another connection meanwhile writes nothing and answers null (it was replaced)', async () => {
    const { presence } = impl.stores;
    const u = uid('u');
    const [a, b] = [uid('n'), uid('n')];
    // c1 on node a was swept; the device connected again on node b (c2)
    await presence.openConn({ user: u, connId: 'c2', device: 'd', incarnation: b, generation: 1 }, 10, 'hello');
    expect(await presence.openConn({ user: u, connId: 'c1', device: 'd', incarnation: a, generation: 2 }, 10, 'reregister')).toBeNull();
    expect([...(await presence.registrations(u))]).toEqual([['c2', 'd']]);
    // another device of the user is re-registered as before
    expect(await presence.openConn({ user: u, connId: 'c3', device: 'e', incarnation: a, generation: 2 }, 10, 'reregister')).toEqual([]);
    expect(new Set((await presence.registrations(u)).keys())).toEqual(new Set(['c2', 'c3']));
  });

  it('a re-registration of a connection already registered (a retry after one that failed part-way) keeps it, once, and the user online', async () => {
    const { presence } = impl.stores;
    const u = uid('u');
    const n = uid('n');
    expect(await presence.openConn({ user: u, connId: 'c1', device: 'd', incarnation: n, generation: 2 }, 10, 'reregister')).toEqual([]);
    const before = (await presence.presence([u]))[0]!;
    expect(await presence.openConn({ user: u, connId: 'c1', device: 'd', incarnation: n, generation: 2 }, 10, 'reregister')).toEqual([]);
    expect([...(await presence.registrations(u))]).toEqual([['c1', 'd']]);
    const after = (await presence.presence([u]))[0]!;
    expect(after.status).toBe('online');
    expect(after.v).toBeGreaterThanOrEqual(before.v);
  });
});
