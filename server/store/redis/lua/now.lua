local __t = redis.call('TIME')
-- nowS: the same ms as digits, made without a number-to-string conversion (Lua's goes
-- through sprintf %.14g; a send wrote `now` four times, a few % of Redis's CPU, issue 10)
local nowS = __t[1] .. string.sub('00000' .. __t[2], -6, -4)
local now = tonumber(nowS)
