-- registryForget — KEYS: a node incarnation's registry (hash: `<user>\t<conn id>` → the lease
-- generation its node last registered it under); ARGV: 1 field, 2 the generation a sweep claimed
-- → 1 forgotten, 0 kept: the node wrote it under a newer generation (it came back and
-- re-registered the connection, or opened it after the lapse), or it is gone.
local g = redis.call('HGET', KEYS[1], ARGV[1])
if not g or tonumber(g) > tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
