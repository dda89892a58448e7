-- convState — KEYS: meta, members, leavers; ARGV: 1 user, 2 is group ('1'|'0')
-- → {epoch|false, head, tlow, joinSeq (-1 when not a member of the group), leftAt (-1 unless a former member)}
-- A former member's devices still get the messages stored while it was a member.
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'tlow')
if not m[1] then return {false, 0, 0, -1, -1} end
local join, left = 0, -1
if ARGV[2] == '1' then
  local j = redis.call('HGET', KEYS[2], ARGV[1])
  if j then join = tonumber(j)
  else
    join = -1
    local l = redis.call('HGET', KEYS[3], ARGV[1])
    if l then
      local bar = string.find(l, '|', 1, true)
      join = tonumber(string.sub(l, 1, bar - 1))
      left = tonumber(string.sub(l, bar + 1))
    end
  end
end
return {m[1], tonumber(m[2]), tonumber(m[3]), join, left}
