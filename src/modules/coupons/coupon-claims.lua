-- First-come coupon claims (invariant 2, docs/architecture.md §1). Every key of a campaign shares the hash
-- tag {cpn_<campaignId>}, so each call is one atomic step on a Redis Cluster too.
--
-- KEYS[1] meta    HASH    perUser, opensAt, closesAt (0 = never), quantity, epoch; or, for a
--                         campaign whose hot state was lost, only frozen = 1 and epoch
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
  -- A missing meta is never read as "no claims yet": the caller asks PostgreSQL whether this is a
  -- first load or a loss. A frozen meta is a loss already found: no stock is offered from a
  -- state that may be missing issued coupons, until an operator reconciles (still one call).
  if redis.call('EXISTS', meta) == 0 then return {-1} end
  local now, user = tonumber(ARGV[2]), ARGV[3]
  local m = redis.call('HMGET', meta, 'perUser', 'opensAt', 'closesAt', 'frozen')
  if m[4] then return {5} end
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
  -- Builds the campaign's hot state of epoch ARGV[2] from PostgreSQL's wallet, unless a live
  -- state of that epoch or a newer one is there (another process loaded it first). A frozen
  -- state, or one of an older epoch, is replaced whole: its stock and users came from before
  -- the loss. ARGV[3] = perUser, ARGV[4] = opensAt, ARGV[5] = closesAt, ARGV[6] = quantity,
  -- ARGV[7] = coupons already issued, then {user, count} pairs.
  -- The consumer group exists before the first event, so no event is ever missed; a stream
  -- that survived keeps its entries (they are still consumed).
  local epoch = tonumber(ARGV[2])
  local created = redis.pcall('XGROUP', 'CREATE', events, 'wallet', '0', 'MKSTREAM')
  if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then return redis.error_reply(created.err) end
  local m = redis.call('HMGET', meta, 'epoch', 'frozen', 'perUser')
  if m[3] and not m[2] and (tonumber(m[1]) or 1) >= epoch then return 0 end
  redis.call('DEL', meta, stock, users)
  redis.call('HSET', meta, 'perUser', ARGV[3], 'opensAt', ARGV[4], 'closesAt', ARGV[5], 'quantity', ARGV[6], 'epoch', epoch)
  redis.call('SET', stock, tonumber(ARGV[6]) - tonumber(ARGV[7]))
  for i = 8, #ARGV, 2 do redis.call('HSET', users, ARGV[i], ARGV[i + 1]) end
  return 1
end

if op == 'freeze' then
  -- A loss of epoch ARGV[2] was found: mark it so that every claim is refused in this one script
  -- (no PostgreSQL read per claim) until a reconcile loads a newer epoch. Only where nothing
  -- live is: a newer epoch loaded meanwhile is left alone.
  local epoch = tonumber(ARGV[2])
  local m = redis.call('HMGET', meta, 'epoch', 'frozen', 'perUser')
  if m[3] and not m[2] then return 0 end
  if m[2] and (tonumber(m[1]) or 0) >= epoch then return 0 end
  redis.call('DEL', meta, stock, users)
  redis.call('HSET', meta, 'frozen', 1, 'epoch', epoch)
  return 1
end

if op == 'status' then
  -- {0} nothing here; {1, epoch, stock} live; {2, epoch} frozen.
  local m = redis.call('HMGET', meta, 'epoch', 'frozen', 'perUser')
  if m[2] then return {2, tonumber(m[1]) or 0} end
  if not m[3] then return {0} end
  return {1, tonumber(m[1]) or 1, tonumber(redis.call('GET', stock) or '0')}
end

if op == 'unconsumed' then
  -- Events of the stream the wallet group has not acknowledged: pending (delivered, not
  -- persisted) plus not yet delivered (`lag`; when Redis cannot tell it, any gap between the last
  -- delivered id and the stream's last id counts as one). A reconcile waits for 0.
  if redis.call('EXISTS', events) == 0 then return 0 end
  local function field(flat, name)
    for i = 1, #flat, 2 do if flat[i] == name then return flat[i + 1] end end
    return false
  end
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', events)) do
    if field(g, 'name') == 'wallet' then
      local lag = field(g, 'lag')
      if not lag then
        lag = (field(redis.call('XINFO', 'STREAM', events), 'last-generated-id') == field(g, 'last-delivered-id')) and 0 or 1
      end
      return field(g, 'pending') + lag
    end
  end
  return redis.call('XLEN', events)
end

if op == 'remaining' then
  if redis.call('EXISTS', meta) == 0 then return -1 end
  return tonumber(redis.call('GET', stock) or '0')
end

return redis.error_reply('unknown op ' .. tostring(op))
