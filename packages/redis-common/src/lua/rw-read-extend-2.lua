--[[
  rw-read-extend: reset the lease of a read lock we still hold.

  KEYS[1]  lock            "<prefix>{<key>}"
  KEYS[2]  readers         "<prefix>{<key>}:readers"
  ARGV[1]  member: string    "r:<owner token>"
  ARGV[2]  leaseMs: number   new lease in ms (positive integer), counted from now

  Reply    FlagReply
           1 if the read lock was ours and its lease was reset (the lock key lives as long as the
           longest reader lease)
           0 if it is not held by this member any more (left untouched)
]]
-- @include lib/lock-value.lua
-- @include lib/shared-holders.lua

local lockKey, readersKey, member = KEYS[1], KEYS[2], ARGV[1]
local nowMs = serverTime()
local _, _, owner = parseLock(redis.call('GET', lockKey))
local score = redis.call('ZSCORE', readersKey, member)
if owner ~= READERS or not score or tonumber(score) <= nowMs then return 0 end
redis.call('ZADD', readersKey, 'XX', nowMs + tonumber(ARGV[2]), member)
local lastMs = math.ceil(lastScore(readersKey))
redis.call('PEXPIREAT', lockKey, lastMs)
redis.call('PEXPIREAT', readersKey, lastMs)
return 1
