-- Shared by the scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Every function takes what it needs as parameters; none reads the including script's locals.

-- The lock key's value is "<fence>:<flag>:<owner token>": the fencing token handed out with the
-- lock lives in the lock itself (no separate fence key to outlive it), and the flag says whether a
-- waiter may be queued ("q") or not ("-"), so a release with nobody waiting never touches the queue.
-- An empty owner is a tombstone: the lock is free, the value only keeps the last fence for
-- fenceRetentionMs (an opt-in guard against the server clock stepping back).

-- fence (number), flag, owner of a lock value; nil when the key does not exist.
local function parseLock(value)
  if not value then return nil end
  local fence, flag, owner = string.match(value, '^(%d+):(.):(.*)$')
  if not fence then return 0, 'q', value end -- not written by this format: held by someone else
  return tonumber(fence), flag, owner
end

local function lockValue(fence, flag, owner)
  -- %.0f prints the integer exactly (it stays below 2^53); tostring() would round it.
  return string.format('%.0f', fence) .. ':' .. flag .. ':' .. owner
end

-- Server time in ms (with a µs fraction, so waiters queued within one ms keep their arrival
-- order) and in whole µs: every deadline and fence is on Redis' clock, never a client's.
local function serverTime()
  local time = redis.call('TIME')
  local seconds, micros = tonumber(time[1]), tonumber(time[2])
  return seconds * 1000 + micros / 1000, seconds * 1000000 + micros
end

-- The next fencing token: max(last + 1, server time in µs). "+ 1" keeps it strictly increasing
-- while the lock key (or its tombstone) lives; the clock keeps it increasing once the key is gone.
local function nextFence(lastFence, nowUs)
  return math.max((lastFence or 0) + 1, nowUs)
end
