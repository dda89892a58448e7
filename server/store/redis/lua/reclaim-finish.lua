-- reclaimFinish — KEYS: the reclaim index; ARGV: 1 claim (as reclaim-claim.lua returned it),
-- then pairs conv, next (0: nothing left to expire)
-- A conversation whose score is not `claim` any more was indexed again by a send meanwhile
-- (or claimed by another node after the lease): that score stands.
local claim = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local conv, nextAt = ARGV[i], tonumber(ARGV[i + 1])
  if tonumber(redis.call('ZSCORE', KEYS[1], conv) or '-1') == claim then
    if nextAt == 0 then
      redis.call('ZREM', KEYS[1], conv)
    else
      redis.call('ZADD', KEYS[1], nextAt, conv)
    end
  end
end
return 0
