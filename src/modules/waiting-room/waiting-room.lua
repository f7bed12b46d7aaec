-- The waiting room of one showtime. Every key of the room shares the hash tag {wr_<scheduleId>},
-- so each call below is one atomic step on a Redis Cluster too.
--
-- KEYS[1] pre     ZSET  buyers who entered before the sale opened (score = arrival order)
-- KEYS[2] q       ZSET  waiting buyers (score = slot: shuffled pre-queue 0..P-1, then arrivals)
-- KEYS[3] hb      ZSET  last poll of each waiting or pre-queued buyer (ms)
-- KEYS[4] active  ZSET  admitted buyers (score = admission expiry, ms)
-- KEYS[5] meta    HASH  opened (0/1), seq (next arrival slot), preseq, fence (highest leader fence),
--                       logsum (buyers admitted by the batches in log)
-- KEYS[6] log     ZSET  admission batches for the measured rate ("<ms>:<count>:<fence>", score ms)
-- KEYS[7] audit   LIST  every admitted buyer in admission order (capped)
--
-- ARGV[1] = op, ARGV[2] = now (ms, from the caller's injected clock), ARGV[3] = saleOpensAt (ms)
-- ARGV[4] = shuffle seed (used once, at opening), then op-specific arguments.

local pre, q, hb, active, meta, log, audit = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local op, now, opensAt, seed = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local RATE_WINDOW = 60000

-- Park–Miller minimal standard generator: products stay below 2^53, so Lua's doubles are exact.
-- The memory adapter runs the same generator (shuffle.ts), so one seed gives one permutation.
local function shuffle(list, s)
  local state = s % 2147483647
  if state <= 0 then state = state + 2147483646 end
  for i = #list, 2, -1 do
    state = (state * 48271) % 2147483647
    local j = (state % i) + 1
    list[i], list[j] = list[j], list[i]
  end
  return list
end

-- Fairness (issue: pre-queue): at the first call after the opening instant, everyone who came
-- early is shuffled once, uniformly, into slots 0..P-1, ahead of every later arrival. Done inside
-- the same script as the call that notices it, so no arrival can slip in between.
local function openIfDue()
  if now < opensAt or redis.call('HGET', meta, 'opened') == '1' then return end
  local early = shuffle(redis.call('ZRANGE', pre, 0, -1), seed)
  -- 2,000 members = 4,000 values per ZADD: Lua's unpack refuses more than 8,000 values (a
  -- pre-queue of 4,000 or more made every call after the opening fail, so the room never opened).
  for i = 1, #early, 2000 do
    local args = {}
    for k = i, math.min(i + 1999, #early) do
      args[#args + 1] = k - 1
      args[#args + 1] = early[k]
    end
    redis.call('ZADD', q, unpack(args))
  end
  redis.call('DEL', pre)
  redis.call('HSET', meta, 'opened', '1', 'seq', #early)
end

-- The admissions of the last RATE_WINDOW: their count and the oldest batch's time. The count is
-- kept in meta (logsum) as batches come and go, so a poll reads two numbers instead of parsing
-- every batch of the window: at four ticks a second that was 240 batches, ~0.4 ms of Redis in
-- every enter and poll of a busy room.
local function batchCount(e)
  return tonumber(string.match(e, '^%d+:(%d+):'))
end

local function rate()
  local sum = redis.call('HGET', meta, 'logsum')
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', now - RATE_WINDOW)
  if #old > 0 then
    if sum then
      local gone = 0
      for _, e in ipairs(old) do gone = gone + batchCount(e) end
      sum = redis.call('HINCRBY', meta, 'logsum', -gone)
    end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - RATE_WINDOW)
  end
  if not sum then
    -- A room whose batches were logged before the count was kept: count them once.
    sum = 0
    for _, e in ipairs(redis.call('ZRANGE', log, 0, -1)) do sum = sum + batchCount(e) end
    redis.call('HSET', meta, 'logsum', sum)
  end
  local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  if #oldest == 0 then return 0, -1 end
  return tonumber(sum), tonumber(oldest[2])
end

-- One buyer's standing: {state, rank or -1, active expiry or -1}. state: 0 absent, 1 pre-queue,
-- 2 waiting, 3 admitted. A poll is also the buyer's heartbeat.
local function standing(user, beat)
  local expiry = redis.call('ZSCORE', active, user)
  if expiry and tonumber(expiry) > now then return {3, -1, tonumber(expiry)} end
  local rank = redis.call('ZRANK', q, user)
  if rank then
    if beat then redis.call('ZADD', hb, now, user) end
    return {2, rank, -1}
  end
  if redis.call('ZSCORE', pre, user) then
    if beat then redis.call('ZADD', hb, now, user) end
    return {1, -1, -1}
  end
  return {0, -1, -1}
end

if op == 'enter' then
  -- ARGV[5] = user. Idempotent: a buyer already inside keeps their place.
  openIfDue()
  local user = ARGV[5]
  local s = standing(user, true)
  if s[1] == 0 then
    if redis.call('HGET', meta, 'opened') == '1' then
      local slot = redis.call('HINCRBY', meta, 'seq', 1) - 1
      redis.call('ZADD', q, slot, user)
    else
      redis.call('ZADD', pre, redis.call('HINCRBY', meta, 'preseq', 1), user)
    end
    redis.call('ZADD', hb, now, user)
    s = standing(user, false)
  end
  local admitted, oldest = rate()
  return {s[1], s[2], s[3], admitted, oldest}
end

if op == 'status' then
  -- ARGV[5..] = users (one for a poll, many for a stream loop); answers 5 numbers per user.
  openIfDue()
  local admitted, oldest = rate()
  local out = {}
  for i = 5, #ARGV do
    local s = standing(ARGV[i], true)
    out[#out + 1] = s[1]; out[#out + 1] = s[2]; out[#out + 1] = s[3]
    out[#out + 1] = admitted; out[#out + 1] = oldest
  end
  return out
end

if op == 'active' then
  -- ARGV[5] = user: the admission expiry if admitted now, else -1 (the admission guard).
  local expiry = redis.call('ZSCORE', active, ARGV[5])
  if expiry and tonumber(expiry) > now then return tonumber(expiry) end
  return -1
end

if op == 'leave' then
  local user = ARGV[5]
  redis.call('ZREM', pre, user)
  redis.call('ZREM', q, user)
  redis.call('ZREM', hb, user)
  redis.call('ZREM', active, user)
  return 1
end

if op == 'tick' then
  -- ARGV[5] = fence, ARGV[6] = maxActive, ARGV[7] = admitPerTick, ARGV[8] = admission TTL ms,
  -- ARGV[9] = abandon after ms, ARGV[10] = most buyers dropped per tick, ARGV[11] = audit cap.
  local fence = tonumber(ARGV[5])
  -- Fencing: a leader that paused and lost its lease must not admit after its successor did.
  if fence < tonumber(redis.call('HGET', meta, 'fence') or '0') then return {-1} end
  redis.call('HSET', meta, 'fence', fence)
  openIfDue()
  local maxActive, perTick, ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  local abandonAfter, maxDrops, auditCap = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])

  local expired = redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
  local stale = redis.call('ZRANGEBYSCORE', hb, '-inf', now - abandonAfter, 'LIMIT', 0, maxDrops)
  for _, user in ipairs(stale) do
    redis.call('ZREM', q, user)
    redis.call('ZREM', pre, user)
    redis.call('ZREM', hb, user)
  end

  local admitted = {}
  if redis.call('HGET', meta, 'opened') == '1' then
    local free = maxActive - redis.call('ZCARD', active)
    local n = math.min(free, perTick)
    if n > 0 then
      local popped = redis.call('ZPOPMIN', q, n)
      for i = 1, #popped, 2 do
        local user = popped[i]
        admitted[#admitted + 1] = user
        redis.call('ZADD', active, now + ttl, user)
        redis.call('ZREM', hb, user)
      end
      if #admitted > 0 then
        local added = redis.call('ZADD', log, now, now .. ':' .. #admitted .. ':' .. fence)
        -- No count yet: the next rate() counts every batch, this one included.
        if added == 1 and redis.call('HEXISTS', meta, 'logsum') == 1 then redis.call('HINCRBY', meta, 'logsum', #admitted) end
        for i = 1, #admitted, 5000 do
          redis.call('RPUSH', audit, unpack(admitted, i, math.min(i + 4999, #admitted)))
        end
        redis.call('LTRIM', audit, -auditCap, -1)
      end
    end
  end
  local waiting = redis.call('ZCARD', q) + redis.call('ZCARD', pre)
  return {#admitted, expired, #stale, waiting, redis.call('ZCARD', active), admitted}
end

if op == 'counts' then
  return {redis.call('ZCARD', q) + redis.call('ZCARD', pre), redis.call('ZCARD', active)}
end

if op == 'audit' then
  return redis.call('LRANGE', audit, 0, -1)
end

return redis.error_reply('unknown op ' .. tostring(op))
