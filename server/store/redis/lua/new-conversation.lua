-- newConversation — KEYS: the sender's counter of conversations started this minute;
-- ARGV: 1 most per minute, 2 window ms
-- → 1 allowed (counted), 0 refused. A fixed window: the counter expires with it.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
