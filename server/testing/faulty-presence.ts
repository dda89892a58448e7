import type { Redis } from 'ioredis';
import { keys } from '../store/keys.ts';
import type { PresenceStore } from '../store/presence-store.ts';
import { loadLua } from '../store/redis/lua-source.ts';

/**
 * Writes `offline` over a user's stored presence (a rising `v`, published as a `p` payload),
 * unless it says offline already: what a node that decides presence alone does.
 */
const FORCE_OFFLINE = `${loadLua('now.lua').trimEnd()}
local p = redis.call('HMGET', KEYS[1], 'status', 'v')
if p[1] == 'offline' then return 0 end
local v = math.max(tonumber(p[2] or '0') + 1, now)
redis.call('HSET', KEYS[1], 'status', 'offline', 'v', v, 'ts', now)
redis.call('PUBLISH', ARGV[1], 'p\\t' .. ARGV[2] .. '\\toffline\\t' .. v .. '\\t' .. now)
return 1`;

/**
 * TEST_BUGS=presence_local_view: a node decides a user's status from its own connections
 * alone, last writer wins. When the user's last connection on this node closes, the node
 * writes `offline` over the stored state without looking at the registrations other nodes
 * hold: a user with a device still open on another node shows offline everywhere
 * (`presence`). Whether it shows depends on the order of events across the two nodes (the
 * other node's connect must come before this node's close): test/model/presence-race.
 */
export function localView(inner: PresenceStore, redis: Redis): PresenceStore {
  const p = Object.create(inner) as PresenceStore;
  /** user → the connection ids this node registered for it */
  const local = new Map<string, Set<string>>();
  p.openConn = async (reg, maxDevices, mode) => {
    const replaced = await inner.openConn(reg, maxDevices, mode);
    if (replaced !== null) {
      let set = local.get(reg.user);
      if (!set) local.set(reg.user, (set = new Set()));
      set.add(reg.connId);
      for (const id of replaced) set.delete(id);
    }
    return replaced;
  };
  p.closeConn = async (user, connId, incarnation) => {
    await inner.closeConn(user, connId, incarnation);
    const set = local.get(user);
    set?.delete(connId);
    if (set && set.size > 0) return;
    local.delete(user);
    await redis.eval(FORCE_OFFLINE, 1, keys.presence(user), keys.busChannel(), user);
  };
  return p;
}
