-- Job leases (docs/architecture.md §7: periodic jobs elect a leader). KEYS[1] = lease (owner),
-- KEYS[2] = fencing counter; both share one hash tag. Checking the owner and writing happen in
-- one script, so two workers can never both believe they hold the lease.
-- ARGV[1] = op (acquire | release), ARGV[2] = owner, ARGV[3] = TTL ms
local op, owner = ARGV[1], ARGV[2]
local holder = redis.call('GET', KEYS[1])

if op == 'acquire' then
  if holder and holder ~= owner then return false end
  redis.call('SET', KEYS[1], owner, 'PX', ARGV[3])
  if holder == owner then
    return tonumber(redis.call('GET', KEYS[2]) or '0')
  end
  return redis.call('INCR', KEYS[2])
end

if op == 'release' then
  if holder == owner then redis.call('DEL', KEYS[1]) end
  return 1
end

return redis.error_reply('unknown op ' .. tostring(op))
