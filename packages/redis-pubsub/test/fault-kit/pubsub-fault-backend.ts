// The pub/sub backend as the fault scenarios and their worker processes build it. With
// `subscriberUrl`, the subscriber connection (the backend's `duplicate()` of the client) goes
// there instead, so a test can drop or pause handoff messages alone.
import type { CreateFaultBackend } from '@dlock/conformance/fault';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisPubSubLockBackend } from '../../src/index.js';

export const createFaultBackend: CreateFaultBackend = async (url, options) => {
  const redis = new Redis(url);
  redis.on('error', () => {});
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
  const backend = new RedisPubSubLockBackend(redis, {
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
