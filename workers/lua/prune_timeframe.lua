-- KEYS: timeframes hash, then the keys of one symbol and timeframe, its forming candle first. ARGV: idle ms,
-- symbol, timeframe. Deletes them unless ingest keeps the timeframe for the symbol, or the forming candle's
-- last tick is newer than the cutoff.
-- The idle cutoff, on the Redis server's clock (the clock that stamps stream entry ids), whatever the
-- worker's clock says: ARGV[1] is the idle age in ms.
local clock = redis.call('TIME')
local cutoff = clock[1] * 1000 + math.floor(clock[2] / 1000) - tonumber(ARGV[1])
local kept = redis.call('HGET', KEYS[1], ARGV[2])
if kept and cjson.decode(kept)[ARGV[3]] then return 0 end
local last = tonumber(redis.call('HGET', KEYS[2], 'ct'))
if last and last >= cutoff then return 0 end
redis.call('DEL', unpack(KEYS, 2))
return 1
