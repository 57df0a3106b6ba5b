-- KEYS: active hash, a position. ARGV: strategy id, the version at which it was found flat. Deletes it
-- unless the strategy is active or the position moved since.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HGET', KEYS[2], 'version') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2])
return 1
