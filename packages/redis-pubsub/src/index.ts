export type { RedisPubSubLockBackendOptions } from './redis-pubsub-lock-backend.js';
export { RedisPubSubLockBackend } from './redis-pubsub-lock-backend.js';
