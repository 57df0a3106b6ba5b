-- KEYS: active hash, timeframes hash. ARGV: minimum bars, dashboard timeframe. Recomputed from the whole
-- active set in one script, so two strategies starting at once cannot lose each other's needs.
local needs = {}
local active = redis.call('HGETALL', KEYS[1])
for i = 2, #active, 2 do
  local entry = cjson.decode(active[i])
  for _, symbol in ipairs(entry.symbols) do
    needs[symbol] = needs[symbol] or {[ARGV[2]] = tonumber(ARGV[1])}
    local have = needs[symbol][entry.timeframe] or 0
    if entry.bars > have then needs[symbol][entry.timeframe] = entry.bars end
  end
end
redis.call('DEL', KEYS[2])
for symbol, frames in pairs(needs) do redis.call('HSET', KEYS[2], symbol, cjson.encode(frames)) end
return 1
