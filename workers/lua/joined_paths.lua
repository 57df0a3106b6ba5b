-- KEYS: price-path streams; ARGV: per stream, the XRANGE start (``(id`` or ``-``). Returns per stream its entries
-- as "millis,sequence,minute,first,high,low" joined by commas: numbers only, which the client parses straight into
-- an array (``PricePath``) rather than into an object per entry (a close reads a minute of every symbol's entries).
local joined = {}
for i, key in ipairs(KEYS) do
  local parts = {}
  for _, entry in ipairs(redis.call('XRANGE', key, ARGV[i], '+')) do
    local f = {}
    for k = 1, #entry[2], 2 do f[entry[2][k]] = entry[2][k + 1] end
    parts[#parts + 1] = (string.gsub(entry[1], '-', ',', 1)) .. ',' .. f.m .. ',' .. f.o .. ',' .. f.h .. ',' .. f.l
  end
  joined[i] = table.concat(parts, ',')
end
return joined
