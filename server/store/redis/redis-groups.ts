import type { Redis } from 'ioredis';
import { ProtocolError } from '../../protocol/codes.ts';
import { keys } from '../keys.ts';
import type { GroupInfo, GroupStore } from '../groups.ts';
import { MEMBERSHIPS_KEPT } from '../log.ts';
import { newEpoch, ScriptedStore, storeCall } from './scripts.ts';
import { leanCommands, type ScriptLink } from './script-link.ts';

export interface GroupLimits {
  groupMax: number;
  maxGroupsPerUser: number;
}

/**
 * GroupStore on Redis: members, join order and leavers in the group's slot; the index and
 * its group count in each user's. A change is decided first (the group script in `check`
 * mode writes nothing), then the users are indexed, then the group script writes.
 */
export class RedisGroupStore extends ScriptedStore implements GroupStore {
  private readonly groupMax: number;
  private readonly maxGroupsPerUser: number;

  constructor(redis: Redis, limits: GroupLimits, fast: ScriptLink | null = null) {
    super(redis, fast);
    this.groupMax = limits.groupMax;
    this.maxGroupsPerUser = limits.maxGroupsPerUser;
  }

  userConvs(user: string): Promise<string[]> {
    const key = keys.userConvs(user);
    return storeCall(() => (this.lean(leanCommands.hkeys, [key]) as Promise<string[]> | null) ?? this.redis.hkeys(key));
  }

  async forgetConvs(user: string, convs: readonly string[]): Promise<void> {
    if (convs.length) await storeCall(() => this.scripts['forget-convs'](keys.userConvs(user), keys.userGroupCount(user), ...convs));
  }

  /**
   * Indexes the group for each user (see the contract in ../groups.ts), refusing the
   * whole change before writing anything when one of them holds MAX_GROUPS_PER_USER.
   */
  private async index(users: readonly string[], conv: string): Promise<void> {
    const counts = await Promise.all(users.map((u) => this.redis.get(keys.userGroupCount(u))));
    const full = users.filter((_, i) => Number(counts[i] ?? 0) >= this.maxGroupsPerUser);
    const res = full.length ? [] : await Promise.all(users.map((u) => this.scripts['index-group'](keys.userConvs(u), keys.userGroupCount(u), conv, this.maxGroupsPerUser)));
    // a race with another change can fill a user between the read and its indexing
    users.forEach((u, i) => {
      if (res[i] === 0) full.push(u);
    });
    if (full.length) throw new ProtocolError('too_large', `${full.slice(0, 5).join(', ')}${full.length > 5 ? ` and ${full.length - 5} more` : ''} already in ${this.maxGroupsPerUser} groups (MAX_GROUPS_PER_USER)`);
  }

  private refusal(res: unknown[], group: string): void {
    switch (res[0]) {
      case 'conflict':
        throw new ProtocolError('conflict', `group ${group} exists already`);
      case 'too_large':
        throw new ProtocolError('too_large', `a group has at most ${this.groupMax} members`);
      case 'not_found':
        throw new ProtocolError('not_found', `no such group: ${group}`);
      case 'forbidden':
        throw new ProtocolError('forbidden', `only members may add members to ${group}`);
    }
  }

  createGroup(owner: string, group: string, members: readonly string[]): Promise<string> {
    const conv = `g:${group}`;
    const run = (mode: 'check' | 'write') =>
      this.scripts['group-create'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), owner, this.groupMax, newEpoch(), this.channel, conv, mode, ...members) as Promise<string[]>;
    return storeCall(async () => {
      this.refusal(await run('check'), group);
      await this.index([...new Set([owner, ...members])], conv);
      this.refusal(await run('write'), group);
      return conv;
    });
  }

  joinGroup(caller: string, group: string, users: readonly string[]): Promise<string[]> {
    const conv = `g:${group}`;
    const run = (mode: 'check' | 'write') =>
      this.scripts['group-join'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, this.groupMax, this.channel, conv, mode, ...users) as Promise<(string | number)[]>;
    return storeCall(async () => {
      const check = await run('check');
      this.refusal(check, group);
      const adding = check.slice(2).map(String);
      if (adding.length) await this.index(adding, conv);
      const res = await run('write');
      this.refusal(res, group);
      return res.slice(2).map(String);
    });
  }

  leaveGroup(caller: string, group: string, user: string): Promise<boolean> {
    const conv = `g:${group}`;
    return storeCall(async () => {
      const res = (await this.scripts['group-leave'](keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, user, this.channel, conv, MEMBERSHIPS_KEPT)) as (string | number)[];
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
