--[[
  rw-read-release: give back a read lock (the last reader out serves the queue), or leave the queue.

  KEYS[1]  lock            "<prefix>{<key>}"
  KEYS[2]  queue           "<prefix>{<key>}:queue"
  KEYS[3]  channel         "<prefix>{<key>}:released"
  KEYS[4]  readers         "<prefix>{<key>}:readers"
  ARGV[1]  member: string          "r:<owner token>"
  ARGV[2]  handoffLeaseMs: number  pickup lease of the waiters this release admits
  ARGV[3]  publishCommand: PublishCommand  "PUBLISH" or "SPUBLISH"

  Reply    FlagReply
           1 if the member held a live read lock: removed; if it was the last reader, the key is
           handed to the writer at the head of the queue (one message naming it), or deleted
           0 if it held none (lease over, or never admitted): nothing freed; the member leaves the
           queue, and a key handed to it at the last moment is passed on
]]
local lockKey, queueKey, channel, readersKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, handoffLeaseMs, publishCommand = ARGV[1], tonumber(ARGV[2]), ARGV[3]

-- @include lib/lock-value.lua
-- @include lib/owner-record.lua
-- @include lib/queue-handoff.lua
-- @include lib/shared-holders.lua
-- @include lib/read-phase.lua

local keys = { lock = lockKey, queue = queueKey, channel = channel, readers = readersKey }
local options = { leaseMs = handoffLeaseMs, handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand }
local nowMs, nowUs = serverTime()
local fence, _, owner = parseLock(redis.call('GET', lockKey))

if owner == member then
  -- Handed to us (mutex handoff) as we gave up: pass it on.
  redis.call('DEL', lockKey)
  serveQueue(keys, '', nowMs, nowUs, fence, true, options)
  return 0
end

local score = redis.call('ZSCORE', readersKey, member)
if owner ~= READERS or not score or tonumber(score) <= nowMs then
  redis.call('ZREM', readersKey, member)
  redis.call('ZREM', queueKey, member)
  return 0
end
redis.call('ZREM', readersKey, member)
if liveHolders(readersKey, nowMs) > 0 then
  local lastMs = math.ceil(lastScore(readersKey))
  redis.call('PEXPIREAT', lockKey, lastMs)
  redis.call('PEXPIREAT', readersKey, lastMs)
  -- Readers queued at the head (left there when the writer ahead of them gave up) may join.
  serveQueue(keys, '', nowMs, nowUs, fence, false, options)
  return 1
end
redis.call('DEL', lockKey, readersKey)
serveQueue(keys, '', nowMs, nowUs, fence, true, options)
return 1
