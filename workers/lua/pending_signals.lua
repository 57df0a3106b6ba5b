-- KEYS: signal keys. Returns the (1-based) positions of those whose signal leaves an order pending, and the
-- negated positions of those missing: most closes leave no order, and filtering here spares the client parsing
-- every signal. Signals are written by ``json.dumps`` (``_evaluate_move``), so a substring finds the flag
-- without decoding each one.
local found = {}
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if not raw then
    found[#found + 1] = -i
  elseif string.find(raw, '"pending": true', 1, true) then
    found[#found + 1] = i
  end
end
return found
