import { setTimeout as sleep } from 'node:timers/promises';
import { LockBackendError, LockManager, LockTimeoutError } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { PrivateRedisServer } from '@dlock/testing/servers';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

// A call may start one last attempt just before its deadline; the command timeout bounds that reply.
const COMMAND_TIMEOUT_MS = 1_000;
const MARGIN_MS = COMMAND_TIMEOUT_MS + 1_500;
const cleanups: (() => Promise<void> | void)[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  // Clients first: a manager closing against a dead server would otherwise wait on its queued release.
  for (const redis of clients.splice(0)) redis.disconnect();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverWithWaiters(waitMs: number) {
  const server = await PrivateRedisServer.start();
  cleanups.push(() => server.stop());
  const client = () => {
    const redis = new Redis(server.port, '127.0.0.1');
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  const holder = new LockManager({
    backends: { spin: new RedisSpinLockBackend(client(), { commandTimeoutMs: COMMAND_TIMEOUT_MS }) },
  });
  // The holder is never released or closed: the server dies under it (its lease watch is unref'd).
  await holder.acquire('restart', { leaseMs: 60_000 });
  // 2 spin and 2 pub/sub servers, each with 2 waiting callers.
  const managers = [0, 1, 2, 3].map((index) => {
    const manager = new LockManager({
      backends: {
        main:
          index % 2
            ? new RedisSpinLockBackend(client(), { maxDelayMs: 50, commandTimeoutMs: COMMAND_TIMEOUT_MS })
            : new RedisPubSubLockBackend(client(), { commandTimeoutMs: COMMAND_TIMEOUT_MS }),
      },
    });
    cleanups.push(() => manager.close());
    return manager;
  });
  const startedAt = Date.now();
  const outcomes = managers.flatMap((manager) =>
    [0, 1].map(() =>
      manager
        .withLock('restart', { retry: { waitMs }, leaseMs: 5_000 }, async () => 'acquired' as const)
        .then(
          (value) => ({ value, settledAfter: Date.now() - startedAt }),
          (error: unknown) => ({ error, settledAfter: Date.now() - startedAt }),
        ),
    ),
  );
  await sleep(300);
  return { server, outcomes };
}

describe.sequential('Redis restarted while waiters wait (private redis-server)', () => {
  it('killed and restarted: every waiter recovers (the restart dropped the lock) or fails with LockBackendError', async () => {
    const waitMs = 6_000;
    const { server, outcomes } = await serverWithWaiters(waitMs);
    await server.kill();
    await sleep(500);
    await server.restart();
    const results = await Promise.all(outcomes);
    let acquired = 0;
    for (const result of results) {
      expect(result.settledAfter).toBeLessThan(waitMs + MARGIN_MS);
      if ('value' in result) acquired++;
      else expect(result.error).toBeInstanceOf(LockBackendError);
    }
    // Without persistence the restart freed the key, so waiters that survived took it in turn.
    expect(acquired).toBeGreaterThan(0);
  });

  it('killed and never back: every waiter settles by waitMs + margin with LockTimeoutError or LockBackendError', async () => {
    const waitMs = 1_500;
    const { server, outcomes } = await serverWithWaiters(waitMs);
    await server.kill();
    const results = await Promise.all(outcomes);
    for (const result of results) {
      expect(result.settledAfter).toBeLessThan(waitMs + MARGIN_MS);
      expect('error' in result).toBe(true);
      if ('error' in result) {
        expect(
          LockBackendError.isInstance(result.error) || LockTimeoutError.isInstance(result.error),
          String(result.error),
        ).toBe(true);
      }
    }
  });
});
