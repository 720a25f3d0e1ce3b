-- Shared by the mutex and read-lock scripts: scripts/generate-lua.mjs inlines it where they include it.
-- Needs lib/lock-value.lua included before it.

-- Who holds a lock lives in the lock value itself, after the holder's token (lib/lock-value.lua):
-- "<fence>:<flag>:<token>\n<acquired at, server ms>\n<JSON record>". So whatever writes, expires or
-- deletes the lock does the same to the record, and a record can only ever name the token beside
-- it. A queued waiter's record waits in its queue entry, "<token>\n<JSON record>", so it is written,
-- popped and expired with the entry at no extra command; a handoff writes it into the new lock
-- value, so the waiter shows up as the owner from the moment the lock is its own, without a claim
-- round trip. An empty record ('') is a caller that records nothing (recordOwner: false): its entry
-- is its bare token and nothing is written for it.

-- The record kept in the lock value for a holder with `json` (nil when it records nothing).
local function ownerRecordAt(nowMs, json)
  if json == '' then return nil end
  return string.format('%.0f', math.floor(nowMs)) .. '\n' .. json
end

-- The queue entry of `token` with its record `json` ('' records nothing).
local function queueMember(token, json)
  if json == '' then return token end
  return token .. '\n' .. json
end

-- The token of a queue entry and the record to write into the lock value handed to it (nil when
-- it queued without one, as callers with recordOwner false and older scripts do).
local function queuedOwner(member, nowMs)
  local token, json = string.match(member, '^([^\n]*)\n(.*)$')
  if not token then return member, nil end
  return token, ownerRecordAt(nowMs, json)
end
