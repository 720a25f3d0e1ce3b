import { usePrivateRedis } from '@dlock/conformance';
import { LockManager } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

// Issue #18: nothing per key stays after release, in Redis or in the process. A private
// redis-server (no persistence) so DBSIZE and used_memory count only this test's traffic.
// No timing assertions: only counts and bytes.
const KEYS = 100_000;
const IN_FLIGHT = 256;

const privateRedis = usePrivateRedis();

describe('memory per key (redis-pubsub, issue #18)', () => {
  it(`locks and releases ${KEYS} distinct keys: Redis keys, Redis memory and the heap return to baseline`, async () => {
    const { redis, expectNothingLeftPerKey } = privateRedis();
    const manager = new LockManager({ backends: { pubsub: new RedisPubSubLockBackend(redis) } });
    await expectNothingLeftPerKey(manager, {
      keys: KEYS,
      inFlight: IN_FLIGHT,
      andThen: async () => {
        // Waiters on many keys: a second process-like manager (own client, own subscriber) waits for
        // every key the first one holds, so each key gets a queue, a handoff and a subscription.
        const otherClient = redis.duplicate();
        await otherClient.connect();
        const otherBackend = new RedisPubSubLockBackend(otherClient, { subscriptionLingerMs: 50 });
        const other = new LockManager({ backends: { pubsub: otherBackend } });
        for (let batch = 0; batch < 10; batch++) {
          const keys = Array.from({ length: 200 }, (_, i) => `contended:${batch}:${i}`);
          const held = await Promise.all(keys.map((key) => manager.acquire(key)));
          const waiting = keys.map((key) => other.acquire(key, { retry: { waitMs: 30_000 } }));
          await new Promise((resolve) => setTimeout(resolve, 50));
          await Promise.all(held.map((lock) => lock.release()));
          for (const lock of await Promise.all(waiting)) await lock.release();
        }
        await new Promise((resolve) => setTimeout(resolve, 300)); // the 50 ms subscription linger
        expect(otherBackend.subscribedChannelCount).toBe(0);
        await other.close();
        otherClient.disconnect();
      },
    });
    await manager.close();
  }, 60_000);
});
