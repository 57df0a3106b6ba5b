-- KEYS: an order claim. ARGV: the largest remaining lifetime (ms) of the claim to retake, the new value, its TTL (s).
-- Takes the claim again only while it is as old as the caller saw it: of two attempts retaking one stale claim, the
-- first resets its lifetime and the second finds it fresh and backs off. A claim gone meanwhile is taken as new.
if redis.call('PTTL', KEYS[1]) <= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
