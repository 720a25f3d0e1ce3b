import { randomUUID } from 'node:crypto';
import { LockBackendError } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

// ACLs change the whole server, so this runs on a private one.
let server: PrivateRedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedisServer.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const request = (key: string, waitMs: number) => ({
  key,
  token: randomUUID(),
  leaseMs: 10_000,
  waitMs,
  signal: new AbortController().signal,
});

it('a SUBSCRIBE that failed is not handed to the next waiter of the key: it subscribes again', async () => {
  const holder = await new RedisSpinLockBackend(redis).acquire(request('k', 0));
  expect(holder).not.toBeNull();
  const pubsub = new RedisPubSubLockBackend(redis, { subscriptionLingerMs: 60_000 });
  try {
    // No channel may be subscribed: the waiter's SUBSCRIBE is refused with NOPERM.
    await redis.call('ACL', 'SETUSER', 'default', 'resetchannels');
    const refused = await pubsub.acquire(request('k', 3_000)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LockBackendError);
    expect(String((refused as Error).cause)).toMatch(/NOPERM/);

    // Allowed again: the next waiter of the same key (well within the linger) must not inherit
    // the rejected subscription; it subscribes and is woken by the release.
    await redis.call('ACL', 'SETUSER', 'default', 'allchannels');
    const waiting = pubsub.acquire(request('k', 5_000));
    for (let attempt = 0; attempt < 100; attempt++) {
      const [, subscribers] = (await redis.call('PUBSUB', 'NUMSUB', 'dlock:{k}:released')) as [
        string,
        number,
      ];
      if (subscribers === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const releasedAt = Date.now();
    await holder!.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(900);
    await lock!.release();
  } finally {
    await redis.call('ACL', 'SETUSER', 'default', 'allchannels');
    await pubsub.close();
  }
});
