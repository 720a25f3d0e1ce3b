--[[
  acquire: take the lock, claim it if it was handed to us, or join its queue.

  KEYS[1]  lock            "<prefix>{<key>}": "<fence>:<flag>:<owner token>", + "\n<acquired at ms>\n<JSON
                           record>" when the holder records its owner; expires after the lease
  KEYS[2]  queue           "<prefix>{<key>}:queue": sorted set of waiting tokens ("<token>\n<JSON
                           record>" when the waiter records its owner), scored by the server-time
                           ms at which each one stops waiting
  KEYS[3]  channel         "<prefix>{<key>}:released": handoff messages "<fence>:<new owner's token>";
                           declared as a key so Redis Cluster checks its hash slot
  ARGV[1]  token: string           owner token (random UUID of the caller)
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[4]  handoffLeaseMs: number  pickup lease in ms given to a waiter the lock is handed to
  ARGV[5]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster
  ARGV[6]  ownerRecord: string     JSON of who asks (host, pid, app, label); '' records nothing
  ARGV[7]  queued: number          1 = a waiter's retry: an earlier attempt of this token may have
                                   queued it, so a free lock goes to the head of the queue (which
                                   may be us) and never through the fast path, which would leave
                                   our entry behind; 0 = a first attempt

  Reply    AcquireReply
           {1, fencingToken}   the lock is ours (taken free, or claimed after a handoff to us)
           {0, remainingMs, holderFence}  held by someone else: remainingMs is the holder's
                               remaining lease (PTTL) for a waiter at the head of the queue or
                               retrying, -1 for others (and for callers that do not queue, or a
                               lock without expiry); holderFence is the fence the holder took it
                               with, so a spinner sees the lock change hands at no extra command
                               (none while readers hold it)
           {0, remainingMs}    not ours: the pickup lease when we just handed it to the waiter
                               ahead of us

  Waiters are served earliest deadline first, which is first come, first served when they wait
  equally long. While the lock is held or handed to a waiter, nobody barges past the queue: a
  caller that finds it taken queues (or fails), and a release hands it to the head of the queue.
  One exception: a first attempt's fast path does not look at the queue, so whenever a lease runs
  out with waiters queued (the holder or the waiter it was handed to crashed, a release kept the
  lock to its `holdAtLeastMs` end, or the lease was lost), the first newcomer to find the key
  absent takes the lock. Queued waiters are not stranded: their retries (queued = 1) skip the fast
  path, so a free lock goes to the head of the queue, and a retry that finds the newcomer holding
  it flags it "q" again, so the queue is served from its release.
  Commands (Redis 7+): free lock 2 (TIME, SET NX GET; the owner record is in the value); taken,
  not queueing 2 (TIME, SET NX GET); claim 3 (TIME, SET NX GET, PEXPIRE; a SET with our record
  instead of PEXPIRE when the handoff left none); queueing 4 (TIME, SET NX GET, ZADD, PEXPIRE GT;
  the record rides in the queue entry; the first waiter of a new queue 6: + PEXPIRE NX, PTTL)
  + SET once per holder to flag the queue.
]]
local lockKey, queueKey, channel = KEYS[1], KEYS[2], KEYS[3]
local token, leaseMs = ARGV[1], ARGV[2]
local queueWaitMs, handoffLeaseMs, publishCommand = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ownerRecord = ARGV[6]
local queued = ARGV[7] == '1'

-- Uncontended fast path: the key is absent, so a fresh fence from the clock and SET NX GET (7.0+)
-- take it in one write, owner record included. No look at the queue: while a lock is held or handed
-- over its key exists, so a queue can be there with the key absent only after a lease ran out (the
-- crash case in the header), and checking for it would cost every uncontended acquire a command.
-- It runs before the helpers below are defined, so an uncontended acquire creates none of their
-- closures (about a fifth of the script's cost inside Redis); it builds the value as serverTime(),
-- lockValue() and ownerRecordAt() in lib/ do.
local value, nowMs, nowUs
if redis.REDIS_VERSION_NUM and not queued then
  local time = redis.call('TIME')
  nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
  nowMs = nowUs / 1000
  local taken = string.format('%.0f', nowUs) .. ':-:' .. token
  if ownerRecord ~= '' then taken = taken .. '\n' .. string.format('%.0f', math.floor(nowMs)) .. '\n' .. ownerRecord end
  value = redis.call('SET', lockKey, taken, 'NX', 'PX', leaseMs, 'GET')
  if not value then return {1, nowUs} end
end

-- @include lib/lock-value.lua
-- @include lib/owner-record.lua
-- @include lib/queue-handoff.lua

-- Queue `token` (with its record) until nowMs + queueWaitMs; the queue key lives at least as long
-- as its longest wait + 1 s. True when our entry made a new queue: nobody waits ahead of us.
local function joinQueue(nowMs)
  local deadline = nowMs + queueWaitMs
  -- 0: re-check, already in (the entry of a token is the same in every attempt).
  if redis.call('ZADD', queueKey, 'NX', deadline, queueMember(token, ownerRecord)) == 0 then return false end
  if not redis.REDIS_VERSION_NUM then
    local last = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
    redis.call('PEXPIRE', queueKey, math.ceil(tonumber(last[2]) - nowMs) + 1000)
    return redis.call('ZCARD', queueKey) == 1
  end
  -- Only ever lengthen the expiry (GT), which fails on a key without one: NX then succeeds only
  -- for the queue our ZADD just created. The expiry is the wait + 1 s rounded up to a power of two,
  -- so that waiters who joined later, with a little less left of an equal wait (they waited their
  -- turn in their own process first), still lengthen it in one command instead of two.
  local ttl = 1024
  while ttl < queueWaitMs + 1000 do ttl = ttl * 2 end
  if redis.call('PEXPIRE', queueKey, ttl, 'GT') == 1 then return false end
  return redis.call('PEXPIRE', queueKey, ttl, 'NX') == 1
end

-- A queued waiter's retry (or Redis before 7.0) reads the lock; the fast path above already did.
if not nowUs then value = redis.call('GET', lockKey) end

local fence, flag, owner, heldRecord = parseLock(value)
if owner == token then
  -- Handed to us (or an earlier attempt of ours won but its reply was lost): claim it. A handoff
  -- already wrote the record we queued with, so only the expiry changes; a lock handed over by a
  -- process that records nothing gets ours written with the new lease (one SET instead of PEXPIRE).
  if ownerRecord ~= '' and not heldRecord then
    if not nowMs then nowMs, nowUs = serverTime() end
    redis.call('SET', lockKey, lockValue(fence, flag, token, ownerRecordAt(nowMs, ownerRecord)), 'PX', leaseMs)
  else
    redis.call('PEXPIRE', lockKey, leaseMs)
  end
  return {1, fence}
end

if owner and owner ~= '' then
  -- The holder's fence tells a spinner the lock changed hands; readers (held "*readers*", see
  -- lib/read-phase.lua) draw a fence per reader while the hold goes on, so they report none.
  local holderFence = fence
  if owner == READERS then holderFence = nil end
  if queueWaitMs == 0 then
    -- Flag "s" (once per holder): a caller was turned away, so the holder's release reports that
    -- others want the key (a spinning backend bounds how long one process keeps it).
    if flag == '-' then redis.call('SET', lockKey, lockValue(fence, 's', owner, heldRecord), 'KEEPTTL') end
    return {0, -1, holderFence}
  end
  if not nowMs then nowMs, nowUs = serverTime() end
  local head = joinQueue(nowMs)
  if flag ~= 'q' then redis.call('SET', lockKey, lockValue(fence, 'q', owner, heldRecord), 'KEEPTTL') end
  -- The holder's lease, for when to look again if it dies, matters to the head of the queue only
  -- (everyone behind it is served by releases): a waiter that made the queue, or a retry (rare: it
  -- comes after a nap, and the head may have left meanwhile). Others re-check every maxSleepMs.
  if head or queued then return {0, redis.call('PTTL', lockKey), holderFence} end
  return {0, -1, holderFence}
end

-- Free (absent, or a tombstone keeping the last fence): serve the head of the queue first.
if not nowMs then nowMs, nowUs = serverTime() end
local newFence = nextFence(fence, nowUs)
local head = popQueueHead(queueKey, nowMs)
if head and queuedOwner(head, nowMs) ~= token then
  handOff({ lock = lockKey, channel = channel }, head, {
    fence = newFence, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand, nowMs = nowMs,
  })
  if queueWaitMs > 0 then joinQueue(nowMs) end
  return {0, tonumber(handoffLeaseMs)}
end
local waiting = head and redis.call('EXISTS', queueKey) == 1
local record = ownerRecordAt(nowMs, ownerRecord)
redis.call('SET', lockKey, lockValue(newFence, waiting and 'q' or '-', token, record), 'PX', leaseMs)
return {1, newFence}
