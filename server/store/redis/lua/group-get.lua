-- groupGet — KEYS: meta, joinOrder, members; ARGV: 1 caller
-- → {'ok', owner, head, members...} | {'not_found'} | {'forbidden'}
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'owner')
if not m[1] then return {'not_found'} end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return {'forbidden'} end
local out = {'ok', m[3] or '', tonumber(m[2])}
for _, u in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do out[#out + 1] = u end
return out
