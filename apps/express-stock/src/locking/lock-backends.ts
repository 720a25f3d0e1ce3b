import type { LockBackend } from '@dlock/core';
import { MySqlNamedLockBackend } from '@dlock/mysql';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/** The three backends of the recommended mix, by the names the default route uses. */
export interface AppLockBackends {
  readonly spin: LockBackend;
  readonly pubsub: LockBackend;
  readonly mysql: LockBackend;
  readonly [name: string]: LockBackend;
}

/**
 * Build the recommended mix on the app's clients.
 *
 * - `spin`: try-once locks (`order:<user>`), one `SET NX` and done.
 * - `pubsub`: waiting locks (`stock:<product>`); waiters sleep on a release message instead of polling.
 *   It opens its own subscriber connection (`redis.duplicate()`) and closes it on `close()`.
 * - `mysql`: named locks (`GET_LOCK`) on a DataSource of their own (see README: "Why a separate DataSource").
 *
 * @example
 * const manager = new LockManager({ backends: createLockBackends({ redis, lockDataSource }) });
 */
export function createLockBackends(clients: { redis: Redis; lockDataSource: DataSource }): AppLockBackends {
  return {
    spin: new RedisSpinLockBackend(clients.redis),
    pubsub: new RedisPubSubLockBackend(clients.redis),
    mysql: new MySqlNamedLockBackend(clients.lockDataSource),
  };
}
