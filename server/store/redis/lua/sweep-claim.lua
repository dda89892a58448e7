-- sweepClaim — KEYS: leases, generations, claim; ARGV: 1 incarnation, 2 sweeper, 3 claim ms
-- → the generation to sweep, or -1 (the lease is held again, or another node sweeps it)
--
--!include now.lua
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not exp or tonumber(exp) >= now then return -1 end
if not redis.call('SET', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[3]), 'NX') then return -1 end
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
