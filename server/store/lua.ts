/**
 * The store's Lua scripts. Each touches keys of one hash slot only. Redis time (TIME) is
 * the clock for ts, presence v and leases, so nodes with skewed clocks still agree.
 */

const NOW = `
local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`;

/**
 * send — KEYS: meta, log, dedupe, members
 * ARGV: 1 sender, 2 cmid, 3 body (JSON literal), 4 frame head (`{"t":"msg","conv":..,"seq":`),
 * 5 frame middle (`,"from":..,"cmid":..,"body":`), 6 candidate epoch, 7 mode (group|dm|dm-indexed),
 * 8 retention max msgs, 9 retention ms, 10 dedupe ttl ms, 11 bus channel, 12 conv, 13 skip dedupe (test bug)
 * → {status, seq, ts, epoch}; status ok | dup | need_index | not_found | forbidden
 */
export const SEND = `${NOW}
local meta, log, dd = KEYS[1], KEYS[2], KEYS[3]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  if ARGV[7] == 'group' then return {'not_found'} end
  if ARGV[7] ~= 'dm-indexed' then return {'need_index'} end
  epoch = ARGV[6]
  redis.call('HSET', meta, 'epoch', epoch, 'head', 0, 'tlow', 0, 'ddlow', 0, 'ddnext', 0, 'tnext', 0, 'created', now)
end
if ARGV[7] == 'group' and redis.call('HEXISTS', KEYS[4], ARGV[1]) == 0 then return {'forbidden'} end
local dkey = ARGV[1] .. '\\n' .. ARGV[2]
local ddcut = now - tonumber(ARGV[10])
if ARGV[13] ~= '1' then
  local d = redis.call('HGET', dd, dkey)
  if d then
    local i = string.find(d, ':', 1, true)
    local dts = tonumber(string.sub(d, i + 1))
    -- an entry past DEDUPE_TTL_MS that the sweep has not reached yet is forgotten
    if dts > ddcut then return {'dup', tonumber(string.sub(d, 1, i - 1)), dts, epoch} end
  end
end
local seq = redis.call('HINCRBY', meta, 'head', 1)
redis.call('XADD', log, seq .. '-0', 'f', ARGV[1], 'm', ARGV[2], 'b', ARGV[3], 't', now)
redis.call('HSET', dd, dkey, seq .. ':' .. now)

local function fields(e)
  local h = {}
  for i = 1, #e[2], 2 do h[e[2][i]] = e[2][i + 1] end
  return h
end
local function seqOf(id) return tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)) end
-- Deletes a message's dedupe entry unless the same (sender, cmid) was stored again
-- after it expired: then the entry belongs to the newer seq.
local function forget(h, s)
  local key = h.f .. '\\n' .. h.m
  local v = redis.call('HGET', dd, key)
  if v and tonumber(string.sub(v, 1, string.find(v, ':', 1, true) - 1)) == s then redis.call('HDEL', dd, key) end
end

-- Dedupe expiry: bounded work per send (up to 8 entries), skipped while the oldest
-- remembered entry is known to be young, so a send usually reads nothing.
local ddnext = tonumber(redis.call('HGET', meta, 'ddnext') or '0')
if ddnext <= ddcut then
  local ddlow = tonumber(redis.call('HGET', meta, 'ddlow') or '0')
  local es = redis.call('XRANGE', log, (ddlow + 1) .. '-0', '+', 'COUNT', 8)
  local nextts = 0
  for _, e in ipairs(es) do
    local h = fields(e)
    if tonumber(h.t) > ddcut then nextts = tonumber(h.t); break end
    ddlow = seqOf(e[1])
    forget(h, ddlow)
  end
  redis.call('HSET', meta, 'ddlow', ddlow, 'ddnext', nextts)
end

-- Retention: trim by count and age, deleting the trimmed messages' dedupe entries with them.
local maxn, rcut = tonumber(ARGV[8]), now - tonumber(ARGV[9])
local len = redis.call('XLEN', log)
local tnext = tonumber(redis.call('HGET', meta, 'tnext') or '0')
if len > maxn or tnext <= rcut then
  local tlow = tonumber(redis.call('HGET', meta, 'tlow') or '0')
  local ddlow = tonumber(redis.call('HGET', meta, 'ddlow') or '0')
  local nextts, trimmed = 0, tlow
  local es = redis.call('XRANGE', log, '-', '+', 'COUNT', 16)
  for _, e in ipairs(es) do
    local h = fields(e)
    local s = seqOf(e[1])
    if not (len > maxn or tonumber(h.t) <= rcut) or s == seq then nextts = tonumber(h.t); break end
    if s > ddlow then forget(h, s) end
    trimmed = s
    len = len - 1
  end
  if trimmed > tlow then
    redis.call('XTRIM', log, 'MINID', (trimmed + 1) .. '-0')
    redis.call('HSET', meta, 'tlow', trimmed)
    -- ddnext stays a lower bound of the next remembered message's ts, so it needs no reset.
    if ddlow < trimmed then redis.call('HSET', meta, 'ddlow', trimmed) end
  end
  redis.call('HSET', meta, 'tnext', nextts)
end

redis.call('PUBLISH', ARGV[11], 'm\\t' .. ARGV[12] .. '\\t' .. epoch .. '\\t' .. seq .. '\\n' .. ARGV[4] .. seq .. ARGV[5] .. ARGV[3] .. ',"ts":' .. now .. '}')
return {'ok', seq, now, epoch}
`;

