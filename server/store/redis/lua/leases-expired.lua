-- leasesExpired — KEYS: leases; ARGV: 1 limit → expired incarnations
--!include now.lua
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[1]))
