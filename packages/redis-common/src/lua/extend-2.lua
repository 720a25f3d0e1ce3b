--[[
  extend: reset the lease of a lock we still own.

  KEYS[1]  lock            "<prefix>{<key>}"
  KEYS[2]  owner           "<prefix>{<key>}:owner": its expiry is reset with the lock's
  ARGV[1]  token: string          owner token
  ARGV[2]  leaseMs: number        new lease in ms (positive integer), counted from now
  ARGV[3]  recordOwner: number   1: the owner key follows the lock's expiry; 0: left alone

  Reply    FlagReply
           1 if the lock was ours and its lease was reset
           0 if it is free or held under another token (left untouched)
]]
-- @include lib/lock-value.lua

local _, _, owner = parseLock(redis.call('GET', KEYS[1]))
if owner == ARGV[1] and owner ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '1' then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
  return 1
end
return 0
