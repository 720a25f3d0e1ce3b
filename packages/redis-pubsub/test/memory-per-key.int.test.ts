import { heapUsedAfterGc, usePrivateRedis } from '@dlock/conformance';
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
    const { redis, usedMemory } = privateRedis();
    const manager = new LockManager({ backends: { pubsub: new RedisPubSubLockBackend(redis) } });
    // Warm up (script cache, connection buffers, JIT) before taking the baselines.
    for (let i = 0; i < 1_000; i++) await (await manager.acquire(`warm:${i}`)).release();
    const baseKeys = await redis.dbsize();
    const baseMemory = await usedMemory();
    const baseHeap = heapUsedAfterGc();

    let next = 0;
    let maxFence = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < KEYS) {
          const lock = await manager.acquire(`order:${next++}`);
          maxFence = Math.max(maxFence, lock.fencingToken!);
          await lock.release();
        }
      }),
    );
    expect(maxFence).toBeGreaterThan(0);

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

    // Default retention is 0: the release deleted every key, nothing waits for an expiry.
    expect(await redis.dbsize()).toBe(baseKeys);
    // Allocator slack only (a fence key per lock would be ~15 MB here).
    expect((await usedMemory()) - baseMemory).toBeLessThan(512 * 1024);
    // Nothing per key in the process: well under 8 bytes per key released.
    expect(heapUsedAfterGc() - baseHeap).toBeLessThan(KEYS * 8);
    await manager.close();
  }, 60_000);
});
