-- sweepFinish — KEYS: leases, generations, claim; ARGV: 1 incarnation
-- → 1 when the incarnation was forgotten, 0 when its lease is held again (it came back)
--
--!include now.lua
redis.call('DEL', KEYS[3])
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if exp and tonumber(exp) >= now then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
