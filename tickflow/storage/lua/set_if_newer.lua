-- KEYS[1]: cache key. ARGV: version, JSON document ("" for a tombstone), TTL in ms, 1 to also replace an
-- entry of the same version (a refresh from MongoDB) or 0.
local cached = tonumber(redis.call('HGET', KEYS[1], 'version'))
local version = tonumber(ARGV[1])
if cached and (cached > version or (cached == version and ARGV[4] ~= '1')) then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
