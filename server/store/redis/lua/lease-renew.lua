-- leaseRenew — KEYS: leases, generations; ARGV: 1 incarnation, 2 ttl ms
-- → {held (1 when the lease was still held, 0 when it had lapsed or vanished), generation}.
-- A lapse starts a new generation: registrations written under it survive a sweep of the old one.
--
--!include now.lua
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local gen = redis.call('HGET', KEYS[2], ARGV[1])
if cur and tonumber(cur) >= now and gen then return {1, tonumber(gen)} end
return {0, redis.call('HINCRBY', KEYS[2], ARGV[1], 1)}
