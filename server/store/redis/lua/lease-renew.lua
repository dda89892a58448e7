-- leaseRenew — KEYS: leases, generations; ARGV: 1 incarnation, 2 ttl ms
-- → {held (1 when the lease was still held, 0 when it had lapsed or vanished), generation}.
-- A lapse starts a new generation: registrations written under it survive a sweep of the old one.
-- The new one is the time in ms (above the last, if that is later): distinct from every earlier
-- generation of the incarnation, also from one a finished sweep forgot (sweep-finish deletes it),
-- so a node that lost this answer still sees the lapse in the next renewal's generation.
--
--!include now.lua
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local gen = redis.call('HGET', KEYS[2], ARGV[1])
if cur and tonumber(cur) >= now and gen then return {1, tonumber(gen)} end
local nextGen = math.max((tonumber(gen) or 0) + 1, now)
redis.call('HSET', KEYS[2], ARGV[1], string.format('%d', nextGen))
return {0, nextGen}
