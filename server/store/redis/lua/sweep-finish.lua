-- sweepFinish — KEYS: leases, generations, claim; ARGV: 1 incarnation, 2 the generation swept, 3 sweeper
-- → 1 when the incarnation was forgotten, 0 when it is kept: its lease is held again, or it
-- lapsed again under a newer generation than the one swept (the node came back, maybe
-- registered connections under that generation, and died again: the next sweep takes those).
-- The claim is released only if it is still this sweeper's (one that outlived its claim
-- must not release another's).
--
--!include now.lua
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if exp and tonumber(exp) >= now then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
