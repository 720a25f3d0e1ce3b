import { InvalidLockOptionsError, LockBackendError } from '@dlock/core';
import type { Cluster, Redis } from 'ioredis';

/** How the release script publishes: classic pub/sub, or sharded pub/sub on a Redis Cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

/** The ioredis clients the Redis backends accept: a standalone `Redis` or a `Cluster`. */
export type RedisLockClient = Redis | Cluster;

/**
 * Check, before any Redis call, that `client` is an ioredis client able to run lock scripts:
 * not in subscriber or monitor mode, and not closed.
 *
 * @throws InvalidLockOptionsError when it is not a usable ioredis client.
 * @throws LockBackendError (not retryable) when the client was closed with `quit()`/`disconnect()`.
 * @example
 * assertRedisClient(redis, 'redis-spin');
 */
export function assertRedisClient(client: unknown, backend: string): asserts client is RedisLockClient {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof (client as { evalsha?: unknown }).evalsha !== 'function' ||
    typeof (client as { eval?: unknown }).eval !== 'function'
  ) {
    throw new InvalidLockOptionsError(
      `${backend}: the first argument must be an ioredis Redis or Cluster client, e.g. new Redis(process.env.REDIS_URL).`,
      { backend },
    );
  }
  assertRedisClientUsable(client as RedisLockClient, backend);
}

/**
 * The part of {@link assertRedisClient} that can change after construction; backends call it
 * before each acquisition so a closed client fails at once instead of queueing forever.
 *
 * @example
 * assertRedisClientUsable(redis, 'redis-spin', 'stock:42');
 */
export function assertRedisClientUsable(client: RedisLockClient, backend: string, key?: string): void {
  const mode = 'mode' in client ? client.mode : 'normal';
  if (mode !== 'normal') {
    throw new InvalidLockOptionsError(
      `${backend}: the Redis client is in ${mode} mode and cannot run lock scripts; pass a normal connection ` +
        '(the pub/sub backend makes its own subscriber with duplicate()).',
      { backend, key },
    );
  }
  if (client.status === 'end') {
    throw new LockBackendError(
      `${backend}: the Redis client is closed (quit() or disconnect() was called); pass an open client.`,
      { backend, key, isRetryable: false },
    );
  }
}

/**
 * Whether `client` is an ioredis `Cluster`.
 *
 * @example
 * if (isRedisCluster(redis)) console.log('sharded pub/sub');
 */
export function isRedisCluster(client: RedisLockClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/**
 * How release scripts publish handoffs for this client: sharded `SPUBLISH` on a Redis Cluster
 * (7.0+), so a message goes only to the shard that owns the key instead of every node over the
 * cluster bus; classic `PUBLISH` on a single server.
 *
 * @example
 * attemptRedisLock({ ...options, publishCommand: publishCommandFor(redis) });
 */
export function publishCommandFor(client: RedisLockClient): PublishCommand {
  return isRedisCluster(client) ? 'SPUBLISH' : 'PUBLISH';
}
