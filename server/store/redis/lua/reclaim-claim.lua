-- reclaimClaim — KEYS: the reclaim index (zset: conversation → when it next holds something
-- to expire, ms); ARGV: 1 most conversations, 2 lease ms, 3 token (1..2047)
-- → {claim, more (0|1), conv...}: the conversations due now, each moved to `claim` (now +
-- lease + token/2048: never an integer, which send-side scores always are) so other nodes
-- skip them until the lease ends; reclaim-finish.lua reschedules only those still at `claim`.
--!include now.lua
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local claim = now + tonumber(ARGV[2]) + tonumber(ARGV[3]) / 2048
local out = {string.format('%.17g', claim), 0}
if #due == tonumber(ARGV[1]) then out[2] = 1 end
for _, conv in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', claim, conv)
  out[#out + 1] = conv
end
return out
