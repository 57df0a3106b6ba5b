-- KEYS: progress keys. ARGV: a candle open time per key. Progress only moves forward, so a
-- redelivered old close cannot make a waiting feed think a later candle is unhandled.
for i, key in ipairs(KEYS) do
  if tonumber(ARGV[i]) > tonumber(redis.call('GET', key) or '-1') then redis.call('SET', key, ARGV[i]) end
end
