-- history — KEYS: meta, log, members; ARGV: 1 user, 2 is group, 3 after (or ''), 4 before (or ''), 5 limit
-- → {status, epoch, more (0|1), entries...}; entries as XRANGE returns them, ascending.
--
-- stream ids as integers: `..` would write large seqs as 1e+14
local function sid(n) return string.format('%d', n) .. '-0' end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if ARGV[2] == '1' then
  if not epoch then return {'not_found'} end
  if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return {'forbidden'} end
end
if not epoch then return {'ok', '', 0, {}} end
local limit = tonumber(ARGV[5])
local after, before = ARGV[3], ARGV[4]
local es
if after ~= '' then
  local hi = '+'
  if before ~= '' then
    if tonumber(before) <= tonumber(after) + 1 then return {'ok', epoch, 0, {}} end
    hi = sid(tonumber(before) - 1)
  end
  es = redis.call('XRANGE', KEYS[2], sid(tonumber(after) + 1), hi, 'COUNT', limit + 1)
  local more = 0
  if #es > limit then more = 1; es[#es] = nil end
  return {'ok', epoch, more, es}
end
local hi = '+'
if before ~= '' then
  if tonumber(before) <= 1 then return {'ok', epoch, 0, {}} end
  hi = sid(tonumber(before) - 1)
end
es = redis.call('XREVRANGE', KEYS[2], hi, '-', 'COUNT', limit + 1)
local more = 0
if #es > limit then more = 1; es[#es] = nil end
local asc = {}
for i = #es, 1, -1 do asc[#asc + 1] = es[i] end
return {'ok', epoch, more, asc}
