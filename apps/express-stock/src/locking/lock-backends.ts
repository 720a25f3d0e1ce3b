import type { LockBackend, LockRouteRequest } from '@dlock/core';
import { MySqlNamedLockBackend } from '@dlock/mysql';
import { RedisPubSubLockBackend } from '@dlock/redis-pubsub';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/** The three backends of the app, by the names {@link routeByKeyNamespace} returns. */
export interface AppLockBackends {
  readonly spin: LockBackend;
  readonly pubsub: LockBackend;
  readonly mysql: LockBackend;
  readonly [name: string]: LockBackend;
}

export type LockStoreName = 'spin' | 'pubsub' | 'mysql';

/**
 * THE place that says which store holds which lock. A key is one lock only on one store: the
 * same `stock:42` taken on Redis by one route and on MySQL by another is two locks, and both
 * routes run at once. So the store follows from the key's namespace, never from a call's options
 * (the same key taken once with `retry` and once without must still meet on one store) and never
 * from a `backend:` at a call site.
 *
 * - `order:<user>` → spin: try-once (a double submit fails at once), one `SET NX`.
 * - `stock:<product>` → pubsub: waiting buyers sleep until the release message instead of polling.
 * - `psp:<provider>` → pubsub: the payment provider's semaphore; callers over its 3 permits wait in
 *   one fair queue and sleep until a permit is released (MySQL has no semaphores at all).
 * - `schema:<table prefix>` → mysql: start-up migrations, next to the tables they change.
 * - `race:<strategy>:<product>` → that strategy's store: the demo's own rows (see race/).
 */
const STORE_BY_NAMESPACE: Readonly<Record<string, LockStoreName>> = {
  order: 'spin',
  stock: 'pubsub',
  psp: 'pubsub',
  schema: 'mysql',
};
const RACE_STORES: ReadonlySet<string> = new Set<LockStoreName>(['spin', 'pubsub', 'mysql']);

/**
 * The store of one key; throws for a key whose namespace has none (a bug: add it above).
 *
 * @example
 * lockStoreFor('stock:p-1'); // 'pubsub'
 */
export function lockStoreFor(key: string): LockStoreName {
  const [namespace = '', second = ''] = key.split(':');
  if (namespace === 'race' && RACE_STORES.has(second)) return second as LockStoreName;
  const store = STORE_BY_NAMESPACE[namespace];
  if (store === undefined) {
    throw new Error(
      `There is no store for lock key "${key}": add its namespace to STORE_BY_NAMESPACE in lock-backends.ts.`,
    );
  }
  return store;
}

/**
 * The app's `LockManager` route: the store of the call's keys, which must all share one.
 *
 * @example
 * const manager = new LockManager({ backends, route: routeByKeyNamespace });
 */
export function routeByKeyNamespace({ keys }: LockRouteRequest): LockStoreName {
  const stores = new Set(keys.map(lockStoreFor));
  if (stores.size !== 1) {
    throw new Error(
      `Lock keys ${keys.join(', ')} live on two stores (${[...stores].join(', ')}); take them in separate calls.`,
    );
  }
  return [...stores][0]!;
}

/**
 * Build the app's backends on its clients.
 *
 * - `spin`: try-once locks, one `SET NX` and done.
 * - `pubsub`: waiting locks; waiters sleep on a release message instead of polling.
 *   It opens its own subscriber connection (`redis.duplicate()`) and closes it on `close()`.
 * - `mysql`: named locks (`GET_LOCK`) on a DataSource of their own (see README: "Why a separate DataSource").
 *
 * @example
 * const manager = new LockManager({ backends: createLockBackends({ redis, lockDataSource }), route: routeByKeyNamespace });
 */
export function createLockBackends(clients: { redis: Redis; lockDataSource: DataSource }): AppLockBackends {
  return {
    spin: new RedisSpinLockBackend(clients.redis),
    pubsub: new RedisPubSubLockBackend(clients.redis),
    mysql: new MySqlNamedLockBackend(clients.lockDataSource),
  };
}
