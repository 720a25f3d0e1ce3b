--[[
  acquire: take the lock, claim it if it was handed to us, or join its queue.

  KEYS[1]  lock            "<prefix>{<key>}": "<fence>:<flag>:<owner token>", + "\n<acquired at ms>\n<JSON
                           record>" when the holder records its owner; expires after the lease
  KEYS[2]  queue           "<prefix>{<key>}:queue": sorted set of waiting tokens, scored by the
                           server-time ms at which each one stops waiting
  KEYS[3]  channel         "<prefix>{<key>}:released": handoff messages "<fence>:<new owner's token>";
                           declared as a key so Redis Cluster checks its hash slot
  KEYS[4]  queueOwners     "<prefix>{<key>}:queue:owners": hash queued token -> "\n<JSON record>"
  ARGV[1]  token: string           owner token (random UUID of the caller)
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[4]  handoffLeaseMs: number  pickup lease in ms given to a waiter the lock is handed to
  ARGV[5]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster
  ARGV[6]  ownerRecord: string     JSON of who asks (host, pid, app, label); '' records nothing
                                   (and moves no queued waiter's record on a handoff)
  ARGV[7]  queued: number          1 = a waiter's retry: an earlier attempt of this token may have
                                   queued it, so a free lock goes to the head of the queue (which
                                   may be us) and never through the fast path, which would leave
                                   our entry behind; 0 = a first attempt

  Reply    AcquireReply
           {1, fencingToken}   the lock is ours (taken free, or claimed after a handoff to us)
           {0, remainingMs}    not ours: remainingMs is the holder's remaining lease (PTTL; -1 if it
                               has no expiry), or the pickup lease when we just handed it to the
                               waiter ahead of us

  Waiters are served earliest deadline first, which is first come, first served when they wait
  equally long. While the lock is held or handed to a waiter, nobody barges past the queue: a
  caller that finds it taken queues (or fails), and a release hands it to the head of the queue.
  One exception: a first attempt's fast path does not look at the queue, so whenever a lease runs
  out with waiters queued (the holder or the waiter it was handed to crashed, a release kept the
  lock to its `holdAtLeastMs` end, or the lease was lost), the first newcomer to find the key
  absent takes the lock. Queued waiters are not stranded: their retries (queued = 1) skip the fast
  path, so a free lock goes to the head of the queue, and a retry that finds the newcomer holding
  it flags it "q" again, so the queue is served from its release.
  Commands (Redis 7+): free lock 2 (TIME, SET NX GET; the owner record is in the value); claim 3
  (TIME, SET NX GET, PEXPIRE; a SET with our record instead of PEXPIRE when the handoff left none);
  queueing 7 (TIME, SET NX GET, ZADD, HSET, PEXPIRE queue and hash, PTTL; + SET once per holder to
  flag the queue, + PEXPIRE NX for a new queue). Without a record (ownerRecord ''), two fewer.
]]
local lockKey, queueKey, channel, queueOwnersKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, leaseMs = ARGV[1], ARGV[2]
local queueWaitMs, handoffLeaseMs, publishCommand = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ownerRecord = ARGV[6]
local recording = ownerRecord ~= ''
local queued = ARGV[7] == '1'

-- @include lib/lock-value.lua
-- @include lib/owner-record.lua
-- @include lib/queue-handoff.lua

-- Redis 7+: only ever lengthen the expiry (GT); NX covers a key this script just created.
local function lengthenExpiry(key, ttl)
  if redis.call('PEXPIRE', key, ttl, 'GT') == 0 then redis.call('PEXPIRE', key, ttl, 'NX') end
end

