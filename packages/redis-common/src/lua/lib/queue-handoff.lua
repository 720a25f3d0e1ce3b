-- Shared by acquire-4, release-4 and the rw-read-* scripts: scripts/generate-lua.mjs inlines it
-- where they include it. Needs lib/lock-value.lua and lib/owner-record.lua included before it.

-- Pop the queued waiter whose turn it is, dropping waiters whose wait is over; nil if none. With
-- queueOwnersKey (the caller records owners), the records of the dropped waiters go with them.
local function popQueueHead(queueKey, nowMs, queueOwnersKey)
  local dropped = {}
  local head = nil
  while true do
    local popped = redis.call('ZPOPMIN', queueKey)
    if not popped[1] then break end
    if tonumber(popped[2]) > nowMs then
      head = popped[1]
      break
    end
    dropped[#dropped + 1] = popped[1]
  end
  if queueOwnersKey and #dropped > 0 then redis.call('HDEL', queueOwnersKey, unpack(dropped)) end
  return head
end

-- Give the lock straight to `head` (already popped from the queue): it owns the lock from now on
-- for a short pickup lease, with the next fence, and the message naming it (and the fence) wakes
-- exactly that waiter, which may start at once and claims the lock with its own lease. A waiter
-- that died before picking up costs at most the pickup lease.
-- keys: { lock, channel, queueOwners }; options: { fence, handoffLeaseMs, publishCommand,
-- recordOwner, nowMs }. With recordOwner, the record the head queued with goes into the new lock
-- value, in the same SET (none: the value names the head alone, never the previous holder's record).
local function handOff(keys, head, options)
  local record = nil
  if options.recordOwner then record = takeQueuedOwner(keys.queueOwners, head, options.nowMs) end
  -- Flag "q": more waiters may be queued behind the head, so its release checks the queue.
  redis.call('SET', keys.lock, lockValue(options.fence, 'q', head, record), 'PX', options.handoffLeaseMs)
  -- SPUBLISH came with Redis 7.0, as did REDIS_VERSION_NUM: an older cluster broadcasts instead, so
  -- a handoff never fails halfway (the writes above stay; a script error would not undo them).
  local publishCommand = options.publishCommand
  if publishCommand == 'SPUBLISH' and not redis.REDIS_VERSION_NUM then publishCommand = 'PUBLISH' end
  -- "<fence>:<token>": the message alone proves the handoff, so the waiter can start at once on
  -- its pickup lease (and claim its own lease later) instead of paying a claim round trip first.
  redis.call(publishCommand, keys.channel, string.format('%.0f', options.fence) .. ':' .. head)
end
