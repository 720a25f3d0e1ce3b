export type { AcquireScriptArgs, ExtendScriptArgs, ReleaseScriptArgs } from './generated/lua-scripts.js';
export { LUA_SCRIPTS, runAcquireScript, runExtendScript, runReleaseScript } from './generated/lua-scripts.js';
export type { RedisHandoff } from './handed-over-redis-lock.js';
export { takeHandedOverRedisLock } from './handed-over-redis-lock.js';
export type { LuaScript } from './lua-script.js';
export { runLuaScript } from './lua-script.js';
export { RedisBackendCore } from './redis-backend-core.js';
export type { RedisErrorContext } from './redis-backend-error.js';
export { toLockBackendError } from './redis-backend-error.js';
export type { PublishCommand, RedisLockClient } from './redis-client.js';
export { assertRedisClient, isRedisCluster } from './redis-client.js';
export type { RedisLockKeys, RedisLockValue } from './redis-key-layout.js';
export { DEFAULT_KEY_PREFIX, escapeHashTag, parseRedisLockValue, redisLockKeys } from './redis-key-layout.js';
export type {
  RedisAcquireAttempt,
  RedisLockAttempt,
  RedisLockScriptSettings,
  RedisLockTarget,
} from './redis-lock-attempt.js';
export {
  attemptRedisLock,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_FENCE_RETENTION_MS,
  DEFAULT_HANDOFF_LEASE_MS,
  leaveRedisLockQueue,
} from './redis-lock-attempt.js';
export { RedisLockInspector } from './redis-lock-inspection.js';
export type {
  RedisAcquireCall,
  RedisBackendContext,
  RedisLockFormat,
  RedisLockFormatOptions,
} from './redis-lock-options.js';
export { beginRedisAcquire, redisBackendClosedError, resolveRedisLockFormat } from './redis-lock-options.js';
export { decodeRedisOwner, encodeRedisOwner } from './redis-owner-record.js';
export type { AcquireReply, FlagReply, ReleaseReply, SemaphoreReply } from './redis-script-replies.js';
export type {
  RedisReadLockKeys,
  RedisSemaphoreKeys,
  RedisSharedLockTarget,
} from './redis-shared-lock-attempt.js';
export {
  attemptRedisSharedLock,
  leaveRedisSharedLock,
  redisReadLockKeys,
  redisSemaphoreKeys,
  redisSharedLockTarget,
  takeGrantedRedisPermit,
} from './redis-shared-lock-attempt.js';
