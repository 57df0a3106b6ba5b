-- KEYS: closed-candle list, forming candle. ARGV: the head the rows were chosen against ('' for an empty
-- list), the cap, the newest row's open time, then the rows oldest first. Returns the list's length,
-- or -1 (nothing written) if the list or forming candle moved since the snapshot.
local head = redis.call('LINDEX', KEYS[1], 0) or ''
if head ~= ARGV[1] then return -1 end
local forming = tonumber(redis.call('HGET', KEYS[2], 't') or '')
if forming and forming <= tonumber(ARGV[3]) then return -1 end
for i = #ARGV, 4, -1 do redis.call('LPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return redis.call('LLEN', KEYS[1])
