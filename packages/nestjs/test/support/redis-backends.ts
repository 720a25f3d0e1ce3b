import { clientFactory } from '@dlock/conformance';
import { LockManager } from '@dlock/core';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import type { Redis } from 'ioredis';

export { REDIS_URL, testPrefix } from '@dlock/conformance/redis';

/** Redis clients of the shared test Redis, disconnected after the file. */
export const newRedisClient: () => Redis = clientFactory();

/** The recommended pair of Redis backends on one client. */
export function redisBackends(redis: Redis = newRedisClient()) {
  return { spin: new RedisSpinLockBackend(redis), pubsub: new RedisPubSubLockBackend(redis) };
}

/** A manager outside any Nest application: "another replica" of the same store and prefix. */
export function outsideManager(keyPrefix: string): LockManager {
  return new LockManager({ backends: redisBackends(), keyPrefix });
}

/** A promise the test settles by hand: keeps a critical section open until the test is ready. */
export function createGate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
