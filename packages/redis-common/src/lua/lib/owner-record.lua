-- Shared by the mutex and read-lock scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua included before it.

-- Who holds a lock lives in "<lock>:owner" (same hash tag, so one Cluster slot), as
-- "<owner token>\n<acquired at, server ms>\n<JSON record>". Whoever writes the lock's expiry writes
-- the owner key's too (acquire, claim, extend, handoff), and a release deletes both in one DEL, so
-- the record never outlives the lock. The token ties the record to the holder the lock value names:
-- a record of an earlier holder (written by a process that stopped recording) is never shown.
-- A queued waiter's record waits in the hash "<lock>:queue:owners" (token -> JSON) until the
-- lock is handed to it; a handoff moves it into the owner key, so the waiter shows up as the owner
-- from the moment the lock is its own, without a claim round trip. An empty record ('') is a
-- caller that records nothing (recordOwner: false): nothing is written for it.

local function ownerValue(token, nowMs, record)
  return token .. '\n' .. string.format('%.0f', math.floor(nowMs)) .. '\n' .. record
end

-- Record `token` (record: its JSON) as the holder for leaseMs, the lock's own lease.
local function writeOwner(ownerKey, token, record, nowMs, leaseMs)
  if record == '' then return end
  redis.call('SET', ownerKey, ownerValue(token, nowMs, record), 'PX', leaseMs)
end

-- Take the record `member` queued with out of the queue's owners hash (nil if it left none).
local function takeQueuedOwner(queueOwnersKey, member)
  local record = redis.call('HGET', queueOwnersKey, member)
  if not record then return nil end
  redis.call('HDEL', queueOwnersKey, member)
  return record
end
