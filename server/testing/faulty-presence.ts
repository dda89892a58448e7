import type { Redis } from 'ioredis';
import { keys } from '../store/keys.ts';
import type { PresenceStore } from '../store/presence-store.ts';
import { loadLua } from '../store/redis/lua-source.ts';

/**
 * Writes `offline` over a user's stored presence (a rising `v`, published as a `p` payload),
 * unless it says offline already or this node (ARGV[3], its incarnation) still has a
 * connection of the user registered: what a node that decides presence from its own
 * connections alone does. KEYS: presence, conns.
 */
const FORCE_OFFLINE = `${loadLua('now.lua').trimEnd()}
local mine = ARGV[3] .. '#'
for _, reg in ipairs(redis.call('HVALS', KEYS[2])) do
  if string.sub(reg, 1, #mine) == mine then return 0 end
end
local p = redis.call('HMGET', KEYS[1], 'status', 'v')
if p[1] == 'offline' then return 0 end
local v = math.max(tonumber(p[2] or '0') + 1, now)
redis.call('HSET', KEYS[1], 'status', 'offline', 'v', v, 'ts', now)
redis.call('PUBLISH', ARGV[1], 'p\\t' .. ARGV[2] .. '\\toffline\\t' .. v .. '\\t' .. now)
return 1`;

/**
 * TEST_BUGS=presence_local_view: a node decides a user's status from its own connections
 * alone, last writer wins. When a connection closes and the node has none of that user's
 * registered any more, it writes `offline` over the stored state without looking at the
 * registrations other nodes hold: a user with a device still open on another node shows
 * offline everywhere (`presence`). Whether it shows depends on the order of events across
 * the two nodes (the other node's connect must come before this node's close):
 * test/model/presence-race. Its own registrations are read in the same script as the write:
 * checked in the node's memory instead (until 2026-12-04), a reconnect on the same node
 * racing the close's write left the user offline now and then, a second, timing-bound route
 * whose counterexamples did not shrink (the presence-race control's CI rehearsal of 97c9b6c:
 * 4 steps, 0 shrinks).
 */
export function localView(inner: PresenceStore, redis: Redis): PresenceStore {
  const p = Object.create(inner) as PresenceStore;
  p.closeConn = async (user, connId, incarnation) => {
    await inner.closeConn(user, connId, incarnation);
    await redis.eval(FORCE_OFFLINE, 2, keys.presence(user), keys.conns(user), keys.busChannel(), user, incarnation);
  };
  return p;
}
