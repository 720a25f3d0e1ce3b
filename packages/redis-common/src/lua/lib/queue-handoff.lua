-- Shared by acquire-3, release-3 and the rw-read-* scripts: scripts/generate-lua.mjs inlines it
-- where they include it. Needs lib/lock-value.lua and lib/owner-record.lua included before it.

-- Pop the queue entry whose turn it is, dropping entries whose wait is over; nil if none.
local function popQueueHead(queueKey, nowMs)
  while true do
    local popped = redis.call('ZPOPMIN', queueKey)
    if not popped[1] then return nil end
    if tonumber(popped[2]) > nowMs then return popped[1] end
  end
end

-- Give the lock straight to the queue entry `head` (already popped): its owner holds the lock from
-- now on for a short pickup lease, with the next fence and the record it queued with, and the
-- message naming it (and the fence) wakes exactly that waiter, which may start at once and claims
-- the lock with its own lease. A waiter that died before picking up costs at most the pickup lease.
-- keys: { lock, channel }; options: { fence, handoffLeaseMs, publishCommand, nowMs }.
local function handOff(keys, head, options)
  local token, record = queuedOwner(head, options.nowMs)
  -- Flag "q": more waiters may be queued behind the head, so its release checks the queue.
  redis.call('SET', keys.lock, lockValue(options.fence, 'q', token, record), 'PX', options.handoffLeaseMs)
  -- SPUBLISH came with Redis 7.0, as did REDIS_VERSION_NUM: an older cluster broadcasts instead, so
  -- a handoff never fails halfway (the writes above stay; a script error would not undo them).
  local publishCommand = options.publishCommand
  if publishCommand == 'SPUBLISH' and not redis.REDIS_VERSION_NUM then publishCommand = 'PUBLISH' end
  -- "<fence>:<token>": the message alone proves the handoff, so the waiter can start at once on
  -- its pickup lease (and claim its own lease later) instead of paying a claim round trip first.
  redis.call(publishCommand, keys.channel, string.format('%.0f', options.fence) .. ':' .. token)
end
