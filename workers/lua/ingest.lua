-- KEYS: late hash, events stream, the batch id's marker bitmap, quarantine counts hash, then per symbol:
-- last tick, path stream, and per timeframe: forming candle, closed candles. ARGV[1]: JSON
-- {"symbols": [{"name", "tick": [ts, p, q], "tfs": [{"tf", "cap", "path", "segs": [[t, ot, o, h, l,
-- ct, c, v, n], ...]}]}], "path_len", "events_len", "batch_ttl" (0: the batch has no id), "batch_bit",
-- "quarantined": {symbol: ticks}}. Prices travel as strings so no digit is lost in Lua (Python's repr of
-- a finite float: a valid JSON number, which is how candle events carry them).
-- Returns a flat list: late tick count, then (symbol, timeframe, closed open time, next open time) per close;
-- {-1} when the batch's id was applied before (nothing is done).
local batch = cjson.decode(ARGV[1])
if batch.batch_ttl > 0 then
  if redis.call('SETBIT', KEYS[3], batch.batch_bit, 1) == 1 then
    return {-1}
  end
  redis.call('EXPIRE', KEYS[3], batch.batch_ttl)
end
for name, count in pairs(batch.quarantined) do
  redis.call('HINCRBY', KEYS[4], name, count)
end
local late_total = 0
local closes = {late_total}
local k = 5
for _, sym in ipairs(batch.symbols) do
  local tick_key, path_key = KEYS[k], KEYS[k + 1]
  k = k + 2
  local last_ts = tonumber(redis.call('HGET', tick_key, 'ts') or '-1')
  if sym.tick[1] >= last_ts then
    redis.call('HSET', tick_key, 'ts', string.format('%d', sym.tick[1]), 'p', sym.tick[2], 'q', sym.tick[3])
  end
  local late = 0
  for _, frame in ipairs(sym.tfs) do
    local candle_key, closed_key = KEYS[k], KEYS[k + 1]
    k = k + 2
    local c = redis.call('HMGET', candle_key, 't', 'o', 'h', 'l', 'c', 'v', 'ot', 'ct', 'n')
    local t = tonumber(c[1])
    local o, h, l, cl, v, ot, ct, n = c[2], c[3], c[4], c[5], tonumber(c[6]), tonumber(c[7]), tonumber(c[8]), tonumber(c[9])
    local closed_any = false
    -- No forming candle (the first tick, or its hash was lost): ticks of a candle the working set holds already
    -- are late, or the candle would be closed twice or out of order.
    local closed_through = -1
    if t == nil then
      local newest = redis.call('LINDEX', closed_key, -1)
      if newest then closed_through = tonumber(string.match(newest, '^[^,]+')) end
    end
    for _, s in ipairs(frame.segs) do
      local st = s[1]
      local continued, before = t ~= nil and st == t, cl
      if t == nil and st <= closed_through then
        if frame.path then late = late + s[9] end
      elseif t == nil or st > t then
        if t ~= nil then
          redis.call('RPUSH', closed_key, string.format('%d', t) .. ',' .. o .. ',' .. h .. ',' .. l .. ',' .. cl .. ',' .. string.format('%.17g', v))
          closed_any = true
          closes[#closes + 1] = sym.name
          closes[#closes + 1] = frame.tf
          closes[#closes + 1] = string.format('%d', t)
          closes[#closes + 1] = string.format('%d', st)
          -- Written out rather than cjson.encode'd: the prices are the feed's shortest round-trip
          -- decimals, valid JSON numbers already, which cjson would cut to 14 digits; symbols
          -- (A-Z 0-9 . _ -, workers/ticks.py) and timeframes need no escaping.
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', batch.events_len, '*', 'type', 'candle',
            'data', '{"symbol":"' .. sym.name .. '","timeframe":"' .. frame.tf .. '","t":' .. string.format('%d', t) ..
              ',"o":' .. o .. ',"h":' .. h .. ',"l":' .. l .. ',"c":' .. cl .. ',"v":' .. string.format('%.17g', v) .. '}')
        end
        t, o, h, l, cl, v, ot, ct, n = st, s[3], s[4], s[5], s[7], tonumber(s[8]), s[2], s[6], s[9]
      elseif st == t then
        if s[2] < ot then o, ot = s[3], s[2] end
        if s[6] >= ct then cl, ct = s[7], s[6] end
        if tonumber(s[4]) > tonumber(h) then h = s[4] end
        if tonumber(s[5]) < tonumber(l) then l = s[5] end
        v = v + tonumber(s[8])
        n = n + s[9]
      else
        if frame.path then late = late + s[9] end
      end
      if frame.path and t ~= nil and st >= t then
        -- Within a candle the path is continuous: a later batch starts from the price before it, so
        -- only a candle's open can gap past a stop (as in a backtest bar).
        local first, high, low = s[3], s[4], s[5]
        if continued then
          first = before
          if tonumber(before) > tonumber(high) then high = before end
          if tonumber(before) < tonumber(low) then low = before end
        end
        redis.call('XADD', path_key, 'MAXLEN', '~', batch.path_len, '*', 'm', string.format('%d', st),
          'o', first, 'h', high, 'l', low)
      end
    end
    if t ~= nil then
      redis.call('HSET', candle_key, 't', string.format('%d', t), 'o', o, 'h', h, 'l', l, 'c', cl,
        'v', string.format('%.17g', v), 'ot', string.format('%d', ot), 'ct', string.format('%d', ct), 'n', n)
    end
    if closed_any then
      redis.call('LTRIM', closed_key, -frame.cap, -1)
    end
  end
  if late > 0 then
    redis.call('HINCRBY', KEYS[1], sym.name, late)
    late_total = late_total + late
  end
end
closes[1] = late_total
return closes
