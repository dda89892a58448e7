-- send: stores one message — membership check, dedupe, append, retention and publish in one
-- atomic step, so the bus never carries a message the log does not hold.
-- KEYS: meta, log, dedupe, members, dedupe orphans (all in the conversation's slot)
-- → {status, seq, ts, epoch}; status ok | dup | need_index | need_reclaim_index | not_found | forbidden
--   need_reclaim_index (nothing written): {status, when} — put the conversation in the
--   reclaim index (keys.reclaimIndex) at `when`, then send again with reclaimIndexed = 1.
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
-- '1' when the caller put the conversation in the reclaim index before this call
local reclaimIndexed = ARGV[13]
--!include retention.lua
-- meta's fields this script reads, in one call (each redis.call costs the script about as
-- much as the command itself; five HGETs were a fifth of a send's, issue 10). The marks are
-- those retention's gates read before anything below writes them (a conversation created
-- here reads as nil: 0, what the HSET below writes).
local mf = redis.call('HMGET', meta, 'epoch', 'rx', 'dxnext', 'ddnext', 'tnext')
local epoch = mf[1]
if not epoch then
  if mode == 'group' then return {'not_found'} end
  if mode ~= 'dm-indexed' then return {'need_index'} end
  epoch = newEpoch
  redis.call('HSET', meta, 'epoch', epoch, 'head', '0', 'tlow', '0', 'ddlow', '0', 'ddnext', '0', 'tnext', '0', 'created', nowS)
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
-- A conversation the reclaimer may have dropped from its index (`rx` unset: it held nothing
-- left to expire) is indexed again before anything expirable is written (a crash in between
-- leaves an index entry too many, never one too few): at its next expiry, this message's included.
if mf[2] ~= '1' then
  if reclaimIndexed ~= '1' then
    local at, mine = nextExpiry(retentionMs, dedupeTtlMs), now + math.min(retentionMs, dedupeTtlMs)
    if at == 0 or mine < at then at = mine end
    return {'need_reclaim_index', at}
  end
  redis.call('HSET', meta, 'rx', '1')
end
local seq = redis.call('HINCRBY', meta, 'head', '1')
-- numbers as strings once: every `..` or redis.call argument of a number is a sprintf
local seqS = tostring(seq)
redis.call('XADD', log, seqS .. '-0', 'f', sender, 'm', cmid, 'b', body, 't', nowS)
redis.call('HSET', dd, dkey, seqS .. ':' .. nowS)

-- bounded work per send: up to 8 orphans, 8 dedupe entries and 16 messages
expireOrphans(ddcut, 8, tonumber(mf[3] or '0'))
expireDedupe(ddcut, 8, tonumber(mf[4] or '0'))
trim(retentionMax, now - retentionMs, ddcut, seq, 16, tonumber(mf[5] or '0'))

redis.call('PUBLISH', channel, 'm\t' .. conv .. '\t' .. epoch .. '\t' .. seqS .. '\n' .. frameHead .. seqS .. frameMid .. body .. ',"ts":' .. nowS .. '}')
return {'ok', seq, now, epoch}
