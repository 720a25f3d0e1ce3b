--[[
  acquire: take a free lock and draw its fencing token in one round trip.

  KEYS[1]  lock key   "<prefix>{<key>}"        value = owner token, expires after the lease
  KEYS[2]  fence key  "<prefix>{<key>}:fence"  last fencing token handed out for this key
  ARGV[1]  owner token (random UUID of the caller)
  ARGV[2]  lease in ms (positive integer)
  ARGV[3]  fence retention in ms: how long the fence key outlives the last acquisition

  Returns  {1, fencingToken}   the lock is now ours
           {0, remainingMs}    the lock is held by another token; remainingMs is its PTTL
                               (-1 if the holder's key has no expiry)

  The fencing token is max(last + 1, server time in microseconds). The "+ 1" makes it strictly
  increase while the fence key exists; seeding from the clock keeps it increasing after the fence
  key expired (no unbounded growth) or Redis lost its data, as long as the server clock does not
  step back. A held lock is never modified.
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local now = redis.call('TIME')
  local nowUs = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  local fence = math.max(last + 1, nowUs)
  -- %.0f prints the integer exactly (it stays below 2^53); tostring() would round it to 14 digits.
  redis.call('SET', KEYS[2], string.format('%.0f', fence), 'PX', ARGV[3])
  return {1, fence}
end
return {0, redis.call('PTTL', KEYS[1])}
