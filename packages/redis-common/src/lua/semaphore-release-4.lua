--[[
  semaphore-release: give back a permit (granting it to the next waiter), or leave the queue.

  KEYS[1]  holders         "<prefix>{<key>}:semaphore"
  KEYS[2]  queue           "<prefix>{<key>}:semaphore:queue"
  KEYS[3]  channel         "<prefix>{<key>}:semaphore:released"
  KEYS[4]  meta            "<prefix>{<key>}:semaphore:meta"
  ARGV[1]  token: string           owner token
  ARGV[2]  permits: number         the semaphore's permits (used if its meta is gone)
  ARGV[3]  handoffLeaseMs: number  pickup lease of the waiters this release grants a permit
  ARGV[4]  publishCommand: PublishCommand  "PUBLISH" or "SPUBLISH"

  Reply    FlagReply
           1 if the token held a live permit: it is free again and granted to the waiters at the
           head of the queue, as many as permits are free, one message naming each
           0 if it held none (its lease ended, or never granted): nobody else's permit is freed;
           the token leaves the queue, and a permit granted to it at the last moment is passed on
]]
local holdersKey, queueKey, channel, metaKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, argPermits, handoffLeaseMs, publishCommand = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]

-- @include lib/lock-value.lua
-- @include lib/shared-holders.lua
-- @include lib/semaphore-state.lua

local keys = { holders = holdersKey, queue = queueKey, channel = channel, meta = metaKey }
local options = { leaseMs = handoffLeaseMs, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand }
local nowMs, nowUs = serverTime()
local score = redis.call('ZSCORE', holdersKey, token)
redis.call('ZREM', holdersKey, token)
redis.call('ZREM', queueKey, token)
local ours = score and tonumber(score) > nowMs
local held = liveHolders(holdersKey, nowMs)
local permits, fence = readMeta(metaKey)
permits = permits or argPermits
held, fence = grantPermits(keys, '', held, permits, fence, nowMs, nowUs, options)
if held == 0 and not peekQueue(queueKey, nowMs) then
  -- Nobody holds or waits: keep only the meta (the fence) for a moment.
  redis.call('DEL', holdersKey, queueKey)
end
storeAndExpire(keys, permits, fence, nowMs)
if ours then return 1 end
return 0
