-- Seat holds of one showtime (gate 1 of invariant 1, docs/architecture.md §1). Every key shares the hash
-- tag {hold_<scheduleId>}, so each call is one atomic step, legal on a Redis Cluster.
--
-- KEYS[1] seats   HASH  seatId -> "<userId>|<expiresAtMs>"
-- KEYS[2] exp     ZSET  seatId -> expiresAtMs (the sweep's index)
-- KEYS[3] sold    SET   seats PostgreSQL has as sold
-- KEYS[4] loaded  STRING present once `sold` (and the pending orders' holds) were loaded from
--                 PostgreSQL; absent after a flush or failover, so the caller reloads first
-- KEYS[5] users   HASH  userId -> the buyer's held seats, comma-separated (the per-buyer limit)
-- KEYS[6] ver     STRING the showtime's availability version: every step that changes a seat's
--                 status (AVAILABLE, HELD, SOLD) adds one, in the same atomic step
-- KEYS[7] log     LIST  the last LOG_VERSIONS versions' changes, oldest first, one entry per version:
--                 "<version> <S><seatId> <S><seatId> ...", S = A (available), H (held), S (sold)
--
-- A seat's status is what these keys say: SOLD if in `sold`, else HELD if in `seats` (lapsed or
-- not — a lapsed hold reads AVAILABLE only once a sweep removed it, and the sweep logs it), else
-- AVAILABLE. So the state at version v is exactly the log replayed up to v, on every process.
--
-- ARGV[1] = op, ARGV[2] = now (ms, the caller's injected clock), then op-specific arguments.

local seats, exp, sold, loaded, users, ver, log = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local op, now = ARGV[1], tonumber(ARGV[2])
local SWEEP = 100
-- The availability read sweeps more at once: it is the one step that runs every interval
-- whatever the buyers do, so lapsed holds turn AVAILABLE within one interval.
local SWEEP_ON_READ = 2000
local LOG_VERSIONS = 1000

-- Status changes of this step; `publish` turns them into one new version.
local changed = {}
local function note(status, seat) changed[#changed + 1] = status .. seat end

-- Versions start at now * 1000 when the showtime's state is (re)created — after a flush or a
-- failover lost it, the new versions still run ahead of every one issued before (unless a
-- showtime changed more than 1,000 times a millisecond on average), so a client's stale
-- version is never mistaken for a recent one. Integers below 2^53: exact in Lua and in JSON.
local function epoch()
  local v = now * 1000
  redis.call('SET', ver, string.format('%.0f', v))
  redis.call('DEL', log)
  return v
end

local function publish()
  if #changed == 0 then return end
  if redis.call('EXISTS', ver) == 0 then
    -- No version yet: this step's changes are part of the new epoch's starting state.
    epoch()
  else
    local v = redis.call('INCR', ver)
    redis.call('RPUSH', log, string.format('%.0f', v) .. ' ' .. table.concat(changed, ' '))
    redis.call('LTRIM', log, -LOG_VERSIONS, -1)
  end
  changed = {}
end

local function parse(v)
  local user, e = string.match(v, '^(.*)|(%d+)$')
  return user, tonumber(e)
end

-- Removes up to SWEEP lapsed holds: correctness never depends on it (every read checks the
-- expiry), it only keeps the hash from growing with holds nobody released.
local function sweep(limit)
  local lapsed = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, limit or SWEEP)
  for _, seat in ipairs(lapsed) do
    local v = redis.call('HGET', seats, seat)
    if v then
      local _, e = parse(v)
      if e <= now then
        redis.call('HDEL', seats, seat)
        -- A sold seat stays SOLD whatever hold lapses on it (no step leaves a hold on a sold
        -- seat; this keeps the log true even so).
        if redis.call('SISMEMBER', sold, seat) == 0 then note('A', seat) end
      end
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
  if #taken > 0 then
    publish()
    return {0, taken}
  end
  local live, count = liveMine(user)
  local fresh = 0
  for i = 6, #ARGV do if not live[ARGV[i]] then fresh = fresh + 1 end end
  if count + fresh > max then
    publish()
    return {-2, count}
  end
  local expiry = now + ttl
  local latest = 0
  for i = 6, #ARGV do
    local seat = ARGV[i]
    -- Holding a seat one already holds never shortens it (it may carry an order's window).
    local e = math.max(live[seat] or 0, expiry)
    if redis.call('HSET', seats, seat, user .. '|' .. e) == 1 then note('H', seat) end
    redis.call('ZADD', exp, e, seat)
    live[seat] = e
    if e > latest then latest = e end
  end
  saveMine(user, live)
  publish()
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
      if redis.call('SISMEMBER', sold, seat) == 0 then note('A', seat) end
      released = released + 1
    end
    live[seat] = nil
  end
  saveMine(user, live)
  publish()
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
  -- A first load starts a new epoch (its seats are the starting state); a reload of a live
  -- state logs what it changed.
  local fresh = redis.call('EXISTS', ver) == 0
  local nSold = tonumber(ARGV[3])
  if fresh then
    for i = 4, 3 + nSold, 5000 do
      redis.call('SADD', sold, unpack(ARGV, i, math.min(i + 4999, 3 + nSold)))
    end
  else
    -- As the `sold` step: a seat PostgreSQL has sold (its own step lost) ends any hold on it.
    for i = 4, 3 + nSold do
      if redis.call('SADD', sold, ARGV[i]) == 1 then note('S', ARGV[i]) end
      redis.call('HDEL', seats, ARGV[i])
      redis.call('ZREM', exp, ARGV[i])
    end
  end
  -- The pending orders were read from PostgreSQL before this step: an order paid since then has
  -- its seats in `sold` already (its `sold` step ran first, even on a flushed state), and its
  -- stale hold must not come back on them.
  for i = 4 + nSold, #ARGV, 3 do
    local seat, user, e = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    if e > now and not redis.call('HGET', seats, seat) and redis.call('SISMEMBER', sold, seat) == 0 then
      redis.call('HSET', seats, seat, user .. '|' .. e)
      redis.call('ZADD', exp, e, seat)
      local live = liveMine(user)
      live[seat] = e
      saveMine(user, live)
      if not fresh then note('H', seat) end
    end
  end
  redis.call('SET', loaded, '1')
  if fresh then epoch() else publish() end
  return 1
end

if op == 'sold' then
  -- ARGV[3..] = seats now sold in PostgreSQL: never holdable again; their holds end.
  for i = 3, #ARGV do
    if redis.call('SADD', sold, ARGV[i]) == 1 then note('S', ARGV[i]) end
    redis.call('HDEL', seats, ARGV[i])
    redis.call('ZREM', exp, ARGV[i])
  end
  publish()
  return 1
end

if op == 'unsold' then
  -- ARGV[3..] = seats returned to sale (a refund).
  for i = 3, #ARGV do
    if redis.call('SREM', sold, ARGV[i]) == 1 then
      if redis.call('HEXISTS', seats, ARGV[i]) == 1 then note('H', ARGV[i]) else note('A', ARGV[i]) end
    end
  end
  publish()
  return 1
end

if op == 'expire' then
  local n = sweep()
  publish()
  return n
end

if op == 'availability' then
  -- ARGV[3] = the caller's version ('' = none). Sweeps lapsed holds first (logged like any
  -- change), then answers {1, version, entries after the caller's version} when the log still
  -- has every one of them, or {2, version, sold seats, held seats} — the whole state at
  -- `version` — when it does not. {-1}: no state (new showtime, or lost): load it, then retry.
  if redis.call('EXISTS', loaded) == 0 then return {-1} end
  sweep(SWEEP_ON_READ)
  publish()
  local current = tonumber(redis.call('GET', ver) or '')
  if not current then current = epoch() end
  local vs = string.format('%.0f', current)
  local since = tonumber(ARGV[3])
  if since and since <= current then
    local behind = current - since
    if behind == 0 then return {1, vs, {}} end
    if behind <= redis.call('LLEN', log) then return {1, vs, redis.call('LRANGE', log, -behind, -1)} end
  end
  return {2, vs, redis.call('SMEMBERS', sold), redis.call('HKEYS', seats)}
end

return redis.error_reply('unknown op ' .. tostring(op))