/**
 * convState — KEYS: meta, members, leavers; ARGV: 1 user, 2 is group ('1'|'0')
 * → {epoch|false, head, tlow, joinSeq (-1 when not a member of the group), leftAt (-1 unless a former member)}
 * A former member's devices still get the messages stored while it was a member.
 */
export const CONV_STATE = `
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
`;

/**
 * history — KEYS: meta, log, members; ARGV: 1 user, 2 is group, 3 after (or ''), 4 before (or ''), 5 limit
 * → {status, epoch, more (0|1), entries...}; entries as XRANGE returns them, ascending.
 */
export const HISTORY = `
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
`;

/**
 * groupCreate — KEYS: meta, members, joinOrder, leavers; ARGV: 1 owner, 2 group max, 3 epoch, 4 channel, 5 conv, 6.. members
 * → {'ok', epoch} | {'conflict'} | {'too_large'}
 */
export const GROUP_CREATE = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'conflict'} end
local list, seen = {ARGV[1]}, {[ARGV[1]] = true}
for i = 6, #ARGV do
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; list[#list + 1] = ARGV[i] end
end
if #list > tonumber(ARGV[2]) then return {'too_large'} end
redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'head', 0, 'tlow', 0, 'ddlow', 0, 'ddnext', 0, 'tnext', 0, 'created', now, 'owner', ARGV[1], 'jc', #list)
for i, u in ipairs(list) do
  redis.call('HSET', KEYS[2], u, 0)
  redis.call('ZADD', KEYS[3], i, u)
  redis.call('HDEL', KEYS[4], u)
  redis.call('PUBLISH', ARGV[4], 'j\\t' .. ARGV[5] .. '\\t' .. ARGV[3] .. '\\t' .. u .. '\\t0')
end
return {'ok', ARGV[3]}
`;

/**
 * groupJoin — KEYS: meta, members, joinOrder, leavers; ARGV: 1 caller, 2 group max, 3 channel, 4 conv, 5.. users
 * → {'ok', head, joined...} | {'not_found'} | {'forbidden'} | {'too_large'}
 */
export const GROUP_JOIN = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head')
if not m[1] then return {'not_found'} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {'forbidden'} end
local add, seen = {}, {}
for i = 5, #ARGV do
  local u = ARGV[i]
  if not seen[u] and redis.call('HEXISTS', KEYS[2], u) == 0 then seen[u] = true; add[#add + 1] = u end
end
if redis.call('HLEN', KEYS[2]) + #add > tonumber(ARGV[2]) then return {'too_large'} end
local out = {'ok', tonumber(m[2])}
for _, u in ipairs(add) do
  local jc = redis.call('HINCRBY', KEYS[1], 'jc', 1)
  redis.call('HSET', KEYS[2], u, m[2])
  redis.call('ZADD', KEYS[3], jc, u)
  redis.call('HDEL', KEYS[4], u)
  redis.call('PUBLISH', ARGV[3], 'j\\t' .. ARGV[4] .. '\\t' .. m[1] .. '\\t' .. u .. '\\t' .. m[2])
  out[#out + 1] = u
end
return out
`;

/**
 * groupLeave — KEYS: meta, members, joinOrder, leavers; ARGV: 1 caller, 2 user, 3 channel, 4 conv
 * → {'ok', removed (0|1)} | {'not_found'} | {'forbidden'}
 */
export const GROUP_LEAVE = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'owner')
if not m[1] then return {'not_found'} end
if ARGV[1] ~= ARGV[2] and m[3] ~= ARGV[1] then return {'forbidden'} end
local joined = redis.call('HGET', KEYS[2], ARGV[2])
if not joined then return {'ok', 0} end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], joined .. '|' .. m[2])
if m[3] == ARGV[2] then
  local first = redis.call('ZRANGE', KEYS[3], 0, 0)
  redis.call('HSET', KEYS[1], 'owner', first[1] or '')
