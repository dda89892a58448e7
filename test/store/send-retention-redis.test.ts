// The retention a send does on Redis (server/store/redis/lua/send.lua + retention.lua), in
// the one order no other test reaches: a send that expires the last orphan (dxnext → 0) and
// then trims a message whose dedupe entry is still young, making a new orphan. dxnext must
// then name that orphan, or it is never expired (expireOrphans skips a conversation whose
// dxnext is 0) and its dedupe entry stays forever. send.lua reads meta's marks once up
// front (one HMGET), so it must keep them true to its own writes: trim reads dxnext afresh.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys } from '../../server/store/keys.ts';
import { RedisConversationLog } from '../../server/store/redis/redis-log.ts';
import { sleep } from '../helpers/procs.ts';
import { redisForFile } from '../helpers/redis.ts';

const DEDUPE_TTL_MS = 3000;
const limits = { retentionMaxMsgs: 1, retentionMs: 3_600_000, dedupeTtlMs: DEDUPE_TTL_MS, reclaimAddGraceMs: 100 };

const file = redisForFile();

const user = (p: string) => `${p}${randomBytes(4).toString('hex')}`;

describe('send: retention on Redis', () => {
  it('a send that expires the last orphan and trims a young message names the new orphan in dxnext, and a later send expires it', async () => {
    const log = new RedisConversationLog(file.cmd, limits);
    const [a, b] = [user('a'), user('b')].sort() as [string, string];
    const conv = `dm:${a}:${b}`;
    const send = (cmid: string) => log.send({ conv, isGroup: false, dmUsers: [a, b], sender: a, cmid, bodyJson: '"x"' });
    const meta = async (f: string) => Number((await file.cmd.hget(keys.meta(conv), f)) ?? '0');
    const t0 = Date.now();
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));

    // t0: c1, c2 — c2 trims seq 1 (retention of one message); c1's entry is young: orphan
    await send('c1');
    await send('c2');
    expect(await file.cmd.zcard(keys.dedupeOrphans(conv))).toBe(1);
    // t0 + 0.5 ttl: c3 trims seq 2; c2's entry is young: a second orphan
    await at(DEDUPE_TTL_MS / 2);
    const c3 = await send('c3');
    expect(await file.cmd.zcard(keys.dedupeOrphans(conv))).toBe(2);
    // t0 + 1.1 ttl: c4 expires both orphans (dxnext 0 for a moment), then trims seq 3,
    // whose entry (c3, t0 + 0.5 ttl) is young: the new orphan is the only one, dxnext its ts
    await at(DEDUPE_TTL_MS * 1.1);
    const c4 = await send('c4');
    expect(Date.now() - c3.ts).toBeLessThan(DEDUPE_TTL_MS); // the premise: c3's entry was young at c4
    expect(await file.cmd.zrange(keys.dedupeOrphans(conv), '0', '-1')).toEqual([`3\n${a}\nc3`]);
    expect(await meta('dxnext')).toBe(c3.ts);
    // t0 + 1.6 ttl: c3's orphan is past the ttl; c5's send forgets it (and orphans c4)
    await at(DEDUPE_TTL_MS * 1.6);
    await send('c5');
    expect(Date.now() - c4.ts).toBeLessThan(DEDUPE_TTL_MS); // the premise: c4's entry is young
    expect(await file.cmd.zrange(keys.dedupeOrphans(conv), '0', '-1')).toEqual([`4\n${a}\nc4`]);
    expect((await file.cmd.hkeys(keys.dedupe(conv))).sort()).toEqual([`${a}\nc4`, `${a}\nc5`]);
    expect(await meta('dxnext')).toBe(c4.ts);
  }, 20_000);
});
