-- KEYS: active hash, a dashboard hash whose fields start with a strategy id (``id`` or ``id:symbol``) and
-- hold JSON with ``t``, a candle time. ARGV: idle ms. Drops the fields of strategies not active whose
-- value is older than the cutoff; returns how many.
-- The idle cutoff, on the Redis server's clock (the clock that stamps stream entry ids), whatever the
-- worker's clock says: ARGV[1] is the idle age in ms.
local clock = redis.call('TIME')
local cutoff = clock[1] * 1000 + math.floor(clock[2] / 1000) - tonumber(ARGV[1])
local dropped = 0
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local sid = string.match(entries[i], '^[^:]+')
  if redis.call('HEXISTS', KEYS[1], sid) == 0 and cjson.decode(entries[i + 1]).t < cutoff then
    redis.call('HDEL', KEYS[2], entries[i])
    dropped = dropped + 1
  end
end
return dropped