end
redis.call('PUBLISH', ARGV[3], 'l\\t' .. ARGV[4] .. '\\t' .. m[1] .. '\\t' .. ARGV[2] .. '\\t' .. m[2])
return {'ok', 1}
`;

/**
 * groupGet — KEYS: meta, joinOrder, members; ARGV: 1 caller
 * → {'ok', owner, head, members...} | {'not_found'} | {'forbidden'}
 */
export const GROUP_GET = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'owner')
if not m[1] then return {'not_found'} end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return {'forbidden'} end
local out = {'ok', m[3] or '', tonumber(m[2])}
for _, u in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do out[#out + 1] = u end
return out
`;

/**
 * cursorsAdvance — KEYS: cursors hash of one device; ARGV: triples conv, epoch, seq.
 * Forward only within an epoch; a cursor of another epoch is replaced.
 */
export const CURSORS_ADVANCE = `
for i = 1, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local write = true
  if cur then
    local bar = string.find(cur, '|', 1, true)
    if string.sub(cur, 1, bar - 1) == ARGV[i + 1] and tonumber(string.sub(cur, bar + 1)) >= tonumber(ARGV[i + 2]) then write = false end
  end
  if write then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2]) end
end
return 1
`;

/**
 * readAdvance — KEYS: reads hash; ARGV: 1 conv, 2 epoch, 3 seq, 4 channel, 5 user, 6 origin connection id
 * → 1 when the mark moved (and was announced), else 0.
 */
export const READ_ADVANCE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local bar = string.find(cur, '|', 1, true)
  if string.sub(cur, 1, bar - 1) == ARGV[2] and tonumber(string.sub(cur, bar + 1)) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
redis.call('PUBLISH', ARGV[4], 'r\\t' .. ARGV[5] .. '\\t' .. ARGV[1] .. '\\t' .. ARGV[3] .. '\\t' .. ARGV[6])
return 1
`;

const PRESENCE_BUMP = `
local function setPresence(status)
  local p = redis.call('HMGET', KEYS[2], 'status', 'v')
  if p[1] == status then return end
  local v = math.max(tonumber(p[2] or '0') + 1, now)
  redis.call('HSET', KEYS[2], 'status', status, 'v', v, 'ts', now)
  redis.call('PUBLISH', ARGV[1], 'p\\t' .. ARGV[2] .. '\\t' .. status .. '\\t' .. v .. '\\t' .. now)
