--[[
  release: free a lock we own (handing it to the next queued waiter), or leave the queue.

  KEYS[1]  lock            "<prefix>{<key>}"
  KEYS[2]  queue           "<prefix>{<key>}:queue"
  KEYS[3]  channel         "<prefix>{<key>}:released": handoff messages "<fence>:<new owner's token>"
  ARGV[1]  token: string             owner token
  ARGV[2]  handoffLeaseMs: number    pickup lease in ms given to the waiter the lock is handed to
  ARGV[3]  fenceRetentionMs: number  0: delete the lock key; > 0: leave a tombstone keeping the
                                     last fence that long
  ARGV[4]  publishCommand: PublishCommand  "PUBLISH" or "SPUBLISH"
  ARGV[5]  ownerRecord: string       the record the token queued with ('' none), which names its
                                     queue entry when it leaves the queue

  Reply    ReleaseReply
           1 if the lock was ours: handed to the head of the queue (one message naming it is
           published), or deleted when nobody waits
           2 if the lock was ours and deleted, and a caller that does not queue (spin, try-once)
           was turned away while we held it (flag "s")
           0 if it is free or held under another token: left untouched, nothing published; the
           token is removed from the queue (a waiter giving up calls release too, so a lock handed
           to it at the last moment is passed on instead of idling until the pickup lease ends)
  Commands: nobody queued 2 (GET, DEL; the owner record goes with the lock value); handoff 5 (GET,
  TIME, ZPOPMIN, SET, PUBLISH; the waiter's record comes out of its queue entry).
]]
local lockKey, queueKey, channel = KEYS[1], KEYS[2], KEYS[3]
local token, handoffLeaseMs, fenceRetentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local publishCommand, ownerRecord = ARGV[4], ARGV[5]

local value = redis.call('GET', lockKey)
-- The common release, ours with nobody queued (flag "-"), runs before the helpers below are
-- defined, so it creates none of their closures; the rest reads the value with parseLock().
if value and fenceRetentionMs == 0 and token ~= '' then
  local flag, owner = string.match(value, '^%d+:(.):([^\n]*)')
  if flag == '-' and owner == token then
    redis.call('DEL', lockKey)
    return 1
  end
end

-- @include lib/lock-value.lua
-- @include lib/owner-record.lua
-- @include lib/queue-handoff.lua

local fence, flag, owner = parseLock(value)
if owner ~= token or token == '' then
  redis.call('ZREM', queueKey, queueMember(token, ownerRecord))
  return 0
end
if flag == 'q' then
  local nowMs, nowUs = serverTime()
  local head = popQueueHead(queueKey, nowMs)
  if head then
    handOff({ lock = lockKey, channel = channel }, head, {
      fence = nextFence(fence, nowUs), handoffLeaseMs = handoffLeaseMs, publishCommand = publishCommand,
      nowMs = nowMs,
    })
    return 1
  end
end
if fenceRetentionMs > 0 then
  -- The tombstone keeps the fence only: no token, no owner record.
  redis.call('SET', lockKey, lockValue(fence, '-', ''), 'PX', fenceRetentionMs)
else
  redis.call('DEL', lockKey)
end
if flag == 's' then return 2 end
return 1
