-- KEYS: timeframes hash, late hash, then every key of the symbol, its price path first. ARGV: idle ms, symbol.
-- Deletes them unless an active strategy trades the symbol or something was ingested for it since the cutoff:
-- the price path's newest entry id is the server time of the last ingest that moved the symbol.
-- The idle cutoff, on the Redis server's clock (the clock that stamps stream entry ids), whatever the
-- worker's clock says: ARGV[1] is the idle age in ms.
local clock = redis.call('TIME')
local cutoff = clock[1] * 1000 + math.floor(clock[2] / 1000) - tonumber(ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if newest and tonumber(string.match(newest[1], '^%d+')) >= cutoff then return 0 end
redis.call('DEL', unpack(KEYS, 3))
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