end
`;

/**
 * connOpen — KEYS: conns, presence; ARGV: 1 channel, 2 user, 3 conn id, 4 `<incarnation>#<lease generation>`, 5 device,
 * 6 max devices, 7 mode (hello | reregister)
 * → {'ok', replaced conn ids...} | {'too_many_devices'}
 * A device already open replaces itself (its older connections are announced for 4409).
 */
export const CONN_OPEN = `${NOW}${PRESENCE_BUMP}
local all = redis.call('HGETALL', KEYS[1])
local devices, ndev, replaced = {}, 0, {}
for i = 1, #all, 2 do
  local v = all[i + 1]
  local dev = string.sub(v, string.find(v, '|', 1, true) + 1)
  if all[i] ~= ARGV[3] then
    if dev == ARGV[5] then
      if ARGV[7] == 'hello' then replaced[#replaced + 1] = all[i] end
    elseif not devices[dev] then devices[dev] = true; ndev = ndev + 1 end
  end
end
if ARGV[7] == 'hello' and ndev >= tonumber(ARGV[6]) then return {'too_many_devices'} end
for _, c in ipairs(replaced) do
  redis.call('HDEL', KEYS[1], c)
  redis.call('PUBLISH', ARGV[1], 'k\\t' .. ARGV[2] .. '\\t' .. c .. '\\t4409')
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4] .. '|' .. ARGV[5])
setPresence('online')
local out = {'ok'}
for _, c in ipairs(replaced) do out[#out + 1] = c end
return out
`;

/**
 * connClose — KEYS: conns, presence; ARGV: 1 channel, 2 user, 3 conn id, [4 incarnation, 5 max generation]
 * → 1 removed, 0 not registered, -1 kept (a sweep's call found it re-registered under a
 * newer lease generation of that incarnation: the node came back, the connection lives).
 */
export const CONN_CLOSE = `${NOW}${PRESENCE_BUMP}
if ARGV[4] then
  local v = redis.call('HGET', KEYS[1], ARGV[3])
  if not v then return 0 end
  local hash = string.find(v, '#', 1, true)
  local bar = string.find(v, '|', 1, true)
  if not hash or string.sub(v, 1, hash - 1) ~= ARGV[4] or tonumber(string.sub(v, hash + 1, bar - 1)) > tonumber(ARGV[5]) then return -1 end
end
if redis.call('HDEL', KEYS[1], ARGV[3]) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) == 0 then setPresence('offline') end
return 1
`;

/**
 * leaseRenew — KEYS: leases, generations; ARGV: 1 incarnation, 2 ttl ms
 * → {held (1 when the lease was still held, 0 when it had lapsed or vanished), generation}.
 * A lapse starts a new generation: registrations written under it survive a sweep of the old one.
 */
export const LEASE_RENEW = `${NOW}
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local gen = redis.call('HGET', KEYS[2], ARGV[1])
if cur and tonumber(cur) >= now and gen then return {1, tonumber(gen)} end
return {0, redis.call('HINCRBY', KEYS[2], ARGV[1], 1)}
`;

/** leasesExpired — KEYS: leases; ARGV: 1 limit → expired incarnations */
export const LEASES_EXPIRED = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[1]))
`;

/**
 * sweepClaim — KEYS: leases, generations, claim; ARGV: 1 incarnation, 2 sweeper, 3 claim ms
 * → the generation to sweep, or -1 (the lease is held again, or another node sweeps it)
 */
export const SWEEP_CLAIM = `${NOW}
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not exp or tonumber(exp) >= now then return -1 end
if not redis.call('SET', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[3]), 'NX') then return -1 end
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
`;

/**
 * sweepFinish — KEYS: leases, generations, claim; ARGV: 1 incarnation
 * → 1 when the incarnation was forgotten, 0 when its lease is held again (it came back)
 */
export const SWEEP_FINISH = `${NOW}
redis.call('DEL', KEYS[3])
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if exp and tonumber(exp) >= now then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;
