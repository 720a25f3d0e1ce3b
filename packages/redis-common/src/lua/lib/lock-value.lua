-- Shared by the scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Every function takes what it needs as parameters; none reads the including script's locals.

-- The lock key's value is "<fence>:<flag>:<owner token>", followed by "\n<owner record>" when the
-- holder records who it is (lib/owner-record.lua): the fencing token handed out with the lock lives
-- in the lock itself (no separate fence key to outlive it), and the flag says whether a waiter may
-- be queued ("q") or not ("-"), so a release with nobody waiting never touches the queue ("s": none
-- queued, but a caller that does not queue was turned away, which the release reports). The record
-- lives in the same value, so it is written, expired and deleted with the lock at no extra command.
-- An empty owner is a tombstone: the lock is free, the value only keeps the last fence for
-- fenceRetentionMs (an opt-in guard against the server clock stepping back).

-- The owner of a lock held by readers (lib/read-phase.lua): no caller's token looks like it, so to
-- the mutex scripts it is simply a lock held by someone else.
local READERS = '*readers*'

-- fence (number), flag, owner token, owner record (nil if none) of a lock value; nil when the key
-- does not exist. Tokens never contain "\n", so the first "\n" ends the token ('.' would match it).
local function parseLock(value)
  if not value then return nil end
  local fence, flag, owner = string.match(value, '^(%d+):(.):(.*)$')
  if not fence then return 0, 'q', value end -- not written by this format: held by someone else
  local token, record = string.match(owner, '^([^\n]*)\n(.*)$')
  if token then return tonumber(fence), flag, token, record end
  return tonumber(fence), flag, owner, nil
end

-- record: the owner record to keep after the token, or nil for none.
local function lockValue(fence, flag, owner, record)
  -- %.0f prints the integer exactly (it stays below 2^53); tostring() would round it.
  local value = string.format('%.0f', fence) .. ':' .. flag .. ':' .. owner
  if record then return value .. '\n' .. record end
  return value
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
