-- KEYS[1]: the venue's limit hash (minute, used, until). ARGV: weight, slow_from, budget (request weight per
-- minute). Takes the weight from this minute's budget if it may go now; by the Redis server's clock, so every
-- process agrees on the minute. Past slow_from the rest of the budget is spread over the minute.
-- Returns {state, wait ms, used}: state 0 granted, 1 paused by the venue (Retry-After), 2 budget spent
-- (wait for the next minute), 3 slowing down (wait for the minute's pace to allow it).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minute = math.floor(now / 60000)
local elapsed = now - minute * 60000
local state = redis.call('HMGET', KEYS[1], 'minute', 'used', 'until')
local until_ms = tonumber(state[3] or '0')
local used = 0
if tonumber(state[1] or '-1') == minute then used = tonumber(state[2]) end
if until_ms > now then return {1, until_ms - now, used} end
local weight, slow_from, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local after = used + weight
if after > budget then return {2, 60000 - elapsed, used} end
if after > slow_from then
  local due = math.ceil((after - slow_from) / (budget - slow_from) * 60000)
  if due > elapsed then return {3, due - elapsed, used} end
end
redis.call('HSET', KEYS[1], 'minute', minute, 'used', after)
redis.call('PEXPIRE', KEYS[1], math.max(120000, until_ms - now + 60000))
return {0, 0, after}
