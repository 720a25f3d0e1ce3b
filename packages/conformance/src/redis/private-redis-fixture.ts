import type { LockManager } from '@dlock/core';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { heapUsedAfterGc } from '../heap-used.js';

/** What {@link PrivateRedis.churn} measured: growth from a warm baseline to after the last release. */
export interface KeyChurnGrowth {
  /** The highest fencing token handed out (0 without tokens). */
  readonly maxFencingToken: number;
  /** Keys in Redis (`DBSIZE`) left over. */
  readonly keys: number;
  /** Bytes of Redis `used_memory` left over. */
  readonly usedMemoryBytes: number;
  /** Bytes of this process's heap left over (after full collections). */
  readonly heapBytes: number;
}

/** A private redis-server and one client of it, from {@link usePrivateRedis}. */
export interface PrivateRedis {
  readonly server: PrivateRedisServer;
  /** Connected before the tests run; no offline queue, so a command during a restart fails at once. */
  readonly redis: Redis;
  /** The server's `used_memory` (INFO memory), in bytes. */
  usedMemory(): Promise<number>;
  /**
   * Warm `manager` up (1000 keys: script cache, connection buffers, JIT), take the baselines, then
   * lock and release `keys` distinct keys (`order:<n>`), `inFlight` at a time, run `andThen` (more
   * traffic that must leave nothing behind either), and say what grew.
   */
  churn(
    manager: LockManager,
    options: { readonly keys: number; readonly inFlight: number; readonly andThen?: () => Promise<void> },
  ): Promise<KeyChurnGrowth>;
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
      usedMemory,
      async churn(manager, { keys, inFlight, andThen }) {
        for (let i = 0; i < 1_000; i++) await (await manager.acquire(`warm:${i}`)).release();
        const baseKeys = await redis.dbsize();
        const baseMemory = await usedMemory();
        const baseHeap = heapUsedAfterGc();
        let next = 0;
        let maxFencingToken = 0;
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < keys) {
              const lock = await manager.acquire(`order:${next++}`);
              maxFencingToken = Math.max(maxFencingToken, lock.fencingToken ?? 0);
              await lock.release();
            }
          }),
        );
        await andThen?.();
        return {
          maxFencingToken,
          keys: (await redis.dbsize()) - baseKeys,
          usedMemoryBytes: (await usedMemory()) - baseMemory,
          heapBytes: heapUsedAfterGc() - baseHeap,
        };
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
