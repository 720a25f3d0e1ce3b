--[[
  acquire: take the lock, claim it if it was handed to us, or join its queue.

  KEYS[1]  lock            "<prefix>{<key>}": "<fence>:<flag>:<owner token>", expires after the lease
  KEYS[2]  queue           "<prefix>{<key>}:queue": sorted set of waiting tokens, scored by the
                           server-time ms at which each one stops waiting
  KEYS[3]  channel         "<prefix>{<key>}:released": handoff messages "<fence>:<new owner's token>";
                           declared as a key so Redis Cluster checks its hash slot
  ARGV[1]  token: string           owner token (random UUID of the caller)
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[4]  handoffLeaseMs: number  pickup lease in ms given to a waiter the lock is handed to
  ARGV[5]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster

  Reply    AcquireReply
           {1, fencingToken}   the lock is ours (taken free, or claimed after a handoff to us)
           {0, remainingMs}    not ours: remainingMs is the holder's remaining lease (PTTL; -1 if it
                               has no expiry), or the pickup lease when we just handed it to the
                               waiter ahead of us

  Waiters are served earliest deadline first, which is first come, first served when they wait
  equally long. A free lock goes to the caller only if nobody is queued ahead of it, so neither a
  spin caller nor a process that just released can barge past queued waiters.
  Commands: free lock 3 (TIME, SET, EXISTS); claim 2 (GET, PEXPIRE); queueing 5 (GET, TIME, ZADD,
  PEXPIRE, PTTL; + SET once per holder to flag the queue).
]]
local lockKey, queueKey, channel = KEYS[1], KEYS[2], KEYS[3]
local token, leaseMs = ARGV[1], ARGV[2]
local queueWaitMs, handoffLeaseMs, publishCommand = tonumber(ARGV[3]), ARGV[4], ARGV[5]

-- @include lib/lock-value.lua
-- @include lib/queue-handoff.lua

-- Queue `token` until nowMs + queueWaitMs; the queue key lives as long as its longest wait (+ 1 s).
local function joinQueue(nowMs)
  local deadline = nowMs + queueWaitMs
  if redis.call('ZADD', queueKey, 'NX', deadline, token) == 0 then return end -- re-check: already in
  local ttl = math.ceil(queueWaitMs) + 1000
  if redis.REDIS_VERSION_NUM then
    -- Redis 7+: only ever lengthen it (GT); NX covers a queue key this ZADD just created.
    if redis.call('PEXPIRE', queueKey, ttl, 'GT') == 0 then redis.call('PEXPIRE', queueKey, ttl, 'NX') end
  else
    local last = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
    redis.call('PEXPIRE', queueKey, math.ceil(tonumber(last[2]) - nowMs) + 1000)
  end
end

-- Uncontended fast path: the key is absent, so a fresh fence from the clock and SET NX GET (7.0+)
-- take it in one write; only a queue left behind by a holder whose lease ran out makes us undo.
local value
local nowMs, nowUs
if redis.REDIS_VERSION_NUM then
  nowMs, nowUs = serverTime()
  value = redis.call('SET', lockKey, lockValue(nowUs, '-', token), 'NX', 'PX', leaseMs, 'GET')
  if not value then
    if redis.call('EXISTS', queueKey) == 0 then return {1, nowUs} end
    redis.call('DEL', lockKey) -- waiters are queued: serve them first (below)
  end
else
  value = redis.call('GET', lockKey)
end

local fence, flag, owner = parseLock(value)
if owner == token then
  -- Handed to us (or an earlier attempt of ours won but its reply was lost): claim it.
  redis.call('PEXPIRE', lockKey, leaseMs)
  return {1, fence}
end

if owner and owner ~= '' then
  if queueWaitMs > 0 then
    if not nowMs then nowMs, nowUs = serverTime() end
    joinQueue(nowMs)
    if flag ~= 'q' then redis.call('SET', lockKey, lockValue(fence, 'q', owner), 'KEEPTTL') end
  end
  return {0, redis.call('PTTL', lockKey)}
end

-- Free (absent, or a tombstone keeping the last fence): serve the head of the queue first.
if not nowMs then nowMs, nowUs = serverTime() end
local newFence = nextFence(fence, nowUs)
local head = popQueueHead(queueKey, nowMs)
if head and head ~= token then
  handOff({ lock = lockKey, channel = channel }, head, {
    fence = newFence, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand,
  })
  if queueWaitMs > 0 then joinQueue(nowMs) end
  return {0, tonumber(handoffLeaseMs)}
end
local waiting = head and redis.call('EXISTS', queueKey) == 1
redis.call('SET', lockKey, lockValue(newFence, waiting and 'q' or '-', token), 'PX', leaseMs)
return {1, newFence}
