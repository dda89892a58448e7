-- indexGroup — KEYS: the user's conversation index, the user's group count; ARGV: 1 conv, 2 most groups
-- → 1 indexed (now or before), 0 refused: the user's index holds `most` groups already.
-- The count is the number of `g:` entries in the index (forget-convs.lua keeps it so).
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 1)
redis.call('INCR', KEYS[2])
return 1
