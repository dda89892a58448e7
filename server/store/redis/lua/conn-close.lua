-- connClose — KEYS: conns, presence; ARGV: 1 channel, 2 user, 3 conn id, [4 incarnation, 5 max generation]
-- → 1 removed, 0 not registered, -1 kept (a sweep's call found it re-registered under a
-- newer lease generation of that incarnation: the node came back, the connection lives).
--
--!include now.lua
--!include presence-bump.lua
if ARGV[4] then
  local v = redis.call('HGET', KEYS[1], ARGV[3])
  if not v then return 0 end
  local hash = string.find(v, '#', 1, true)
  local bar = string.find(v, '|', 1, true)
  if not hash or string.sub(v, 1, hash - 1) ~= ARGV[4] or tonumber(string.sub(v, hash + 1, bar - 1)) > tonumber(ARGV[5]) then return -1 end
end
if redis.call('HDEL', KEYS[1], ARGV[3]) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) == 0 then setPresence('offline') end
return 1
