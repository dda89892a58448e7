// The leak sample of Redis keys that still name connections once every client left
// (harness/scenario/leak-samples.ts goneConnectionKeys), on a real Redis: a user's
// registration, an entry in a node incarnation's registry (a hash since 2026-12-06), and a
// member of a registry as older servers kept it (a set).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { goneConnectionKeys } from '../../harness/scenario/leak-samples.ts';
import { keys } from '../../server/store/keys.ts';
import { redisForFile } from '../helpers/redis.ts';

const file = redisForFile();
const uid = (p: string) => `${p}${randomBytes(4).toString('hex')}`;

describe('goneConnectionKeys', () => {
  it('counts registrations and registry entries left behind, and nothing once they are gone', async () => {
    const [user, inc, old] = [uid('u'), uid('n'), uid('n')];
    expect((await goneConnectionKeys(file.redis.url, [user])).count).toBe(0);
    await file.cmd.hset(keys.conns(user), 'c1', `${inc}#1|d`);
    await file.cmd.hset(keys.nodeRegistry(inc), `${user}\tc1`, '1');
    await file.cmd.sadd(keys.nodeRegistry(old), `${user}\tc2`);
    const left = await goneConnectionKeys(file.redis.url, [user]);
    expect(left.count).toBe(3);
    expect(left.examples).toEqual(expect.arrayContaining([`u:{${user}}:conns (1 entries)`, `${keys.nodeRegistry(inc)} (1 entries)`, `${keys.nodeRegistry(old)} (1 members)`]));
    await file.cmd.del(keys.conns(user), keys.nodeRegistry(inc), keys.nodeRegistry(old));
    expect((await goneConnectionKeys(file.redis.url, [user])).count).toBe(0);
  });
});