-- Queue `token` until nowMs + queueWaitMs; the queue key (and the hash of the queued waiters'
-- owner records) lives as long as its longest wait (+ 1 s).
local function joinQueue(nowMs)
  local deadline = nowMs + queueWaitMs
  if redis.call('ZADD', queueKey, 'NX', deadline, token) == 0 then return end -- re-check: already in
  if recording then redis.call('HSET', queueOwnersKey, token, queuedRecord(ownerRecord)) end
  if redis.REDIS_VERSION_NUM then
    local ttl = math.ceil(queueWaitMs) + 1000
    -- GT fails on a key without expiry; NX then succeeds only for the queue our ZADD just created.
    -- A new queue means nobody else is queued, so whatever the hash still holds is stale and one
    -- plain PEXPIRE sets its expiry (the first waiter of a holder saves a command).
    local newQueue = false
    if redis.call('PEXPIRE', queueKey, ttl, 'GT') == 0 then
      newQueue = redis.call('PEXPIRE', queueKey, ttl, 'NX') == 1
    end
    if recording then
      if newQueue then redis.call('PEXPIRE', queueOwnersKey, ttl) else lengthenExpiry(queueOwnersKey, ttl) end
    end
  else
    local last = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
    local ttl = math.ceil(tonumber(last[2]) - nowMs) + 1000
    redis.call('PEXPIRE', queueKey, ttl)
    if recording then redis.call('PEXPIRE', queueOwnersKey, ttl) end
  end
end

local handoffKeys = { lock = lockKey, channel = channel, queueOwners = queueOwnersKey }
local queueOwners = recording and queueOwnersKey or nil

-- Uncontended fast path: the key is absent, so a fresh fence from the clock and SET NX GET (7.0+)
-- take it in one write, owner record included. No look at the queue: while a lock is held or handed
-- over its key exists, so a queue can be there with the key absent only after a lease ran out (the
-- crash case in the header), and checking for it would cost every uncontended acquire a command.
local value
local nowMs, nowUs
if redis.REDIS_VERSION_NUM and not queued then
  nowMs, nowUs = serverTime()
  local taken = lockValue(nowUs, '-', token, ownerRecordAt(nowMs, ownerRecord))
  value = redis.call('SET', lockKey, taken, 'NX', 'PX', leaseMs, 'GET')
  if not value then return {1, nowUs} end
else
  value = redis.call('GET', lockKey)
end

local fence, flag, owner, heldRecord = parseLock(value)
if owner == token then
  -- Handed to us (or an earlier attempt of ours won but its reply was lost): claim it. A handoff
  -- already wrote the record we queued with, so only the expiry changes; a lock handed over by a
  -- process that records nothing gets ours written with the new lease (one SET instead of PEXPIRE).
  if recording and not heldRecord then
    if not nowMs then nowMs, nowUs = serverTime() end
    redis.call('SET', lockKey, lockValue(fence, flag, token, ownerRecordAt(nowMs, ownerRecord)), 'PX', leaseMs)
  else
    redis.call('PEXPIRE', lockKey, leaseMs)
  end
  return {1, fence}
end

if owner and owner ~= '' then
  if queueWaitMs > 0 then
    if not nowMs then nowMs, nowUs = serverTime() end
    joinQueue(nowMs)
    if flag ~= 'q' then redis.call('SET', lockKey, lockValue(fence, 'q', owner, heldRecord), 'KEEPTTL') end
  end
  return {0, redis.call('PTTL', lockKey)}
end

-- Free (absent, or a tombstone keeping the last fence): serve the head of the queue first.
if not nowMs then nowMs, nowUs = serverTime() end
local newFence = nextFence(fence, nowUs)
local head = popQueueHead(queueKey, nowMs, queueOwners)
if head and head ~= token then
  handOff(handoffKeys, head, {
    fence = newFence, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand,
    recordOwner = recording, nowMs = nowMs,
  })
  if queueWaitMs > 0 then joinQueue(nowMs) end
  return {0, tonumber(handoffLeaseMs)}
end
if head and recording then redis.call('HDEL', queueOwnersKey, token) end
local waiting = head and redis.call('EXISTS', queueKey) == 1
local record = ownerRecordAt(nowMs, ownerRecord)
redis.call('SET', lockKey, lockValue(newFence, waiting and 'q' or '-', token, record), 'PX', leaseMs)
return {1, newFence}
