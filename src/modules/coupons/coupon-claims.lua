-- First-come coupon claims (invariant 2, DESIGN.md §1). Every key of a campaign shares the hash
-- tag {cpn_<campaignId>}, so each call is one atomic step on a Redis Cluster too.
--
-- KEYS[1] meta    HASH    perUser, opensAt, closesAt (0 = never), quantity
-- KEYS[2] stock   STRING  coupons left
-- KEYS[3] users   HASH    userId -> coupons issued to them
-- KEYS[4] events  STREAM  one entry per issued coupon, read by the wallet consumer group
--
-- ARGV[1] = op, then op-specific arguments.
local meta, stock, users, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]

if op == 'claim' then
  -- ARGV[2] = now ms, ARGV[3] = user, ARGV[4] = event id, ARGV[5] = occurred at (ISO), ARGV[6] = campaign id
  -- The window, the per-user count and the stock are checked, the stock decremented, the user
  -- recorded and the event appended in this one script: "ISSUED" is never said without the event
  -- existing, and never one coupon more than the quantity (no lock, no second round trip).
  if redis.call('EXISTS', meta) == 0 then return {-1} end
  local now, user = tonumber(ARGV[2]), ARGV[3]
  local m = redis.call('HMGET', meta, 'perUser', 'opensAt', 'closesAt')
  local perUser, opensAt, closesAt = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
  if now < opensAt or (closesAt > 0 and now >= closesAt) then return {0} end
  local had = tonumber(redis.call('HGET', users, user) or '0')
  if had >= perUser then return {2} end
  local left = tonumber(redis.call('GET', stock) or '0')
  if left <= 0 then return {3} end
  redis.call('DECR', stock)
  local seq = redis.call('HINCRBY', users, user, 1)
  redis.call('XADD', events, '*', 'eventId', ARGV[4], 'campaignId', ARGV[6], 'userId', user, 'seq', seq, 'occurredAt', ARGV[5], 'v', '1')
  return {1, seq, left - 1}
end

if op == 'load' then
  -- Builds the campaign's hot state from PostgreSQL, unless another process already did.
  -- ARGV[2] = perUser, ARGV[3] = opensAt, ARGV[4] = closesAt, ARGV[5] = quantity,
  -- ARGV[6] = coupons already issued, then {user, count} pairs.
  -- The consumer group exists before the first event, so no event is ever missed.
  local created = redis.pcall('XGROUP', 'CREATE', events, 'wallet', '0', 'MKSTREAM')
  if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then return redis.error_reply(created.err) end
  if redis.call('EXISTS', meta) == 1 then return 0 end
  redis.call('HSET', meta, 'perUser', ARGV[2], 'opensAt', ARGV[3], 'closesAt', ARGV[4], 'quantity', ARGV[5])
  redis.call('SET', stock, tonumber(ARGV[5]) - tonumber(ARGV[6]))
  for i = 7, #ARGV, 2 do redis.call('HSET', users, ARGV[i], ARGV[i + 1]) end
  return 1
end

if op == 'remaining' then
  if redis.call('EXISTS', meta) == 0 then return -1 end
  return tonumber(redis.call('GET', stock) or '0')
end

return redis.error_reply('unknown op ' .. tostring(op))
