-- reclaim: what RETENTION_MS and DEDUPE_TTL_MS expired in one conversation, for the
-- background reclaimer (conversations nobody writes to are never reached by send.lua).
-- KEYS: meta, log, dedupe, dedupe orphans (the conversation's slot)
-- ARGV: 1 retention max messages, 2 retention ms, 3 dedupe ttl ms, 4 budget (entries of each kind)
-- → {next, messages trimmed, dedupe entries forgotten}; next: when to come back (ms),
--   0 when nothing is left to expire (then `rx` is unset: the next send indexes it again)
--!include now.lua
local meta, log, dd, orphans = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local retentionMax, retentionMs, dedupeTtlMs, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
--!include retention.lua
if not redis.call('HGET', meta, 'epoch') then return {0, 0, 0} end
local ddcut = now - dedupeTtlMs
local orphansForgotten, moreOrphans = expireOrphans(ddcut, budget)
local expired, moreDedupe = expireDedupe(ddcut, budget)
local trimmed, forgotten, moreTrim = trim(retentionMax, now - retentionMs, ddcut, -1, budget)
-- an emptied stream is dropped (seqs live in meta; the next XADD recreates it)
if trimmed > 0 and redis.call('XLEN', log) == 0 then redis.call('DEL', log) end
local nextAt = nextExpiry(retentionMs, dedupeTtlMs)
if moreOrphans or moreDedupe or moreTrim then nextAt = now end
if nextAt == 0 then redis.call('HDEL', meta, 'rx') end
return {nextAt, trimmed, orphansForgotten + expired + forgotten}
