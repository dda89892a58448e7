-- groupCreate — KEYS: meta, members, joinOrder, leavers; ARGV: 1 owner, 2 group max, 3 epoch, 4 channel, 5 conv,
-- 6 mode (check: decide only, write nothing | write), 7.. members
-- → {'ok', epoch} | {'conflict'} | {'too_large'}
-- Publishes `j` (server/bus/payloads.ts) for every member.
--
--!include now.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return {'conflict'} end
local list, seen = {ARGV[1]}, {[ARGV[1]] = true}
for i = 7, #ARGV do
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; list[#list + 1] = ARGV[i] end
end
if #list > tonumber(ARGV[2]) then return {'too_large'} end
if ARGV[6] == 'check' then return {'ok'} end
redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'head', 0, 'tlow', 0, 'ddlow', 0, 'ddnext', 0, 'tnext', 0, 'created', now, 'owner', ARGV[1], 'jc', #list)
for i, u in ipairs(list) do
  redis.call('HSET', KEYS[2], u, 0)
  redis.call('ZADD', KEYS[3], i, u)
  redis.call('HDEL', KEYS[4], u)
  redis.call('PUBLISH', ARGV[4], 'j\t' .. ARGV[5] .. '\t' .. ARGV[3] .. '\t' .. u .. '\t0')
end
return {'ok', ARGV[3]}
