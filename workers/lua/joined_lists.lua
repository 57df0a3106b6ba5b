-- KEYS: closed-candle lists. Returns per list its rows joined by ",": one string per symbol parses
-- far faster in the client than hundreds of short ones.
local joined = {}
for i, key in ipairs(KEYS) do joined[i] = table.concat(redis.call('LRANGE', key, 0, -1), ',') end
return joined
