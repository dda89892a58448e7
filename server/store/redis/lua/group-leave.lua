-- groupLeave — KEYS: meta, members, joinOrder, leavers; ARGV: 1 caller, 2 user, 3 channel, 4 conv, 5 memberships kept
-- → {'ok', removed (0|1)} | {'not_found'} | {'forbidden'}
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'owner')
if not m[1] then return {'not_found'} end
if ARGV[1] ~= ARGV[2] and m[3] ~= ARGV[1] then return {'forbidden'} end
local joined = redis.call('HGET', KEYS[2], ARGV[2])
if not joined then return {'ok', 0} end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
-- the ended memberships, oldest first ("join|left,join|left"): a device away across several
-- is owed each (conv-state.lua); past MEMBERSHIPS_KEPT (server/store/log.ts) the oldest goes
local past = redis.call('HGET', KEYS[4], ARGV[2])
local entry = joined .. '|' .. m[2]
local kept = tonumber(ARGV[5])
if past and kept > 1 then
  local _, commas = string.gsub(past, ',', '')
  while commas + 1 >= kept do
    past = string.sub(past, string.find(past, ',', 1, true) + 1)
    commas = commas - 1
  end
  entry = past .. ',' .. entry
end
redis.call('HSET', KEYS[4], ARGV[2], entry)
if m[3] == ARGV[2] then
  local first = redis.call('ZRANGE', KEYS[3], 0, 0)
  redis.call('HSET', KEYS[1], 'owner', first[1] or '')
end
redis.call('PUBLISH', ARGV[3], 'l\t' .. ARGV[4] .. '\t' .. m[1] .. '\t' .. ARGV[2] .. '\t' .. m[2])
return {'ok', 1}
