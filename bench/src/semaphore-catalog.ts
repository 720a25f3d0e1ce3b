import { LockManager } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import { BENCH_LEASE_MS, type LibraryId, type LockAdapter, type StoreUrls } from './lock-adapter.js';

/** The semaphore libraries; `permits` is the semaphore's limit for one round (the plan's). */
export interface SemaphoreDescriptor {
  readonly id: LibraryId;
  readonly label: string;
  readonly store: 'redis';
  readonly family: 'dlock' | 'peer';
  readonly settings: string;
  create(urls: StoreUrls, permits?: number): Promise<LockAdapter | { readonly unavailable: string }>;
}

/** Polling interval of redis-semaphore's Semaphore (its default). */
const REDIS_SEMAPHORE_RETRY_MS = 10;

/**
 * dlock's two Redis semaphores and redis-semaphore's `Semaphore`, each driven through the same
 * `LockAdapter` as the mutexes: `acquire` takes one permit.
 */
export const SEMAPHORE_LIBRARIES: readonly SemaphoreDescriptor[] = [
  {
    id: 'dlock-pubsub-semaphore',
    label: 'dlock pub/sub semaphore',
    store: 'redis',
    family: 'dlock',
    settings:
      'RedisPubSubLockBackend defaults; LockManager.acquireSemaphore/release (fair queue, woken by pub/sub)',
    create: (urls, permits) =>
      dlockSemaphore('dlock-pubsub-semaphore', urls, permits, (redis) => new RedisPubSubLockBackend(redis)),
  },
  {
    id: 'dlock-spin-semaphore',
    label: 'dlock spin semaphore',
    store: 'redis',
    family: 'dlock',
    settings: 'RedisSpinLockBackend defaults (backoff + jitter); LockManager.acquireSemaphore/release',
    create: (urls, permits) =>
      dlockSemaphore('dlock-spin-semaphore', urls, permits, (redis) => new RedisSpinLockBackend(redis)),
  },
  {
    id: 'redis-semaphore-semaphore',
    label: 'redis-semaphore Semaphore',
    store: 'redis',
    family: 'peer',
    settings: `redis-semaphore 5.8.0 Semaphore, retryInterval ${REDIS_SEMAPHORE_RETRY_MS} ms (default), no refresh`,
    create: async ({ redisUrl }, permits) => {
      if (permits === undefined) return { unavailable: 'a semaphore needs permits' };
      const redis = new Redis(redisUrl);
      await redis.ping();
      return {
        library: 'redis-semaphore-semaphore',
        acquire: async (key, waitMs) => {
          const semaphore = new Semaphore(redis, key, permits, {
            lockTimeout: BENCH_LEASE_MS,
            acquireTimeout: waitMs,
            retryInterval: REDIS_SEMAPHORE_RETRY_MS,
            // dlock's acquireSemaphore() handle is not renewed either: same work for both.
            refreshInterval: 0,
          });
          await semaphore.acquire();
          return () => semaphore.release();
        },
        close: async () => {
          await redis.quit();
        },
      };
    },
  },
];

/** dlock as users call it: one LockManager per process, acquireSemaphore() then release(). */
async function dlockSemaphore(
  id: LibraryId,
  { redisUrl }: StoreUrls,
  permits: number | undefined,
  createBackend: (redis: Redis) => RedisPubSubLockBackend | RedisSpinLockBackend,
): Promise<LockAdapter | { unavailable: string }> {
  if (permits === undefined) return { unavailable: 'a semaphore needs permits' };
  const redis = new Redis(redisUrl);
  await redis.ping();
  const manager = new LockManager({ backends: { [id]: createBackend(redis) } });
  return {
    library: id,
    acquire: async (key, waitMs) => {
      const permit = await manager.acquireSemaphore(key, {
        permits,
        retry: { waitMs },
        leaseMs: BENCH_LEASE_MS,
      });
      return () => permit.release();
    },
    close: async () => {
      await manager.close();
      await redis.quit();
    },
  };
}
