import type { LockManager } from '@dlock/core';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { heapUsedAfterGc } from '../heap-used.js';

/** A private redis-server and one client of it, from {@link usePrivateRedis}. */
export interface PrivateRedis {
  readonly server: PrivateRedisServer;
  /** Connected before the tests run; no offline queue, so a command during a restart fails at once. */
  readonly redis: Redis;
  /**
   * Warm `manager` up (1000 keys: script cache, connection buffers, JIT), take the baselines, then
   * lock and release `keys` distinct keys (`order:<n>`), `inFlight` at a time, run `andThen` (more
   * traffic that must leave nothing behind either), and check that nothing per key is left: no
   * Redis key, no Redis memory past allocator slack, no heap past a few bytes per key.
   */
  expectNothingLeftPerKey(
    manager: LockManager,
    options: { readonly keys: number; readonly inFlight: number; readonly andThen?: () => Promise<void> },
  ): Promise<void>;
}

/**
 * Start a private redis-server (no persistence) and connect a client before a test file's tests;
 * disconnect and stop it (by PID) after them. Nothing else talks to it, so `DBSIZE` and
 * `used_memory` count only the file's own traffic. Returns an accessor, since the server exists
 * only once `beforeAll` ran.
 *
 * @example
 * const privateRedis = usePrivateRedis();
 * it('...', async () => { const { redis, usedMemory } = privateRedis(); });
 */
export function usePrivateRedis(): () => PrivateRedis {
  let started: PrivateRedis | undefined;
  beforeAll(async () => {
    const server = await PrivateRedisServer.start();
    const redis = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    const usedMemory = async () => {
      const info = await redis.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)![1]);
    };
    started = {
      server,
      redis,
      async expectNothingLeftPerKey(manager, { keys, inFlight, andThen }) {
        let maxFencingToken = 0;
        /** `count` distinct keys locked and released, `inFlight` at a time. */
        const churn = async (name: string, count: number) => {
          let next = 0;
          await Promise.all(
            Array.from({ length: inFlight }, async () => {
              while (next < count) {
                const lock = await manager.acquire(`${name}:${next++}`);
                maxFencingToken = Math.max(maxFencingToken, lock.fencingToken ?? 0);
                await lock.release();
              }
            }),
          );
        };
        // Warm-up on the same path, so that what V8 compiles and caches for it once (a few hundred
        // KB, more on a loaded machine where tiering happens later) is in the baseline, not counted
        // as per-key memory.
        await churn('warm', Math.ceil(keys / 10));
        const baseKeys = await redis.dbsize();
        const baseMemory = await usedMemory();
        const baseHeap = heapUsedAfterGc();
        await churn('order', keys);
        await andThen?.();
        expect(maxFencingToken).toBeGreaterThan(0);
        // Default retention is 0: the release deleted every key, nothing waits for an expiry.
        expect(await redis.dbsize()).toBe(baseKeys);
        // Allocator slack only (a fence key per lock would be ~15 MB here).
        expect((await usedMemory()) - baseMemory).toBeLessThan(512 * 1024);
        // Nothing per key in the process: well under 8 bytes per key released.
        expect(heapUsedAfterGc() - baseHeap).toBeLessThan(keys * 8);
      },
    };
    await redis.connect();
  }, 30_000);
  afterAll(async () => {
    started?.redis.disconnect();
    await started?.server.stop();
  });
  return () => {
    if (!started) throw new Error('The private Redis is not started yet (use it inside tests or hooks).');
    return started;
  };
}
