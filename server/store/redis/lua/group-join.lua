-- groupJoin — KEYS: meta, members, joinOrder, leavers; ARGV: 1 caller, 2 group max, 3 channel, 4 conv,
-- 5 mode (check: decide only, write nothing | write), 6.. users
-- → {'ok', head, joined (or, checking, to join)...} | {'not_found'} | {'forbidden'} | {'too_large'}
-- Publishes `j` (server/bus/payloads.ts) for every user it adds.
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head')
if not m[1] then return {'not_found'} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {'forbidden'} end
local add, seen = {}, {}
for i = 6, #ARGV do
  local u = ARGV[i]
  if not seen[u] and redis.call('HEXISTS', KEYS[2], u) == 0 then seen[u] = true; add[#add + 1] = u end
end
if redis.call('HLEN', KEYS[2]) + #add > tonumber(ARGV[2]) then return {'too_large'} end
local out = {'ok', tonumber(m[2])}
if ARGV[5] == 'check' then
  for _, u in ipairs(add) do out[#out + 1] = u end
  return out
end
for _, u in ipairs(add) do
  local jc = redis.call('HINCRBY', KEYS[1], 'jc', 1)
  redis.call('HSET', KEYS[2], u, m[2])
  redis.call('ZADD', KEYS[3], jc, u)
  -- the leavers entry stays: its leave point ends what this user's open connections are still owed (conv-state.lua: every ended membership is still owed)
  redis.call('PUBLISH', ARGV[3], 'j\t' .. ARGV[4] .. '\t' .. m[1] .. '\t' .. u .. '\t' .. m[2])
  out[#out + 1] = u
end
return out
