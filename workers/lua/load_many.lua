-- KEYS: position hashes. Returns one JSON string: per key, [state, cursor, bar, evaluated, executed, version]
-- (false where missing). One string parses far faster in the client than hundreds of hashes.
local rows = {}
for i, key in ipairs(KEYS) do
  rows[i] = redis.call('HMGET', key, 'state', 'cursor', 'bar', 'evaluated', 'executed', 'version')
end
return cjson.encode(rows)
