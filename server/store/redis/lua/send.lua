-- send: stores one message — membership check, dedupe, append, retention and publish in one
-- atomic step, so the bus never carries a message the log does not hold.
-- KEYS: meta, log, dedupe, members, dedupe orphans (all in the conversation's slot)
-- → {status, seq, ts, epoch}; status ok | dup | need_index | not_found | forbidden
-- Publishes the bus payload `m` (server/bus/payloads.ts) with the `msg` frame assembled
-- from the parts msgFrameParts() (server/protocol/server-frames.ts) encodes.
--!include now.lua
local meta, log, dd, members, orphans = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local sender, cmid, body = ARGV[1], ARGV[2], ARGV[3]
local frameHead, frameMid = ARGV[4], ARGV[5]
-- the epoch a conversation gets when this message creates it
local newEpoch = ARGV[6]
-- group | dm | dm-indexed (a dm whose users both index the conversation already)
local mode = ARGV[7]
local retentionMax, retentionMs, dedupeTtlMs = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local channel, conv = ARGV[11], ARGV[12]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  if mode == 'group' then return {'not_found'} end
  if mode ~= 'dm-indexed' then return {'need_index'} end
  epoch = newEpoch
  redis.call('HSET', meta, 'epoch', epoch, 'head', 0, 'tlow', 0, 'ddlow', 0, 'ddnext', 0, 'tnext', 0, 'created', now)
end
if mode == 'group' and redis.call('HEXISTS', members, sender) == 0 then return {'forbidden'} end
local dkey = sender .. '\n' .. cmid
local ddcut = now - dedupeTtlMs
local d = redis.call('HGET', dd, dkey)
if d then
  local i = string.find(d, ':', 1, true)
  local dts = tonumber(string.sub(d, i + 1))
  -- an entry past DEDUPE_TTL_MS that the sweep has not reached yet is forgotten
  if dts > ddcut then return {'dup', tonumber(string.sub(d, 1, i - 1)), dts, epoch} end
end
local seq = redis.call('HINCRBY', meta, 'head', 1)
redis.call('XADD', log, seq .. '-0', 'f', sender, 'm', cmid, 'b', body, 't', now)
redis.call('HSET', dd, dkey, seq .. ':' .. now)

local function fields(e)
  local h = {}
  for i = 1, #e[2], 2 do h[e[2][i]] = e[2][i + 1] end
  return h
end
local function seqOf(id) return tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)) end
-- The dedupe entry of `key` if it still belongs to seq s (the same (sender, cmid) stored
-- again after it expired owns the entry then), as {seq, ts}; else nil.
local function entryOf(key, s)
  local v = redis.call('HGET', dd, key)
  if not v then return nil end
  local i = string.find(v, ':', 1, true)
  if tonumber(string.sub(v, 1, i - 1)) ~= s then return nil end
  return tonumber(string.sub(v, i + 1))
end
local function forget(key, s)
  if entryOf(key, s) then redis.call('HDEL', dd, key) end
end

-- Dedupe entries of trimmed messages outlive them (PROTOCOL.md guarantee 2): they wait in
-- the orphans zset (score: ts, member: `<seq>\n<sender>\n<cmid>`) until DEDUPE_TTL_MS.
local dxnext = tonumber(redis.call('HGET', meta, 'dxnext') or '0')
if dxnext > 0 and dxnext <= ddcut then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', orphans, '-inf', ddcut, 'LIMIT', 0, 8)) do
    local nl = string.find(m, '\n', 1, true)
    forget(string.sub(m, nl + 1), tonumber(string.sub(m, 1, nl - 1)))
    redis.call('ZREM', orphans, m)
  end
  local first = redis.call('ZRANGE', orphans, 0, 0, 'WITHSCORES')
  dxnext = tonumber(first[2] or '0')
  redis.call('HSET', meta, 'dxnext', dxnext)
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
    forget(h.f .. '\n' .. h.m, ddlow)
  end
  redis.call('HSET', meta, 'ddlow', ddlow, 'ddnext', nextts)
end

-- Retention: trim by count and age; a trimmed message's dedupe entry that has not expired
-- yet becomes an orphan (above), so a retry after the trim still answers its seq.
local maxn, rcut = retentionMax, now - retentionMs
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
    if s > ddlow then
      local key = h.f .. '\n' .. h.m
      local ts = entryOf(key, s)
      if ts and ts > ddcut then
        redis.call('ZADD', orphans, ts, s .. '\n' .. key)
        if dxnext == 0 or ts < dxnext then
          dxnext = ts
          redis.call('HSET', meta, 'dxnext', ts)
        end
      elseif ts then
        redis.call('HDEL', dd, key)
      end
    end
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

redis.call('PUBLISH', channel, 'm\t' .. conv .. '\t' .. epoch .. '\t' .. seq .. '\n' .. frameHead .. seq .. frameMid .. body .. ',"ts":' .. now .. '}')
return {'ok', seq, now, epoch}
