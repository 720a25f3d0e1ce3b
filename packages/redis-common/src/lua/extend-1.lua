--[[
  extend: reset the lease of a lock we still own.

  KEYS[1]  lock            "<prefix>{<key>}"
  ARGV[1]  token: string          owner token
  ARGV[2]  leaseMs: number        new lease in ms (positive integer), counted from now

  Reply    FlagReply
           1 if the lock was ours and its lease was reset
           0 if it is free or held under another token (left untouched)
]]
-- @include lib/lock-value.lua

local _, _, owner = parseLock(redis.call('GET', KEYS[1]))
if owner == ARGV[1] and owner ~= '' then
  -- The owner record is part of the lock value: it follows the lock's expiry by itself.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
