// A master of a private 3-master Redis Cluster is SIGKILLed while callers wait for locks on it:
// every waiter settles by its waitMs (plus one command timeout) with a typed LockError, none hangs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { usePrivateRedisCluster } from '@dlock/conformance';
import { LockError, LockManager } from '@dlock/core';
import { redisLockKeys } from '@dlock/redis-common';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../../src/index.js';

const cluster = usePrivateRedisCluster();

it('a master killed during contention leaves no waiter hanging past its waitMs', async () => {
  const victim = 1;
  let key = '';
  do key = `test:cluster-kill:${randomUUID()}`;
  while ((await cluster().ownerOf(redisLockKeys('dlock:', key).lock)) !== victim);

  const commandTimeoutMs = 1_000;
  const waitMs = 3_000;
  const managers = Array.from(
    { length: 3 },
    () =>
      new LockManager({
        backends: {
          spin: new RedisSpinLockBackend(cluster().client(), { commandTimeoutMs }),
          pubsub: new RedisPubSubLockBackend(cluster().client(), { commandTimeoutMs }),
        },
      }),
  );
  // Settled here, not only at the end: whatever the holder meets (the kill ends its lease watch, or
  // a cold cluster client refuses its first try) must not surface as an unhandled rejection.
  const holding = managers[0]!.withLock(key, { leaseMs: 60_000 }, () => sleep(1_000)).catch(() => {});
  await sleep(100);
  const startedAt = Date.now();
  const waiters = managers.flatMap((manager) =>
    (['spin', 'pubsub'] as const).map((backend) =>
      manager
        .withLock(key, { backend, retry: { waitMs } }, async () => 'ran')
        .then(
          () => 'acquired' as const,
          (error: unknown) => error,
        ),
    ),
  );
  await sleep(300);
  await cluster().kill(victim);
  const outcomes = await Promise.all(waiters);
  const settledAfter = Date.now() - startedAt;
  await holding;
  // Margin: the attempt in flight at the deadline may wait one command timeout, plus scheduling.
  expect(settledAfter).toBeLessThan(waitMs + commandTimeoutMs + 3_000);
  for (const outcome of outcomes) {
    if (outcome !== 'acquired') expect(LockError.isInstance(outcome), String(outcome)).toBe(true);
  }
  await Promise.all(managers.map((manager) => manager.close()));
}, 30_000);
