-- Seat holds of one showtime (gate 1 of invariant 1, docs/architecture.md §1). Every key shares the hash
-- tag {hold_<scheduleId>}, so each call is one atomic step, legal on a Redis Cluster.
--
-- KEYS[1] seats   HASH  seatId -> "<userId>|<expiresAtMs>"
-- KEYS[2] exp     ZSET  seatId -> expiresAtMs (the sweep's index)
-- KEYS[3] sold    SET   seats PostgreSQL has as sold
-- KEYS[4] loaded  STRING present once `sold` (and the pending orders' holds) were loaded from
--                 PostgreSQL; absent after a flush or failover, so the caller reloads first
-- KEYS[5] users   HASH  userId -> the buyer's held seats, comma-separated (the per-buyer limit)
--
-- ARGV[1] = op, ARGV[2] = now (ms, the caller's injected clock), then op-specific arguments.

local seats, exp, sold, loaded, users = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, now = ARGV[1], tonumber(ARGV[2])
local SWEEP = 100

local function parse(v)
  local user, e = string.match(v, '^(.*)|(%d+)$')
  return user, tonumber(e)
end

-- Removes up to SWEEP lapsed holds: correctness never depends on it (every read checks the
-- expiry), it only keeps the hash from growing with holds nobody released.
local function sweep()
  local lapsed = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, SWEEP)
  for _, seat in ipairs(lapsed) do
    local v = redis.call('HGET', seats, seat)
    if v then
      local _, e = parse(v)
      if e <= now then redis.call('HDEL', seats, seat) end
    end
    redis.call('ZREM', exp, seat)
  end
  return #lapsed
end

local function split(csv)
  local out = {}
  if csv then for seat in string.gmatch(csv, '[^,]+') do out[#out + 1] = seat end end
  return out
end

-- The buyer's live holds as seat -> expiry, and how many (lapsed or taken-over ones are left out).
local function liveMine(user)
  local live, count = {}, 0
  for _, seat in ipairs(split(redis.call('HGET', users, user))) do
    local v = redis.call('HGET', seats, seat)
    if v then
      local holder, e = parse(v)
      if holder == user and e > now and not live[seat] then
        live[seat] = e
        count = count + 1
      end
    end
  end
  return live, count
end

local function saveMine(user, live)
  local list = {}
  for seat in pairs(live) do list[#list + 1] = seat end
  if #list == 0 then redis.call('HDEL', users, user) else redis.call('HSET', users, user, table.concat(list, ',')) end
end

if op == 'hold' then
  -- ARGV[3] = user, ARGV[4] = ttl ms, ARGV[5] = max seats per buyer, ARGV[6..] = seats.
  -- All or nothing: every seat is checked before any is written.
  if redis.call('EXISTS', loaded) == 0 then return {-1} end
  sweep()
  local user, ttl, max = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
  local taken = {}
  for i = 6, #ARGV do
    local seat = ARGV[i]
    if redis.call('SISMEMBER', sold, seat) == 1 then
      taken[#taken + 1] = seat
    else
      local v = redis.call('HGET', seats, seat)
      if v then
        local holder, e = parse(v)
        if holder ~= user and e > now then taken[#taken + 1] = seat end
      end
    end
  end
  if #taken > 0 then return {0, taken} end
  local live, count = liveMine(user)
  local fresh = 0
  for i = 6, #ARGV do if not live[ARGV[i]] then fresh = fresh + 1 end end
  if count + fresh > max then return {-2, count} end
  local expiry = now + ttl
  local latest = 0
  for i = 6, #ARGV do
    local seat = ARGV[i]
    -- Holding a seat one already holds never shortens it (it may carry an order's window).
    local e = math.max(live[seat] or 0, expiry)
    redis.call('HSET', seats, seat, user .. '|' .. e)
    redis.call('ZADD', exp, e, seat)
    live[seat] = e
    if e > latest then latest = e end
  end
  saveMine(user, live)
  return {1, latest}
end

if op == 'extend' then
  -- ARGV[3] = user, ARGV[4] = until ms, ARGV[5..] = seats. All or nothing: every seat must be
  -- held by this buyer now (the order's payment window).
  local user, untilMs = ARGV[3], tonumber(ARGV[4])
  local missing = {}
  for i = 5, #ARGV do
    local v = redis.call('HGET', seats, ARGV[i])
    local holder, e = nil, 0
    if v then holder, e = parse(v) end
    if holder ~= user or e <= now then missing[#missing + 1] = ARGV[i] end
  end
  if #missing > 0 then return {0, missing} end
  for i = 5, #ARGV do
    redis.call('HSET', seats, ARGV[i], user .. '|' .. untilMs)
    redis.call('ZADD', exp, untilMs, ARGV[i])
  end
  return {1, untilMs}
end

if op == 'release' then
  -- ARGV[3] = user, ARGV[4..] = seats (none = all of the buyer's). Only the holder's own holds go.
  local user = ARGV[3]
  local live = liveMine(user)
  local list = {}
  if #ARGV >= 4 then
    for i = 4, #ARGV do list[#list + 1] = ARGV[i] end
  else
    for seat in pairs(live) do list[#list + 1] = seat end
  end
  local released = 0
  for _, seat in ipairs(list) do
    local v = redis.call('HGET', seats, seat)
    if v and parse(v) == user then
      redis.call('HDEL', seats, seat)
      redis.call('ZREM', exp, seat)
      released = released + 1
    end
    live[seat] = nil
  end
  saveMine(user, live)
  return released
end

if op == 'mine' then
  -- ARGV[3] = user: {seat, expiry, seat, expiry, ...} of the buyer's live holds.
  local out = {}
  local live = liveMine(ARGV[3])
  for seat, e in pairs(live) do
    out[#out + 1] = seat
    out[#out + 1] = e
  end
  return out
end

if op == 'held' then
  -- Every live hold of the showtime: {seat, user, seat, user, ...} (the seat map's one read).
  local all = redis.call('HGETALL', seats)
  local out = {}
  for i = 1, #all, 2 do
    local holder, e = parse(all[i + 1])
    if e > now then
      out[#out + 1] = all[i]
      out[#out + 1] = holder
    end
  end
  return out
end

if op == 'load' then
  -- Rebuilds what PostgreSQL knows after the hot state was lost. ARGV[3] = number of sold
  -- seats, then the sold seats, then {seat, user, expiresAtMs} triples of pending orders.
  local nSold = tonumber(ARGV[3])
  for i = 4, 3 + nSold, 5000 do
    redis.call('SADD', sold, unpack(ARGV, i, math.min(i + 4999, 3 + nSold)))
  end
  for i = 4 + nSold, #ARGV, 3 do
    local seat, user, e = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    if e > now and not redis.call('HGET', seats, seat) then
      redis.call('HSET', seats, seat, user .. '|' .. e)
      redis.call('ZADD', exp, e, seat)
      local live = liveMine(user)
      live[seat] = e
      saveMine(user, live)
    end
  end
  redis.call('SET', loaded, '1')
  return 1
end

if op == 'sold' then
  -- ARGV[3..] = seats now sold in PostgreSQL: never holdable again; their holds end.
  for i = 3, #ARGV do
    redis.call('SADD', sold, ARGV[i])
    redis.call('HDEL', seats, ARGV[i])
    redis.call('ZREM', exp, ARGV[i])
  end
  return 1
end

if op == 'unsold' then
  -- ARGV[3..] = seats returned to sale (a refund).
  for i = 3, #ARGV do redis.call('SREM', sold, ARGV[i]) end
  return 1
end

if op == 'expire' then
  return sweep()
end

return redis.error_reply('unknown op ' .. tostring(op))
