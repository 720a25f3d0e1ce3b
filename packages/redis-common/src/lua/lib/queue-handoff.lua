-- Shared by acquire-4 and release-4: scripts/generate-lua.mjs inlines it where they include it.
-- Every function takes what it needs as parameters; none reads the including script's locals.

-- Server time in ms (with a µs fraction, so waiters queued within one ms keep their arrival
-- order) and in whole µs: every deadline and fence is on Redis' clock, never a client's.
local function serverTime()
  local time = redis.call('TIME')
  local seconds, micros = tonumber(time[1]), tonumber(time[2])
  return seconds * 1000 + micros / 1000, seconds * 1000000 + micros
end

-- The next fencing token: max(last + 1, server time in µs). "+ 1" keeps it strictly increasing
-- while the fence key lives; seeding from the clock keeps it increasing after the key expired or
-- Redis lost its data (as long as the server clock does not step back by more than the retention).
local function nextFence(fenceKey, fenceRetentionMs, nowUs)
  local last = tonumber(redis.call('GET', fenceKey) or '0') or 0
  local fence = math.max(last + 1, nowUs)
  -- %.0f prints the integer exactly (it stays below 2^53); tostring() would round it.
  redis.call('SET', fenceKey, string.format('%.0f', fence), 'PX', fenceRetentionMs)
  return fence
end

-- The queued waiter whose turn it is, after dropping waiters whose wait is over.
local function queueHead(queueKey, nowMs)
  redis.call('ZREMRANGEBYSCORE', queueKey, '-inf', nowMs)
  return redis.call('ZRANGE', queueKey, 0, 0)[1]
end

-- Give the lock straight to the waiter at the head of the queue: it owns the lock from now on for a
-- short pickup lease, and the message naming it wakes exactly that waiter, which claims the lock
-- with its own lease. A waiter that died before picking up costs at most the pickup lease.
-- keys: { lock, fence, queue, channel }; options: { nowUs, handoffLeaseMs, fenceRetentionMs,
-- publishCommand }.
local function handOff(keys, head, options)
  redis.call('ZREM', keys.queue, head)
  redis.call('SET', keys.lock, head, 'PX', options.handoffLeaseMs)
  nextFence(keys.fence, options.fenceRetentionMs, options.nowUs)
  -- SPUBLISH came with Redis 7.0, as did REDIS_VERSION_NUM: an older cluster broadcasts instead, so
  -- a handoff never fails halfway (the writes above stay; a script error would not undo them).
  local publishCommand = options.publishCommand
  if publishCommand == 'SPUBLISH' and not redis.REDIS_VERSION_NUM then publishCommand = 'PUBLISH' end
  redis.call(publishCommand, keys.channel, head)
end
