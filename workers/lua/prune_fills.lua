-- KEYS: the paper broker's fills hash, then one order claim per fill. ARGV: retention ms, then the fills'
-- client order ids, in the order of their claims. Drops each fill whose order claim is gone (expired: no
-- task can send that order again, so no resubmission needs the fill to stay idempotent) and whose time
-- ``ts`` is older than the retention, on the Redis server's clock; returns how many.
-- The cutoff, on the Redis server's clock (the clock the claims expire by), whatever the worker's clock
-- says: ARGV[1] is the retention in ms.
local clock = redis.call('TIME')
local cutoff = clock[1] * 1000 + math.floor(clock[2] / 1000) - tonumber(ARGV[1])
local dropped = 0
for i = 2, #KEYS do
  local fill = redis.call('HGET', KEYS[1], ARGV[i])
  if fill and redis.call('EXISTS', KEYS[i]) == 0 and cjson.decode(fill).ts < cutoff then
    redis.call('HDEL', KEYS[1], ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
