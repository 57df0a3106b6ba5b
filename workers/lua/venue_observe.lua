-- KEYS[1]: the venue's limit hash (minute, used, until). ARGV: the weight the venue says this IP used this
-- minute ('' if it did not say), and how many ms it asked us to wait (Retry-After; '' if none).
-- The shared count only rises to the venue's (it may count requests we did not make); a pause only lengthens.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minute = math.floor(now / 60000)
if ARGV[1] ~= '' then
  local state = redis.call('HMGET', KEYS[1], 'minute', 'used')
  local used = 0
  if tonumber(state[1] or '-1') == minute then used = tonumber(state[2]) end
  if tonumber(ARGV[1]) > used then redis.call('HSET', KEYS[1], 'minute', minute, 'used', ARGV[1]) end
end
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if ARGV[2] ~= '' and now + tonumber(ARGV[2]) > until_ms then
  until_ms = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'until', until_ms)
end
redis.call('PEXPIRE', KEYS[1], math.max(120000, until_ms - now + 60000))
return until_ms - now
