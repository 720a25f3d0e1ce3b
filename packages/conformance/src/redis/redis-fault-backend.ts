import type { LockBackend } from '@dlock/core';
import { Redis, type RedisOptions } from 'ioredis';
import type { CreateFaultBackend } from '../fault/fault-backend.js';

/** What a Redis backend gets from {@link redisFaultBackend}: the fault kit's options for it. */
export interface RedisFaultBackendOptions {
  readonly keyPrefix: string;
  /** Left out when the scenario did not set one: the backend's default applies. */
  readonly commandTimeoutMs?: number;
}

/**
 * `createFaultBackend` for a backend on one ioredis client, as the fault scenarios and their
 * worker processes build it. The client's `duplicate()` (the pub/sub subscriber) goes to the
 * scenario's `subscriberUrl` when it names one, so a test can drop or pause handoff messages
 * alone; every client is disconnected by `close()` after the backend's own close.
 *
 * @example
 * export const createFaultBackend = redisFaultBackend((redis, options) => new RedisSpinLockBackend(redis, options));
 */
export function redisFaultBackend(
  createBackend: (redis: Redis, options: RedisFaultBackendOptions) => LockBackend,
): CreateFaultBackend {
  return async (url, options) => {
    const redis = new Redis(url);
    redis.on('error', () => {}); // the backend reports what matters; keep the test output quiet
    const subscribers: Redis[] = [];
    const duplicate = redis.duplicate.bind(redis);
    redis.duplicate = (override?: Partial<RedisOptions>) => {
      const subscriberAddress = options.subscriberUrl ? new URL(options.subscriberUrl) : undefined;
      const subscriber = duplicate({
        ...override,
        ...(subscriberAddress
          ? { host: subscriberAddress.hostname, port: Number(subscriberAddress.port) }
          : {}),
      });
      subscriber.on('error', () => {});
      subscribers.push(subscriber);
      return subscriber;
    };
    const backend = createBackend(redis, {
      keyPrefix: options.keyPrefix,
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
    });
    return {
      backend,
      close: async () => {
        await backend.close();
        redis.disconnect();
        for (const subscriber of subscribers) subscriber.disconnect();
      },
    };
  };
}
