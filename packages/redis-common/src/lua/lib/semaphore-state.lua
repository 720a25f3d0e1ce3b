-- Shared by the semaphore-* scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua and lib/shared-holders.lua included before it.

-- A semaphore "<prefix>{<key>}:semaphore" is a holders set (token -> lease end), a queue (token ->
-- end of its wait, earliest first), a channel, and a meta string "<permits>:<last fence>" that
-- every caller's permits are checked against and that keeps the fencing counter. Each key expires
-- with what it holds, so a semaphore nobody uses leaves nothing behind.

-- permits (number or nil), last fence (number or nil)
local function readMeta(metaKey)
  local meta = redis.call('GET', metaKey)
  if not meta then return nil, nil end
  local permits, fence = string.match(meta, '^(%d+):(%d+)$')
  return tonumber(permits), tonumber(fence)
end

-- Write the meta and let every key live as long as what it holds: holders until the last lease
-- ends, the queue until its last wait ends (+ 1 s), the meta until both are gone (+ 1 s).
local function storeAndExpire(keys, permits, fence, nowMs)
  local holdersEnd = lastScore(keys.holders)
  local queueEnd = lastScore(keys.queue)
  if holdersEnd then redis.call('PEXPIREAT', keys.holders, math.ceil(holdersEnd)) end
  if queueEnd then redis.call('PEXPIREAT', keys.queue, math.ceil(queueEnd) + 1000) end
  local metaEnd = math.max(holdersEnd or nowMs, queueEnd or nowMs) + 1000
  redis.call('SET', keys.meta, string.format('%d:%.0f', permits, fence or 0), 'PXAT', math.ceil(metaEnd))
end

-- Hand free permits to the waiters at the head of the queue, in order, each on the pickup lease
-- and woken by a message naming it; `self` (if reached) gets its own lease instead. Returns the
-- number of holders, the latest fence and, if `self` was admitted, its fence.
local function grantPermits(keys, self, held, permits, fence, nowMs, nowUs, options)
  local selfFence = nil
  while held < permits do
    local head = peekQueue(keys.queue, nowMs)
    if not head then break end
    redis.call('ZREM', keys.queue, head)
    fence = nextFence(fence, nowUs)
    if head == self then
      redis.call('ZADD', keys.holders, nowMs + options.leaseMs, head)
      selfFence = fence
    else
      redis.call('ZADD', keys.holders, nowMs + options.handoffLeaseMs, head)
      announce(keys.channel, options.publishCommand, fence, head)
    end
    held = held + 1
  end
  return held, fence, selfFence
end
