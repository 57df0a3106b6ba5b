-- A compare-and-set commit of many positions in one call. KEYS: stop holders set, outbox hash, events stream, then one
-- position key per commit. ARGV[1]: events stream length; ARGV[2]: JSON [[expected version, {field: string},
-- 0/1 holds stops, stop-holder member, [[outbox field, record]], [[type, data]], [[key, value, ttl s]]], ...].
-- Each position is compared-and-set on its own; returns 1/0 per commit.
local results = {}
for i, c in ipairs(cjson.decode(ARGV[2])) do
  local key = KEYS[3 + i]
  local version = tonumber(redis.call('HGET', key, 'version') or '0')
  if version ~= c[1] then
    results[i] = 0
  else
    local args = {}
    for name, value in pairs(c[2]) do args[#args + 1] = name; args[#args + 1] = value end
    args[#args + 1] = 'version'; args[#args + 1] = version + 1
    redis.call('HSET', key, unpack(args))
    if c[3] == 1 then redis.call('SADD', KEYS[1], c[4]) else redis.call('SREM', KEYS[1], c[4]) end
    for _, entry in ipairs(c[5]) do redis.call('HSET', KEYS[2], entry[1], entry[2]) end
    for _, event in ipairs(c[6]) do
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*', 'type', event[1], 'data', event[2])
    end
    for _, extra in ipairs(c[7]) do redis.call('SET', extra[1], extra[2], 'EX', extra[3]) end
    results[i] = 1
  end
end
return results
