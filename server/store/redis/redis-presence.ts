import { keys } from '../keys.ts';
import type { PresenceState, PresenceStore, Registration } from '../presence-store.ts';
import type { Redis } from 'ioredis';
import { ScriptedStore, storeCall } from './scripts.ts';
import { leanCommands, type ScriptLink } from './script-link.ts';

/** PresenceStore on Redis: leases in one slot, registrations and status in each user's, a registry per incarnation. */
export class RedisPresenceStore extends ScriptedStore implements PresenceStore {

  constructor(redis: Redis, fast: ScriptLink | null = null) {
    super(redis, fast);
  }

  /**
   * The node's set of its connections holds this one before its registration exists (the
   * SADD is answered first; another slot, so never inside the script), so a sweep after this
   * node died finds it, and a SADD Redis refuses (OOM under noeviction) stops the open before
   * anything is registered. A hello's open uses the lean link while it is ready: presence.ts
   * orders the connection's close after it, answered or not (`opening`, `unconfirmed`). A
   * re-registration has no such guard and stays on the command link, whose socket outlives a
   * timed-out command, so a close written after it on that socket runs after it in Redis (the
   * lean link drops its socket on a timeout, and a late open there could land after the close).
   */
  openConn(reg: Registration, maxDevices: number, mode: 'hello' | 'reregister'): Promise<string[] | null> {
    const member = `${reg.user}\t${reg.connId}`;
    return storeCall(async () => {
      const args = [keys.conns(reg.user), keys.presence(reg.user), this.channel, reg.user, reg.connId, `${reg.incarnation}#${reg.generation}`, reg.device, maxDevices, mode];
      const added = mode === 'hello' ? this.lean(leanCommands.sadd, [keys.nodeConns(reg.incarnation), member]) : null;
      let res: string[];
      if (added) {
        await added;
        res = (await this.hot('conn-open', args)) as string[];
      } else {
        await this.redis.sadd(keys.nodeConns(reg.incarnation), member);
        res = (await this.scripts['conn-open'](...args)) as string[];
      }
      if (res[0] === 'too_many_devices' || res[0] === 'superseded') {
        await this.redis.srem(keys.nodeConns(reg.incarnation), member);
        return null;
      }
      // A sweep of this incarnation (its lease lapsed while the node was away) may have removed
      // the member between the SADD above and the registration; the set holds it again before
      // this answers (see sweepIncarnation). A hello needs none: a lapsed lease brings a new
      // generation, and with it a re-registration of every open connection.
      if (mode === 'reregister') await this.redis.sadd(keys.nodeConns(reg.incarnation), member);
      return res.slice(1);
    });
  }

  async closeConn(user: string, connId: string, incarnation: string): Promise<void> {
    await storeCall(async () => {
      await this.scripts['conn-close'](keys.conns(user), keys.presence(user), this.channel, user, connId);
      await this.redis.srem(keys.nodeConns(incarnation), `${user}\t${connId}`);
    });
  }

  registrations(user: string): Promise<Map<string, string>> {
    return storeCall(async () => {
      const out = new Map<string, string>();
      // value: `<incarnation>#<generation>|<device>`
      for (const [id, v] of Object.entries(await this.redis.hgetall(keys.conns(user)))) out.set(id, v.slice(v.indexOf('|') + 1));
      return out;
    });
  }

  presence(users: readonly string[]): Promise<PresenceState[]> {
    if (!users.length) return Promise.resolve([]);
    return storeCall(async () => {
      const p = this.redis.pipeline();
      for (const u of users) p.hmget(keys.presence(u), 'status', 'v', 'ts');
      const res = (await p.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        const [status, ver, ts] = v as (string | null)[];
        return { status: status === 'online' ? 'online' : 'offline', v: Number(ver ?? 0), ts: Number(ts ?? 0) } as const;
      });
    });
  }

  renewLease(incarnation: string, ttlMs: number): Promise<{ held: boolean; generation: number }> {
    return storeCall(async () => {
      const [held, generation] = (await this.scripts['lease-renew'](keys.leases(), keys.leaseGens(), incarnation, ttlMs)) as [number, number];
      return { held: held === 1, generation };
    });
  }

  expiredLeases(limit: number): Promise<string[]> {
    return storeCall(async () => (await this.scripts['leases-expired'](keys.leases(), limit)) as string[]);
  }

  sweepIncarnation(dead: string, sweeper: string): Promise<number> {
    return storeCall(async () => {
      const generation = Number(await this.scripts['sweep-claim'](keys.leases(), keys.leaseGens(), keys.leaseSweep(dead), dead, sweeper, 10_000));
      if (generation < 0) return 0;
      let n = 0;
      let cursor = '0';
      const set = keys.nodeConns(dead);
      do {
        const [next, members] = await this.redis.sscan(set, cursor, 'COUNT', 500);
        cursor = next;
        for (const m of members) {
          const tab = m.indexOf('\t');
          const user = m.slice(0, tab);
          const connId = m.slice(tab + 1);
          const res = Number(await this.scripts['conn-close'](keys.conns(user), keys.presence(user), this.channel, user, connId, dead, generation));
          if (res >= 0) {
            await this.redis.srem(set, m);
            // The node may have come back and re-registered this connection meanwhile (its SADD
            // before our SREM, its registration after our close: two slots, no atomic step). Its
            // re-registration adds the member again after registering; this check covers the
            // SREM landing after that. A member without a registration is harmless: the next
            // sweep of the incarnation removes it. (Found by test/store/sweep-race.test.ts.)
            if ((await this.redis.hexists(keys.conns(user), connId)) === 1) await this.redis.sadd(set, m);
          }
          if (res === 1) n++;
        }
      } while (cursor !== '0');
      // An emptied set is gone already (Redis drops empty sets); no DEL, which could drop a
      // member a re-registration added since.
      await this.scripts['sweep-finish'](keys.leases(), keys.leaseGens(), keys.leaseSweep(dead), dead);
      return n;
    });
  }

  async dropLease(incarnation: string): Promise<void> {
    await storeCall(async () => {
      await this.redis.zrem(keys.leases(), incarnation);
      await this.redis.hdel(keys.leaseGens(), incarnation);
      await this.redis.del(keys.nodeConns(incarnation));
    });
  }
}
