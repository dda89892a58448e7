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
   * The node's registry (keys.nodeRegistry: each of its connections → the lease generation it
   * was registered under) holds this one before its registration exists (answered first;
   * another slot, so never inside the script), so a sweep after this node died finds it, and
   * a write Redis refuses (OOM under noeviction) stops the open before anything is
   * registered. A sweep forgets only entries of the generation it claimed or older
   * (registry-forget.lua), so what this node writes after a lapse outlives the sweeps of that
   * lapse, whether they finish or fail part-way; sweep-finish.lua keeps the lease of a node
   * that lapsed again under a newer generation, so the next sweep takes what it wrote. With a
   * plain set, a sweep's SREM could land between this write and the registration and drop the
   * only record of a live connection: its user online for good once the node died. The
   * interleavings are explored in test/store/sweep-race.test.ts.
   * A hello's open uses the lean link while it is ready: presence.ts orders the connection's
   * close after it, answered or not (`opening`, `unconfirmed`). A re-registration has no such
   * guard and stays on the command link, whose socket outlives a timed-out command, so a close
   * written after it on that socket runs after it in Redis (the lean link drops its socket on
   * a timeout, and a late open there could land after the close).
   */
  openConn(reg: Registration, maxDevices: number, mode: 'hello' | 'reregister'): Promise<string[] | null> {
    const registry = keys.nodeRegistry(reg.incarnation);
    const entry = `${reg.user}\t${reg.connId}`;
    return storeCall(async () => {
      const args = [keys.conns(reg.user), keys.presence(reg.user), this.channel, reg.user, reg.connId, `${reg.incarnation}#${reg.generation}`, reg.device, maxDevices, mode];
      const added = mode === 'hello' ? this.lean(leanCommands.hset, [registry, entry, reg.generation]) : null;
      let res: string[];
      if (added) {
        await added;
        res = (await this.hot('conn-open', args)) as string[];
      } else {
        await this.redis.hset(registry, entry, reg.generation);
        res = (await this.scripts['conn-open'](...args)) as string[];
      }
      if (res[0] === 'too_many_devices' || res[0] === 'superseded') {
        await this.redis.hdel(registry, entry);
        return null;
      }
      return res.slice(1);
    });
  }

  async closeConn(user: string, connId: string, incarnation: string): Promise<void> {
    await storeCall(async () => {
      await this.scripts['conn-close'](keys.conns(user), keys.presence(user), this.channel, user, connId);
      await this.redis.hdel(keys.nodeRegistry(incarnation), `${user}\t${connId}`);
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
      const registry = keys.nodeRegistry(dead);
      let cursor = '0';
      if ((await this.redis.type(registry)) === 'set') {
        // the registry of a node before 2026-12-06 (a set, no generations), swept as they swept it
        do {
          const [next, members] = await this.redis.sscan(registry, cursor, 'COUNT', 500);
          cursor = next;
          for (const m of members) {
            const res = await this.closeSwept(dead, generation, m);
            if (res >= 0) await this.redis.srem(registry, m);
            if (res === 1) n++;
          }
        } while (cursor !== '0');
      } else {
        do {
          const [next, flat] = await this.redis.hscan(registry, cursor, 'COUNT', 500);
          cursor = next;
          for (let i = 0; i + 1 < flat.length; i += 2) {
            // written after the lapse this sweep claimed: the node is back and the connection lives
            if (Number(flat[i + 1]) > generation) continue;
            const res = await this.closeSwept(dead, generation, flat[i]!);
            if (res >= 0) await this.scripts['registry-forget'](registry, flat[i]!, generation);
            if (res === 1) n++;
          }
        } while (cursor !== '0');
      }
      await this.scripts['sweep-finish'](keys.leases(), keys.leaseGens(), keys.leaseSweep(dead), dead, generation, sweeper);
      return n;
    });
  }

  /** conn-close of one registry entry (`<user>\t<conn id>`) for a sweep: 1 removed, 0 not registered, -1 kept (re-registered since) */
  private async closeSwept(dead: string, generation: number, entry: string): Promise<number> {
    const tab = entry.indexOf('\t');
    const user = entry.slice(0, tab);
    return Number(await this.scripts['conn-close'](keys.conns(user), keys.presence(user), this.channel, user, entry.slice(tab + 1), dead, generation));
  }

  async dropLease(incarnation: string): Promise<void> {
    await storeCall(async () => {
      await this.redis.zrem(keys.leases(), incarnation);
      await this.redis.hdel(keys.leaseGens(), incarnation);
      await this.redis.del(keys.nodeRegistry(incarnation));
    });
  }
}
