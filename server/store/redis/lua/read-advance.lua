-- readAdvance — KEYS: reads hash; ARGV: 1 conv, 2 epoch, 3 seq, 4 channel, 5 user, 6 origin connection id
-- → 1 when the mark moved (and was announced), else 0.
--
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local bar = string.find(cur, '|', 1, true)
  if string.sub(cur, 1, bar - 1) == ARGV[2] and tonumber(string.sub(cur, bar + 1)) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
redis.call('PUBLISH', ARGV[4], 'r\t' .. ARGV[5] .. '\t' .. ARGV[1] .. '\t' .. ARGV[3] .. '\t' .. ARGV[6])
return 1
