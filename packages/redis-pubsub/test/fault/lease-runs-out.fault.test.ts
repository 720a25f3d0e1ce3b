import { setTimeout as sleep } from 'node:timers/promises';
import { LockLostError, LockManager } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

let server: PrivateRedisServer;
const clients: Redis[] = [];
const client = () => {
  const redis = new Redis(server.port, '127.0.0.1');
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
};
beforeAll(async () => {
  server = await PrivateRedisServer.start();
});
afterAll(async () => {
  for (const redis of clients) redis.disconnect();
  await server.stop();
});

describe.sequential('holder connection killed and the lease runs out (private redis-server, CLIENT PAUSE)', () => {
  it.each(['spin', 'pubsub'] as const)(
    '%s: renewal reports the loss: signal aborted, LockLostError, lost event',
    async (kind) => {
      const holderClient = client();
      const admin = client();
      const backend =
        kind === 'spin' ? new RedisSpinLockBackend(holderClient) : new RedisPubSubLockBackend(holderClient);
      const manager = new LockManager({ backends: { main: backend } });
      const other = new LockManager({ backends: { main: new RedisPubSubLockBackend(client()) } });
      const key = `lease-runs-out:${kind}`;
      const lost: string[] = [];
      manager.on('lost', (event) => lost.push(event.key));
      let firstFence: number | undefined;

      const holding = manager.withLock(key, { leaseMs: 600 }, async (scope) => {
        firstFence = scope.locks[0]!.fencingToken;
        // Cut the holder's connection and keep Redis from answering anyone for longer than the lease:
        // the renewal cannot get through, so the lease runs out.
        await admin.client('KILL', 'ID', String(await holderClient.client('ID')));
        await admin.client('PAUSE', 1_500, 'ALL');
        await new Promise<void>((resolve) =>
          scope.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        expect(scope.signal.reason).toBeInstanceOf(LockLostError);
        return 'finished';
      });
      await expect(holding).rejects.toBeInstanceOf(LockLostError);
      expect(lost).toEqual([key]);
      // Once Redis answers again the expired key is free: another server takes it with a higher fence.
      const next = await other.acquire(key, { retry: { waitMs: 5_000 } });
      expect(next.fencingToken).toBeGreaterThan(firstFence!);
      await next.release();
      await Promise.all([manager.close(), other.close()]);
      await sleep(50);
    },
  );
});
