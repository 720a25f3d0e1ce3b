-- Shared by acquire-3 and release-3: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua included before it.

-- Pop the queued waiter whose turn it is, dropping waiters whose wait is over; nil if none.
local function popQueueHead(queueKey, nowMs)
  while true do
    local popped = redis.call('ZPOPMIN', queueKey)
    if not popped[1] then return nil end
    if tonumber(popped[2]) > nowMs then return popped[1] end
  end
end

-- Give the lock straight to `head` (already popped from the queue): it owns the lock from now on
-- for a short pickup lease, with the next fence, and the message naming it (and the fence) wakes
-- exactly that waiter, which may start at once and claims the lock with its own lease. A waiter that died before picking up costs at
-- most the pickup lease. keys: { lock, channel }; options: { fence, handoffLeaseMs, publishCommand }.
local function handOff(keys, head, options)
  -- Flag "q": more waiters may be queued behind the head, so its release checks the queue.
  redis.call('SET', keys.lock, lockValue(options.fence, 'q', head), 'PX', options.handoffLeaseMs)
  -- SPUBLISH came with Redis 7.0, as did REDIS_VERSION_NUM: an older cluster broadcasts instead, so
  -- a handoff never fails halfway (the writes above stay; a script error would not undo them).
  local publishCommand = options.publishCommand
  if publishCommand == 'SPUBLISH' and not redis.REDIS_VERSION_NUM then publishCommand = 'PUBLISH' end
  -- "<fence>:<token>": the message alone proves the handoff, so the waiter can start at once on
  -- its pickup lease (and claim its own lease later) instead of paying a claim round trip first.
  redis.call(publishCommand, keys.channel, string.format('%.0f', options.fence) .. ':' .. head)
end
