// The Redis reclaim index (server/store/redis/lua/reclaim*.lua): a conversation the
// reclaimer found empty leaves the index unless a send indexed it again between its step
// and its reschedule — the interleaving two nodes can produce, run here one step at a time.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys } from '../../server/store/keys.ts';
import { defineScripts } from '../../server/store/redis/scripts.ts';
import { RECLAIM_LEASE_MS, RedisConversationLog } from '../../server/store/redis/redis-log.ts';
import { waitUntil } from '../helpers/procs.ts';
import { redisForFile } from '../helpers/redis.ts';

const limits = { retentionMaxMsgs: 1000, retentionMs: 1000, dedupeTtlMs: 1000, reclaimAddGraceMs: 100 };

const file = redisForFile();

const index = keys.reclaimIndex();
const user = (p: string) => `${p}${randomBytes(4).toString('hex')}`;

/** One reclaimer step taken apart: claim everything due, reclaim each conversation; `finish` reschedules. */
async function claimAndReclaim(scripts: ReturnType<typeof defineScripts>) {
  const [claim, , ...convs] = (await scripts['reclaim-claim'](index, 100, RECLAIM_LEASE_MS, 7)) as [string, number, ...string[]];
  const next: (string | number)[] = [];
  for (const c of convs) {
    const [at] = (await scripts.reclaim(keys.meta(c), keys.log(c), keys.dedupe(c), keys.dedupeOrphans(c), limits.retentionMaxMsgs, limits.retentionMs, limits.dedupeTtlMs, 128)) as [number];
    next.push(c, at);
  }
  return { convs, finish: () => scripts['reclaim-finish'](index, claim, ...next) };
}

describe('reclaim index', () => {
  it('a send adds its entry due no sooner than the grace: no reclaimer can claim, and drop, a conversation whose first write is still under way', async () => {
    const log = new RedisConversationLog(file.cmd, { ...limits, reclaimAddGraceMs: 5000 });
    const [a, b] = [user('a'), user('b')];
    const conv = `dm:${a}:${b}`;
    const before = Date.now();
    await log.send({ conv, isGroup: false, dmUsers: [a, b], sender: a, cmid: 'first', bodyJson: '"x"' });
    // was 0 (due at once): a claim between the add and the send's script dropped the entry for good
    expect(Number(await file.cmd.zscore(index, conv))).toBeGreaterThanOrEqual(before + 5000);
    expect(await file.cmd.hget(keys.meta(conv), 'rx')).toBe('1');
  });

  it('a conversation with nothing left leaves the index; one a send wrote to between the step and the reschedule stays, and is reclaimed later', async () => {
    const log = new RedisConversationLog(file.cmd, limits);
    const scripts = defineScripts(file.cmd);
    const [a, b, c] = [user('a'), user('b'), user('c')];
    const quiet = `dm:${a}:${b}`;
    const busy = `dm:${a}:${c}`;
    const send = (conv: string, cmid: string) => log.send({ conv, isGroup: false, dmUsers: conv.slice(3).split(':'), sender: a, cmid, bodyJson: '"x"' });
    await send(quiet, 'q1');
    await send(busy, 'b1');
    expect(await file.cmd.zscore(index, quiet)).not.toBeNull();

    // both expire (message and dedupe entry); one step finds them empty...
    let step!: Awaited<ReturnType<typeof claimAndReclaim>>;
    await waitUntil(async () => {
      step = await claimAndReclaim(scripts);
      const done = step.convs.includes(quiet) && step.convs.includes(busy) && (await file.cmd.hget(keys.meta(busy), 'rx')) === null && (await file.cmd.hget(keys.meta(quiet), 'rx')) === null;
      if (!done) await step.finish();
      return done;
    }, { what: 'both conversations reclaimed empty in one step', timeoutMs: 10_000, intervalMs: 100 });
    // ...and before it reschedules them, a send writes to one of them (another node, say)
    expect(await send(busy, 'b2')).toMatchObject({ seq: 2, dup: false });
    await step.finish();

    expect(await file.cmd.zscore(index, quiet)).toBeNull();
    const score = Number(await file.cmd.zscore(index, busy));
    expect(score).toBeGreaterThan(Date.now() - 5000);
    expect(await file.cmd.hget(keys.meta(busy), 'rx')).toBe('1');
    // and the new message is reclaimed in its turn
    await waitUntil(async () => (await log.reclaim(100), (await file.cmd.xlen(keys.log(busy))) === 0 && (await file.cmd.hlen(keys.dedupe(busy))) === 0), { what: 'the written conversation reclaimed again', timeoutMs: 10_000, intervalMs: 100 });
    expect(await file.cmd.hget(keys.meta(busy), 'tlow')).toBe('2');
  });

  it('a claimed conversation is skipped by other reclaimers until the claim lapses; a stopped reclaimer\'s claim is taken up after it', async () => {
    const log = new RedisConversationLog(file.cmd, limits);
    const scripts = defineScripts(file.cmd);
    const conv = `dm:${user('a')}:${user('b')}`;
    await log.send({ conv, isGroup: false, dmUsers: conv.slice(3).split(':'), sender: conv.split(':')[1]!, cmid: 'c', bodyJson: '"x"' });
    await waitUntil(async () => (await file.cmd.zscore(index, conv)) !== null && Number(await file.cmd.zscore(index, conv)) <= Date.now(), { what: 'the conversation due', timeoutMs: 5000 });
    // one reclaimer claims it with a short lease and stops there
    const [claim, , ...convs] = (await scripts['reclaim-claim'](index, 1000, 300, 5)) as [string, number, ...string[]];
    expect(convs).toContain(conv);
    expect(Number(claim) % 1).not.toBe(0);
    const others = (await scripts['reclaim-claim'](index, 1000, 300, 9)) as [string, number, ...string[]];
    expect(others.slice(2)).not.toContain(conv);
    await waitUntil(async () => (await log.reclaim(1000), (await file.cmd.xlen(keys.log(conv))) === 0), { what: 'the claim lapsed and another reclaimer took the conversation', timeoutMs: 10_000, intervalMs: 100 });
  });
});
