-- convState — KEYS: meta, members, leavers; ARGV: 1 user, 2 is group ('1'|'0')
-- → {epoch|false, head, tlow, join (-1 when never a member of the group), left (-1 unless a former member),
--    earlier: {join, left, join, left, ...}}
-- The leavers entry lists the user's ended memberships, oldest first, as "join|left,join|left"
-- (group-leave.lua). For a member, `earlier` is all of them; for a former member, `join`/`left`
-- are the last and `earlier` the rest. A device is owed what was stored during each.
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'tlow')
if not m[1] then return {false, 0, 0, -1, -1, {}} end
local join, left, earlier = 0, -1, {}
if ARGV[2] == '1' then
  local j = redis.call('HGET', KEYS[2], ARGV[1])
  local l = redis.call('HGET', KEYS[3], ARGV[1])
  if l then
    for a, b in string.gmatch(l, '(%d+)|(%d+)') do
      earlier[#earlier + 1] = tonumber(a)
      earlier[#earlier + 1] = tonumber(b)
    end
  end
  if j then
    join = tonumber(j)
  elseif #earlier >= 2 then
    left = table.remove(earlier)
    join = table.remove(earlier)
  else
    join = -1
  end
end
return {m[1], tonumber(m[2]), tonumber(m[3]), join, left, earlier}
