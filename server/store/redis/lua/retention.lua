-- Retention and dedupe expiry of one conversation, shared by send.lua (a little at every
-- write) and reclaim.lua (the background reclaimer, for conversations nobody writes to).
-- Included after the locals meta, log, dd (dedupe hash) and orphans are set.
--
-- Dedupe entries of trimmed messages outlive them (PROTOCOL.md guarantee 2): they wait in
-- the orphans zset (score: ts, member: `<seq>\n<sender>\n<cmid>`) until DEDUPE_TTL_MS.
-- meta keeps marks so a call usually reads nothing: tnext (ts of the oldest stored message,
-- 0 unknown), ddlow/ddnext (last seq whose dedupe entry was expired, and a lower bound of
-- the next one's ts), dxnext (ts of the oldest orphan, 0 none). The three gates take the
-- mark their caller read already (send.lua reads meta in one HMGET), else read it.
local function fields(e)
  local h = {}
  for i = 1, #e[2], 2 do h[e[2][i]] = e[2][i + 1] end
  return h
end
local function seqOf(id) return tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)) end
local function metaNum(f) return tonumber(redis.call('HGET', meta, f) or '0') end
-- The dedupe entry of `key` if it still belongs to seq s (the same (sender, cmid) stored
-- again after it expired owns the entry then), as its ts; else nil.
local function entryOf(key, s)
  local v = redis.call('HGET', dd, key)
  if not v then return nil end
  local i = string.find(v, ':', 1, true)
  if tonumber(string.sub(v, 1, i - 1)) ~= s then return nil end
  return tonumber(string.sub(v, i + 1))
end
local function forget(key, s)
  if entryOf(key, s) then redis.call('HDEL', dd, key); return 1 end
  return 0
end

-- Orphans past ddcut, at most `budget`. → entries forgotten, whether more may be due
local function expireOrphans(ddcut, budget, knownDxnext)
  local dxnext = knownDxnext or metaNum('dxnext')
  if dxnext == 0 or dxnext > ddcut then return 0, false end
  local n = 0
  local due = redis.call('ZRANGEBYSCORE', orphans, '-inf', ddcut, 'LIMIT', 0, budget)
  for _, m in ipairs(due) do
    local nl = string.find(m, '\n', 1, true)
    n = n + forget(string.sub(m, nl + 1), tonumber(string.sub(m, 1, nl - 1)))
    redis.call('ZREM', orphans, m)
  end
  local first = redis.call('ZRANGE', orphans, 0, 0, 'WITHSCORES')
  redis.call('HSET', meta, 'dxnext', tonumber(first[2] or '0'))
  return n, #due == budget
end

-- Dedupe entries of stored messages past ddcut, in log order, at most `budget`.
-- → entries forgotten, whether more may be due
local function expireDedupe(ddcut, budget, knownDdnext)
  if (knownDdnext or metaNum('ddnext')) > ddcut then return 0, false end
  local ddlow = metaNum('ddlow')
  local es = redis.call('XRANGE', log, (ddlow + 1) .. '-0', '+', 'COUNT', budget)
  local n, nextts = 0, 0
  for _, e in ipairs(es) do
    local h = fields(e)
    if tonumber(h.t) > ddcut then nextts = tonumber(h.t); break end
    ddlow = seqOf(e[1])
    n = n + forget(h.f .. '\n' .. h.m, ddlow)
  end
  redis.call('HSET', meta, 'ddlow', ddlow, 'ddnext', nextts)
  return n, nextts == 0 and #es == budget
end

-- Retention: trims messages beyond maxn (count) or stored at or before rcut (age), at most
-- `budget`, never seq `keep` (the message a send just stored); a trimmed message's dedupe
-- entry younger than ddcut becomes an orphan, an older one is deleted.
-- → messages trimmed, dedupe entries deleted, whether more may be due
local function trim(maxn, rcut, ddcut, keep, budget, knownTnext)
  local len = redis.call('XLEN', log)
  if not (len > maxn or (knownTnext or metaNum('tnext')) <= rcut) then return 0, 0, false end
  local tlow, ddlow, dxnext = metaNum('tlow'), metaNum('ddlow'), metaNum('dxnext')
  local nextts, trimmed, forgotten = 0, tlow, 0
  local es = redis.call('XRANGE', log, '-', '+', 'COUNT', budget)
  for _, e in ipairs(es) do
    local h = fields(e)
    local s = seqOf(e[1])
    if not (len > maxn or tonumber(h.t) <= rcut) or s == keep then nextts = tonumber(h.t); break end
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
        forgotten = forgotten + 1
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
  return trimmed - tlow, forgotten, nextts == 0 and #es == budget
end

-- When the conversation next holds something to expire, 0 for nothing: its oldest message
-- at retentionMs, its oldest remembered dedupe entry or orphan at dedupeTtlMs.
local function nextExpiry(retentionMs, dedupeTtlMs)
  local at = 0
  local function consider(t)
    if at == 0 or t < at then at = t end
  end
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
  if first then consider(tonumber(fields(first).t) + retentionMs) end
  local remembered = redis.call('XRANGE', log, (metaNum('ddlow') + 1) .. '-0', '+', 'COUNT', 1)[1]
  if remembered then consider(tonumber(fields(remembered).t) + dedupeTtlMs) end
  local orphan = redis.call('ZRANGE', orphans, 0, 0, 'WITHSCORES')
  if orphan[2] then consider(tonumber(orphan[2]) + dedupeTtlMs) end
  return at
end
