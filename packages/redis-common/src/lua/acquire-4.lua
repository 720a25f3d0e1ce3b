--[[
  acquire: take the lock, claim it if it was handed to us, or join its queue.

  KEYS[1]  lock            "<prefix>{<key>}": owner token, expires after the lease
  KEYS[2]  fence           "<prefix>{<key>}:fence": last fencing token handed out for this key
  KEYS[3]  queue           "<prefix>{<key>}:queue": sorted set of waiting tokens, scored by the
                           server-time ms at which each one stops waiting
  KEYS[4]  channel         "<prefix>{<key>}:released": handoff messages (the new owner's token);
                           declared as a key so Redis Cluster checks its hash slot
  ARGV[1]  token: string           owner token (random UUID of the caller)
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  fenceRetentionMs: number  how long the fence key outlives the last acquisition
  ARGV[4]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[5]  handoffLeaseMs: number  pickup lease in ms given to a waiter the lock is handed to
  ARGV[6]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster

  Reply    AcquireReply
           {1, fencingToken}   the lock is ours (taken free, or claimed after a handoff to us)
           {0, remainingMs}    not ours: remainingMs is the holder's remaining lease (PTTL; -1 if it
                               has no expiry), or the pickup lease when we just handed it to the
                               waiter ahead of us

  Waiters are served earliest deadline first, which is first come, first served when they wait
  equally long. A free lock goes to the caller only if nobody is queued ahead of it, so neither a
  spin caller nor a process that just released can barge past queued waiters.
]]
local lockKey, fenceKey, queueKey, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, leaseMs, fenceRetentionMs = ARGV[1], ARGV[2], ARGV[3]
local queueWaitMs, handoffLeaseMs, publishCommand = tonumber(ARGV[4]), ARGV[5], ARGV[6]

-- @include lib/queue-handoff.lua

local function joinQueue(nowMs)
  if queueWaitMs <= 0 then return end
  redis.call('ZADD', queueKey, 'NX', nowMs + queueWaitMs, token)
  local last = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', queueKey, math.ceil(tonumber(last[2]) - nowMs) + 1000)
end

local holder = redis.call('GET', lockKey)
if holder == token then
  -- Handed to us (or an earlier attempt of ours won but its reply was lost): claim it.
  redis.call('PEXPIRE', lockKey, leaseMs)
  local fence = tonumber(redis.call('GET', fenceKey) or '')
  if not fence then
    local _, nowUs = serverTime()
    fence = nextFence(fenceKey, fenceRetentionMs, nowUs)
  end
  return {1, fence}
end

local nowMs, nowUs = serverTime()
if holder then
  joinQueue(nowMs)
  return {0, redis.call('PTTL', lockKey)}
end

local head = queueHead(queueKey, nowMs)
if head and head ~= token then
  handOff({ lock = lockKey, fence = fenceKey, queue = queueKey, channel = channel }, head, {
    nowUs = nowUs, handoffLeaseMs = handoffLeaseMs, fenceRetentionMs = fenceRetentionMs,
    publishCommand = publishCommand,
  })
  joinQueue(nowMs)
  return {0, tonumber(handoffLeaseMs)}
end
if head then redis.call('ZREM', queueKey, token) end
redis.call('SET', lockKey, token, 'PX', leaseMs)
return {1, nextFence(fenceKey, fenceRetentionMs, nowUs)}
