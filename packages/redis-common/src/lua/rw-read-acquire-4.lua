--[[
  rw-read-acquire: take a read lock of a key, claim one admitted to us, or join the key's queue.

  KEYS[1]  lock            "<prefix>{<key>}": the mutex lock key; "<fence>:q:*readers*" while readers hold it
  KEYS[2]  queue           "<prefix>{<key>}:queue": the mutex queue; readers queue as "r:<token>"
  KEYS[3]  channel         "<prefix>{<key>}:released": "<fence>:<member>" wakes the member named
  KEYS[4]  readers         "<prefix>{<key>}:readers": sorted set reader member -> lease end (server ms)
  ARGV[1]  member: string          "r:<owner token>"
  ARGV[2]  leaseMs: number         lease in ms (positive integer)
  ARGV[3]  queueWaitMs: number     0 = never queue (try-once and spin callers); > 0 = queue that long
  ARGV[4]  handoffLeaseMs: number  pickup lease of a waiter admitted by someone else's call
  ARGV[5]  publishCommand: PublishCommand  "PUBLISH", or "SPUBLISH" on a Redis Cluster

  Reply    AcquireReply
           {1, fencingToken}   read lock taken (or claimed after being admitted while queued)
           {0, remainingMs}    not taken: the lock key's remaining lease (when to look again)

  A reader joins the readers only when no writer holds the key and nobody is queued ahead of it,
  so a waiting writer keeps later readers out (no writer starvation). A free key serves its queue
  first: readers queued back to back at the head are admitted together, a writer at the head is
  handed the lock.
]]
local lockKey, queueKey, channel, readersKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, leaseMs = ARGV[1], tonumber(ARGV[2])
local queueWaitMs, handoffLeaseMs, publishCommand = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

-- @include lib/lock-value.lua
-- @include lib/owner-record.lua
-- @include lib/queue-handoff.lua
-- @include lib/shared-holders.lua
-- @include lib/read-phase.lua

local keys = { lock = lockKey, queue = queueKey, channel = channel, readers = readersKey }
local options = { leaseMs = leaseMs, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand }
local nowMs, nowUs = serverTime()
local fence, flag, owner = parseLock(redis.call('GET', lockKey))

if owner == READERS and liveHolders(readersKey, nowMs) == 0 then owner = nil end

if owner == member then
  -- A writer's release handed the key to us (mutex handoff): open a read phase, and let the
  -- readers queued right behind us in.
  liveHolders(readersKey, nowMs)
  local newFence = admitReader(keys, member, nowMs + leaseMs, fence, nowUs)
  serveQueue(keys, '', nowMs, nowUs, newFence, false, options)
  return {1, newFence}
end

if owner == READERS and redis.call('ZSCORE', readersKey, member) then
  -- Admitted while queued (or an earlier attempt of ours won but its reply was lost): claim.
  return {1, admitReader(keys, member, nowMs + leaseMs, fence, nowUs)}
end

if not owner or owner == '' or owner == READERS then
  local selfFence
  fence, selfFence = serveQueue(keys, member, nowMs, nowUs, fence, owner ~= READERS, options)
  if selfFence then return {1, selfFence} end
  local _, _, current = parseLock(redis.call('GET', lockKey))
  if (not current or current == '' or current == READERS) and not peekQueue(queueKey, nowMs) then
    return {1, admitReader(keys, member, nowMs + leaseMs, fence, nowUs)}
  end
end

if queueWaitMs > 0 then
  queueUntil(queueKey, member, nowMs, queueWaitMs)
  local heldFence, heldFlag, holder, heldRecord = parseLock(redis.call('GET', lockKey))
  if holder and holder ~= '' and heldFlag ~= 'q' then
    redis.call('SET', lockKey, lockValue(heldFence, 'q', holder, heldRecord), 'KEEPTTL')
  end
end
local remaining = redis.call('PTTL', lockKey)
if remaining < 0 then remaining = handoffLeaseMs end
return {0, remaining}
