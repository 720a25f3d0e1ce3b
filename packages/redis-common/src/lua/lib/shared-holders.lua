-- Shared by the read-lock and semaphore scripts: scripts/generate-lua.mjs inlines it where they
-- include it. Needs lib/lock-value.lua included before it. Every function takes what it needs as
-- parameters.

-- A holders set is a sorted set: member = holder token, score = server-time ms at which its lease
-- ends. A holder whose lease ended is dropped by the next script that looks (no timer needed).

-- Drop the holders whose lease ended; the number left.
local function liveHolders(holdersKey, nowMs)
  redis.call('ZREMRANGEBYSCORE', holdersKey, '-inf', nowMs)
  return redis.call('ZCARD', holdersKey)
end

-- The latest score of a sorted set, or nil when it is empty.
local function lastScore(zsetKey)
  local last = redis.call('ZRANGE', zsetKey, -1, -1, 'WITHSCORES')
  if last[1] then return tonumber(last[2]) end
  return nil
end

-- The first live waiter of a queue (waiters whose wait is over are dropped), without popping it.
local function peekQueue(queueKey, nowMs)
  redis.call('ZREMRANGEBYSCORE', queueKey, '-inf', nowMs)
  return redis.call('ZRANGE', queueKey, 0, 0)[1]
end

-- Queue `member` until nowMs + waitMs (same scoring as the mutex queue: earliest deadline first);
-- the queue key lives as long as its longest wait + 1 s.
local function queueUntil(queueKey, member, nowMs, waitMs)
  if redis.call('ZADD', queueKey, 'NX', nowMs + waitMs, member) == 0 then return end
  redis.call('PEXPIREAT', queueKey, math.ceil(lastScore(queueKey)) + 1000)
end

-- "<fence>:<member>" on the channel: wakes exactly that waiter (the message format of a handoff).
local function announce(channel, publishCommand, fence, member)
  if publishCommand == 'SPUBLISH' and not redis.REDIS_VERSION_NUM then publishCommand = 'PUBLISH' end
  redis.call(publishCommand, channel, string.format('%.0f', fence) .. ':' .. member)
end
