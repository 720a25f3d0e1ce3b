import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** A private redis-server and one client of it, from {@link usePrivateRedis}. */
export interface PrivateRedis {
  readonly server: PrivateRedisServer;
  /** Connected before the tests run; no offline queue, so a command during a restart fails at once. */
  readonly redis: Redis;
  /** The server's `used_memory` (INFO memory), in bytes. */
  usedMemory(): Promise<number>;
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
    started = {
      server,
      redis,
      async usedMemory() {
        const info = await redis.info('memory');
        return Number(/used_memory:(\d+)/.exec(info)![1]);
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
