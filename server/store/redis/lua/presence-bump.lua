local function setPresence(status)
  local p = redis.call('HMGET', KEYS[2], 'status', 'v')
  if p[1] == status then return end
  local v = math.max(tonumber(p[2] or '0') + 1, now)
  redis.call('HSET', KEYS[2], 'status', status, 'v', v, 'ts', now)
  redis.call('PUBLISH', ARGV[1], 'p\t' .. ARGV[2] .. '\t' .. status .. '\t' .. v .. '\t' .. now)
end
