export type { RedisSpinLockBackendOptions } from './redis-spin-lock-backend.js';
export { RedisSpinLockBackend } from './redis-spin-lock-backend.js';
export type { BackoffOptions } from './spin-backoff.js';
export { backoffDelayMs } from './spin-backoff.js';
