import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { LockBackendError } from '@dlock/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { assertRedisClient } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:assert-client:${randomUUID().slice(0, 8)}:`;
const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

describe('assertRedisClient', () => {
  it('rejects non-clients, subscriber connections and closed clients', async () => {
    expect(() => assertRedisClient({}, 'test')).toThrow(/ioredis Redis or Cluster/);
    // Under RESP3 (the ioredis 6 default) a subscribed connection still runs commands; under RESP2 it cannot.
    const subscriber = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false, protocol: 2 });
    await subscriber.subscribe(`${prefix}sub`);
    expect(() => assertRedisClient(subscriber, 'test')).toThrow(/subscriber mode/);
    subscriber.disconnect();
    const closed = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
    await closed.quit();
    await once(closed, 'end');
    expect(() => assertRedisClient(closed, 'test')).toThrow(LockBackendError);
  });
});
