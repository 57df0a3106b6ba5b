-- KEYS: fills hash, positions hash. ARGV: per order, client order id, JSON fill, account, signed size.
-- A fill is stored once per client order id and only a new one moves its account's net position, so
-- submitting again changes nothing. Returns the stored fills (the first one of a repeated id).
local fills = {}
for i = 1, #ARGV, 4 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i + 2], ARGV[i + 3])
  end
  fills[#fills + 1] = redis.call('HGET', KEYS[1], ARGV[i])
end
return fills
