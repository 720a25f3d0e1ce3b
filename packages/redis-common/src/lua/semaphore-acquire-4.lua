--[[
  semaphore-acquire: take a permit, claim one granted to us while queued, or join the queue.

  KEYS[1]  holders         "<prefix>{<key>}:semaphore": sorted set token -> lease end (server ms)
  KEYS[2]  queue           "<prefix>{<key>}:semaphore:queue": sorted set token -> end of its wait
  KEYS[3]  channel         "<prefix>{<key>}:semaphore:released": "<fence>:<token>" wakes that waiter
  KEYS[4]  meta            "<prefix>{<key>}:semaphore:meta": "<permits>:<last fence>"
  ARGV[1]  token: string           owner token
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[4]  permits: number         at most this many holders (positive integer)
  ARGV[5]  handoffLeaseMs: number  pickup lease of a waiter granted a permit by someone else's call
  ARGV[6]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster

  Reply    SemaphoreReply
           {1, fencingToken}    a permit is ours
           {0, remainingMs}     none free for us: ms until the first holder's lease ends
           {2, storedPermits}   the semaphore is in use with other permits: nothing changed

  Fair: a free permit goes to the waiters queued ahead first (earliest deadline first, which is
  first come, first served when they wait equally long), so nobody barges past the queue.
]]
local holdersKey, queueKey, channel, metaKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, leaseMs, queueWaitMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local permits, handoffLeaseMs, publishCommand = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

-- @include lib/lock-value.lua
-- @include lib/shared-holders.lua
-- @include lib/semaphore-state.lua

local keys = { holders = holdersKey, queue = queueKey, channel = channel, meta = metaKey }
local options = { leaseMs = leaseMs, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand }
local nowMs, nowUs = serverTime()
local held = liveHolders(holdersKey, nowMs)
local storedPermits, fence = readMeta(metaKey)
if storedPermits and storedPermits ~= permits then
  local others = held - (redis.call('ZSCORE', holdersKey, token) and 1 or 0)
  redis.call('ZREM', queueKey, token)
  if others > 0 or peekQueue(queueKey, nowMs) then return {2, storedPermits} end
end

if redis.call('ZSCORE', holdersKey, token) then
  -- Granted while queued (or an earlier attempt of ours won but its reply was lost): claim.
  redis.call('ZADD', holdersKey, nowMs + leaseMs, token)
  fence = nextFence(fence, nowUs)
  storeAndExpire(keys, permits, fence, nowMs)
  return {1, fence}
end

local selfFence
held, fence, selfFence = grantPermits(keys, token, held, permits, fence, nowMs, nowUs, options)
if not selfFence and held < permits then
  -- The queue is empty and a permit is free.
  fence = nextFence(fence, nowUs)
  redis.call('ZADD', holdersKey, nowMs + leaseMs, token)
  selfFence = fence
end
if not selfFence and queueWaitMs > 0 then queueUntil(queueKey, token, nowMs, queueWaitMs) end
storeAndExpire(keys, permits, fence, nowMs)
if selfFence then return {1, selfFence} end
local first = redis.call('ZRANGE', holdersKey, 0, 0, 'WITHSCORES')
return {0, math.max(1, math.ceil(tonumber(first[2]) - nowMs))}
