--[[
  release: free a lock we own (handing it to the next queued waiter), or leave the queue.

  KEYS[1]  lock            "<prefix>{<key>}"
  KEYS[2]  fence           "<prefix>{<key>}:fence"
  KEYS[3]  queue           "<prefix>{<key>}:queue"
  KEYS[4]  channel         "<prefix>{<key>}:released"
  ARGV[1]  token: string             owner token
  ARGV[2]  handoffLeaseMs: number    pickup lease in ms given to the waiter the lock is handed to
  ARGV[3]  fenceRetentionMs: number  fence retention in ms
  ARGV[4]  publishCommand: PublishCommand  "PUBLISH" or "SPUBLISH"

  Reply    FlagReply
           1 if the lock was ours: handed to the head of the queue (one message naming it is
           published), or deleted when nobody waits
           0 if it is free or held under another token: left untouched, nothing published; the
           token is removed from the queue (a waiter giving up calls release too, so a lock handed
           to it at the last moment is passed on instead of idling until the pickup lease ends)
]]
local lockKey, fenceKey, queueKey, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, handoffLeaseMs, fenceRetentionMs, publishCommand = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

-- @include lib/queue-handoff.lua

if redis.call('GET', lockKey) ~= token then
  redis.call('ZREM', queueKey, token)
  return 0
end
local nowMs, nowUs = serverTime()
local head = queueHead(queueKey, nowMs)
if head then
  handOff({ lock = lockKey, fence = fenceKey, queue = queueKey, channel = channel }, head, {
    nowUs = nowUs, handoffLeaseMs = handoffLeaseMs, fenceRetentionMs = fenceRetentionMs,
    publishCommand = publishCommand,
  })
else
  redis.call('DEL', lockKey)
end
return 1
