import { clientFactory, backendRequest as request } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { redisLockKeys } from '@dlock/redis-common';
import { afterAll, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('pubsub-handoff-expiry');
const backends: RedisPubSubLockBackend[] = [];
afterAll(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
});

it('a handed-over lock never believes it holds longer than Redis keeps it, also with a lease shorter than the pickup lease', async () => {
  const [holderBackend, waiterBackend] = [0, 1].map(() => {
    const backend = new RedisPubSubLockBackend(newClient(), { keyPrefix, handoffLeaseMs: 2_000 });
    backends.push(backend);
    return backend;
  });
  const key = 'short-lease';
  const holder = (await holderBackend!.acquire(request(key, { leaseMs: 5_000 })))!;
  // The waiter's lease (300 ms) is shorter than the pickup lease (2000 ms) it will be handed.
  const waiting = waiterBackend!.acquire(request(key, { leaseMs: 300, waitMs: 5_000 }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await holder.release();
  const lock = (await waiting)!;
  expect(lock).not.toBeNull();
  const redis = newClient();
  for (const delayMs of [0, 100, 200]) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const pttl = await redis.pttl(redisLockKeys(keyPrefix, key).lock);
    // What the lock reports may be earlier than Redis' expiry (it counts from when it asked), never later.
    expect(lock.expiresAt - Date.now()).toBeLessThanOrEqual(pttl + 20);
  }
  await lock.release();
  redis.disconnect();
});
