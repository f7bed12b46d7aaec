-- Idempotency-Key store. KEYS[1] = the key's record. One script per step so that the
-- check and the write cannot interleave with another request carrying the same key: of N
-- concurrent `begin`s exactly one sees an empty key and takes it (docs/api.md, Idempotency).
-- ARGV[1] = op: begin | complete | abandon
local op = ARGV[1]
local current = redis.call('GET', KEYS[1])

if op == 'begin' then
  -- ARGV[2] = in-flight record (JSON), ARGV[3] = lock TTL ms
  if current then return current end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return false
end

if op == 'complete' then
  -- ARGV[2] = owner, ARGV[3] = completed record (JSON), ARGV[4] = TTL ms
  if current and cjson.decode(current).owner ~= ARGV[2] then return 0 end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end

if op == 'abandon' then
  -- ARGV[2] = owner
  if current and cjson.decode(current).owner == ARGV[2] then redis.call('DEL', KEYS[1]) end
  return 1
end

return redis.error_reply('unknown op ' .. tostring(op))
