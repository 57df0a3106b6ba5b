-- KEYS: epoch. ARGV: the waiting mark read, the value once built. Compare-and-set, so that a mark a
-- strategy start put there meanwhile is not lost.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0
