-- connOpen — KEYS: conns, presence; ARGV: 1 channel, 2 user, 3 conn id, 4 `<incarnation>#<lease generation>`, 5 device,
-- 6 max devices, 7 mode (hello | reregister)
-- → {'ok', replaced conn ids...} | {'too_many_devices'} | {'superseded'}
-- A device already open replaces itself (its older connections are announced for 4409).
-- A re-registration finding another connection of its device writes nothing: that one
-- registered while this one's lease had lapsed, so it is the newer ('superseded').
--
--!include now.lua
--!include presence-bump.lua
local all = redis.call('HGETALL', KEYS[1])
local devices, ndev, replaced, superseded = {}, 0, {}, false
for i = 1, #all, 2 do
  local v = all[i + 1]
  local dev = string.sub(v, string.find(v, '|', 1, true) + 1)
  if all[i] ~= ARGV[3] then
    if dev == ARGV[5] then
      if ARGV[7] == 'hello' then replaced[#replaced + 1] = all[i] else superseded = true end
    elseif not devices[dev] then devices[dev] = true; ndev = ndev + 1 end
  end
end
if superseded then return {'superseded'} end
if ARGV[7] == 'hello' and ndev >= tonumber(ARGV[6]) then return {'too_many_devices'} end
for _, c in ipairs(replaced) do
  redis.call('HDEL', KEYS[1], c)
  redis.call('PUBLISH', ARGV[1], 'k\t' .. ARGV[2] .. '\t' .. c .. '\t4409')
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4] .. '|' .. ARGV[5])
setPresence('online')
local out = {'ok'}
for _, c in ipairs(replaced) do out[#out + 1] = c end
return out
