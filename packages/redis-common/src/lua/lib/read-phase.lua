-- Shared by the rw-read-* scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua, lib/owner-record.lua, lib/queue-handoff.lua and lib/shared-holders.lua
-- included before it.

-- Read locks live on the mutex's own keys, so a read lock and a write lock (a plain lock) of one
-- key exclude each other whichever scripts take them. While readers hold the key, its lock value is
-- "<fence>:q:*readers*": to the mutex scripts a lock held by someone else, with waiters flagged
-- (so they queue behind it and never rewrite it); the readers themselves are in the readers set,
-- and the lock key expires with the last reader's lease. Queued readers are "r:<token>" in the
-- mutex queue, so writers and readers wait in one first come, first served order.
local function isReader(member)
  return string.sub(member, 1, 2) == 'r:'
end

-- Admit `member` as a reader until untilMs: the lock key gets the next fence (every reader and
-- writer of the key draws from one counter) and lives as long as the longest reader lease.
local function admitReader(keys, member, untilMs, fence, nowUs)
  redis.call('ZADD', keys.readers, untilMs, member)
  local newFence = nextFence(fence, nowUs)
  redis.call('SET', keys.lock, lockValue(newFence, 'q', READERS), 'KEEPTTL')
  local lastMs = math.ceil(lastScore(keys.readers))
  redis.call('PEXPIREAT', keys.lock, lastMs)
  redis.call('PEXPIREAT', keys.readers, lastMs)
  return newFence
end

-- Serve the head of the queue while the key is free (`free`) or read-held: every reader queued
-- back to back at the head is admitted (each woken by a message naming it, on the pickup lease,
-- except `self`, admitted on its own lease); a writer at the head of a free key is handed the lock
-- (mutex handoff: the record it queued with goes into the lock value).
-- A writer at the head of a read-held key is left waiting for the last reader. Readers record no
-- owner: the lock value names the write holder only.
-- Returns the latest fence and, if `self` was admitted, its fence.
local function serveQueue(keys, self, nowMs, nowUs, fence, free, options)
  local selfFence = nil
  while true do
    local head = peekQueue(keys.queue, nowMs)
    if not head then break end
    if isReader(head) then
      redis.call('ZREM', keys.queue, head)
      if head == self then
        fence = admitReader(keys, head, nowMs + options.leaseMs, fence, nowUs)
        selfFence = fence
      else
        fence = admitReader(keys, head, nowMs + options.handoffLeaseMs, fence, nowUs)
        announce(keys.channel, options.publishCommand, fence, head)
      end
      free = false
    else
      if free then
        redis.call('ZREM', keys.queue, head)
        fence = nextFence(fence, nowUs)
        handOff(keys, head, {
          fence = fence, handoffLeaseMs = options.handoffLeaseMs, publishCommand = options.publishCommand,
          nowMs = nowMs,
        })
      end
      break
    end
  end
  return fence, selfFence
end
