--[[
  release: free a lock we own and tell waiters it is free.

  KEYS[1]  lock key        "<prefix>{<key>}"
  KEYS[2]  release channel "<prefix>{<key>}:released" (declared as a key only so that Redis Cluster
           routes and checks it with the lock's hash slot; it is never read or written as a key)
  ARGV[1]  owner token
  ARGV[2]  message published on the channel

  Returns  1 if the lock was ours: it is deleted and one message is published
           0 if it is free or held under another token (left untouched, nothing published)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], ARGV[2])
  return 1
end
return 0
