--[[
  semaphore-extend: reset the lease of a permit we still hold.

  KEYS[1]  holders         "<prefix>{<key>}:semaphore"
  KEYS[2]  meta            "<prefix>{<key>}:semaphore:meta"
  ARGV[1]  token: string     owner token
  ARGV[2]  leaseMs: number   new lease in ms (positive integer), counted from now

  Reply    FlagReply
           1 if the permit was ours and its lease was reset
           0 if it is not held by this token any more (left untouched)
]]
-- @include lib/lock-value.lua
-- @include lib/shared-holders.lua

local holdersKey, metaKey, token = KEYS[1], KEYS[2], ARGV[1]
local nowMs = serverTime()
local score = redis.call('ZSCORE', holdersKey, token)
if not score or tonumber(score) <= nowMs then return 0 end
local untilMs = nowMs + tonumber(ARGV[2])
redis.call('ZADD', holdersKey, 'XX', untilMs, token)
local holdersEnd = math.ceil(lastScore(holdersKey))
redis.call('PEXPIREAT', holdersKey, holdersEnd)
-- The meta outlives every holder (PEXPIREAT GT would need Redis 7: compare by hand).
local metaTtl = redis.call('PTTL', metaKey)
if metaTtl >= 0 and metaTtl < holdersEnd - nowMs + 1000 then
  redis.call('PEXPIREAT', metaKey, holdersEnd + 1000)
end
return 1
