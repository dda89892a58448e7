import type { Redis } from 'ioredis';
import { ProtocolError } from '../../protocol/codes.ts';
import { keys } from '../keys.ts';
import type { GroupInfo, GroupStore } from '../groups.ts';
import { defineScripts, newEpoch, storeCall, type ScriptName } from './scripts.ts';

/** GroupStore on Redis: members, join order and leavers in the group's slot; the index in each user's. */
export class RedisGroupStore implements GroupStore {
  private readonly redis: Redis;
  private readonly scripts: Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;
  private readonly groupMax: number;
  private readonly channel = keys.busChannel();

  constructor(redis: Redis, groupMax: number) {
    this.redis = redis;
    this.groupMax = groupMax;
    this.scripts = defineScripts(redis);
  }

  userConvs(user: string): Promise<string[]> {
    return storeCall(() => this.redis.hkeys(keys.userConvs(user)));
  }

  async forgetConvs(user: string, convs: readonly string[]): Promise<void> {
    if (convs.length) await storeCall(() => this.redis.hdel(keys.userConvs(user), ...convs));
  }

  /** Index first (see the contract in ../groups.ts), then the group. */
  private index(users: readonly string[], conv: string): Promise<unknown> {
    return Promise.all(users.map((u) => this.redis.hset(keys.userConvs(u), conv, 1)));
  }

  createGroup(owner: string, group: string, members: readonly string[]): Promise<string> {
    const conv = `g:${group}`;
    return storeCall(async () => {
      await this.index([owner, ...members], conv);
      const res = (await this.scripts['group-create'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), owner, this.groupMax, newEpoch(), this.channel, conv, ...members)) as string[];
      if (res[0] === 'conflict') throw new ProtocolError('conflict', `group ${group} exists already`);
      if (res[0] === 'too_large') throw new ProtocolError('too_large', `a group has at most ${this.groupMax} members`);
      return conv;
    });
  }

  joinGroup(caller: string, group: string, users: readonly string[]): Promise<string[]> {
    const conv = `g:${group}`;
    return storeCall(async () => {
      await this.index(users, conv);
      const res = (await this.scripts['group-join'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, this.groupMax, this.channel, conv, ...users)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `only members may add members to ${group}`);
      if (res[0] === 'too_large') throw new ProtocolError('too_large', `a group has at most ${this.groupMax} members`);
      return res.slice(2).map(String);
    });
  }

  leaveGroup(caller: string, group: string, user: string): Promise<boolean> {
    const conv = `g:${group}`;
    return storeCall(async () => {
      const res = (await this.scripts['group-leave'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, user, this.channel, conv)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `only the owner or the user itself may remove ${user}`);
      // The index entry stays: the user's offline devices still replay up to the leave.
      return res[1] === 1;
    });
  }

  getGroup(caller: string, group: string): Promise<GroupInfo> {
    const conv = `g:${group}`;
    return storeCall(async () => {
      const res = (await this.scripts['group-get'](keys.meta(conv), keys.joinOrder(conv), keys.members(conv), caller)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `not a member of ${group}`);
      return { owner: String(res[1]), head: Number(res[2]), members: res.slice(3).map(String) };
    });
  }
}
