-- cursorsAdvance — KEYS: cursors hash of one device; ARGV: triples conv, epoch, seq.
-- Forward only within an epoch; a cursor of another epoch is replaced.
--
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
