-- forgetConvs — KEYS: the user's conversation index, the user's group count; ARGV: convs
-- Drops index entries; each group entry dropped leaves the count (index-group.lua).
local n = 0
for i = 1, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 and string.sub(ARGV[i], 1, 2) == 'g:' then n = n + 1 end
end
if n > 0 then
  local left = redis.call('DECRBY', KEYS[2], n)
  if left <= 0 then redis.call('DEL', KEYS[2]) end
end
return n
