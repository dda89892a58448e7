-- convState — KEYS: meta, members, leavers; ARGV: 1 user, 2 is group ('1'|'0')
-- → {epoch|false, head, tlow, joinSeq (-1 when not a member of the group), leftAt (-1 unless a former member),
--    prevLeft (for a member who left and joined again: where that earlier membership ended; else -1),
--    prevJoin (with prevLeft: where that earlier membership began; else -1)}
-- A former member's devices still get the messages stored while it was a member.
--
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'tlow')
if not m[1] then return {false, 0, 0, -1, -1, -1, -1} end
local join, left, prevLeft, prevJoin = 0, -1, -1, -1
if ARGV[2] == '1' then
  local j = redis.call('HGET', KEYS[2], ARGV[1])
  local l = redis.call('HGET', KEYS[3], ARGV[1])
  local lj, ll = -1, -1
  if l then
    local bar = string.find(l, '|', 1, true)
    lj = tonumber(string.sub(l, 1, bar - 1))
    ll = tonumber(string.sub(l, bar + 1))
  end
  if j then
    join = tonumber(j)
    prevLeft, prevJoin = ll, lj
  else
    join, left = lj, ll
  end
end
return {m[1], tonumber(m[2]), tonumber(m[3]), join, left, prevLeft, prevJoin}
