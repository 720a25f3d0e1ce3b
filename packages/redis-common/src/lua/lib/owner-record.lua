-- Shared by the mutex and read-lock scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua included before it.

-- Who holds a lock lives in the lock value itself, after the holder's token (lib/lock-value.lua):
-- "<fence>:<flag>:<token>\n<acquired at, server ms>\n<JSON record>". So whatever writes, expires or
-- deletes the lock does the same to the record, and a record can only ever name the token beside
-- it. A queued waiter's record waits in the hash "<lock>:queue:owners" (token -> "\n<JSON>") until
-- the lock is handed to it; a handoff writes it into the new lock value, so the waiter shows up as
-- the owner from the moment the lock is its own, without a claim round trip. An empty record ('')
-- is a caller that records nothing (recordOwner: false): nothing is written for it.

-- The record kept in the lock value for a holder with `json` (nil when it records nothing).
local function ownerRecordAt(nowMs, json)
  if json == '' then return nil end
  return string.format('%.0f', math.floor(nowMs)) .. '\n' .. json
end

-- The hash field of a queued waiter: the leading "\n" marks a waiter whose scripts keep records in
-- the lock value. A waiter queued by an older release of the scripts stored bare JSON and claims
-- with the old extend script, which only accepts a lock value ending with its bare token: such a
-- waiter is handed the lock without a record, so a rolling deploy never strands it.
local function queuedRecord(json)
  return '\n' .. json
end

-- Take the record `member` queued with out of the queue's owners hash; the record to write into
-- the lock value handed to it (nil if it left none, or queued through an older script).
local function takeQueuedOwner(queueOwnersKey, member, nowMs)
  local queued = redis.call('HGET', queueOwnersKey, member)
  if not queued then return nil end
  redis.call('HDEL', queueOwnersKey, member)
  if string.sub(queued, 1, 1) ~= '\n' then return nil end
  return ownerRecordAt(nowMs, string.sub(queued, 2))
end
