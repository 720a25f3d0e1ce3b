import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attemptRedisSharedLock,
  type RedisSharedLockTarget,
  redisLockKeys,
  redisSharedLockTarget,
  takeGrantedRedisPermit,
} from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:permit:${randomUUID().slice(0, 8)}:`;
const redis = new Redis(REDIS_URL);
const settings = {
  fenceRetentionMs: 0,
  handoffLeaseMs: 2_000,
  commandTimeoutMs: 5_000,
  publishCommand: 'PUBLISH',
  recordOwner: false,
} as const;
let counter = 0;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Two callers of one semaphore of 1 permit: the first holds it, the second queues. */
function pair(): { holder: RedisSharedLockTarget; waiter: RedisSharedLockTarget } {
  const keys = redisLockKeys(prefix, `key-${++counter}`);
  const of = (token: string) =>
    redisSharedLockTarget(
      { client: redis, keys, key: 'k', token, backend: 'test', settings },
      { type: 'semaphore', permits: 1 },
    );
  return { holder: of(randomUUID()), waiter: of(randomUUID()) };
}

/** The holder releases while the waiter is queued: the permit is granted to the waiter. */
async function grantToWaiter(): Promise<{ waiter: RedisSharedLockTarget; firstSentAt: number }> {
  const { holder, waiter } = pair();
  const held = await attemptRedisSharedLock(holder, { leaseMs: 10_000 });
  if (!held.acquired) throw new Error('holder did not get the permit');
  const firstSentAt = Date.now();
  expect(await attemptRedisSharedLock(waiter, { leaseMs: 10_000, queueWaitMs: 10_000 })).toMatchObject({
    acquired: false,
  });
  expect(await held.lock.release()).toBe(true);
  return { waiter, firstSentAt };
}

/** Remaining lease of `member`'s permit on the server, ms (NaN when it holds none). */
async function permitLeftMs(target: RedisSharedLockTarget): Promise<number> {
  const [score, [seconds, micros]] = await Promise.all([
    redis.zscore(target.semaphoreKeys.holders, target.member),
    redis.time(),
  ]);
  return Number(score) - (Number(seconds) * 1000 + Number(micros) / 1000);
}

describe('takeGrantedRedisPermit (a grant message proves the permit: no claim round trip)', () => {
  it('starts on the pickup lease and claims the full lease in the background', async () => {
    const { waiter, firstSentAt } = await grantToWaiter();
    expect(await permitLeftMs(waiter)).toBeLessThanOrEqual(2_000);
    const permit = takeGrantedRedisPermit(waiter, {
      fencingToken: 7,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 20,
    })!;
    expect(permit.fencingToken).toBe(7);
    expect(permit.expiresAt).toBe(firstSentAt + 2_000);
    await sleep(150);
    expect(await permitLeftMs(waiter)).toBeGreaterThan(20_000);
    expect(permit.expiresAt).toBeGreaterThan(Date.now() + 20_000);
    expect(permit.lostSignal?.aborted).toBe(false);
    expect(await permit.release()).toBe(true);
    expect(await redis.zscore(waiter.semaphoreKeys.holders, waiter.member)).toBeNull();
  });

  it('released before the claim: no claim is sent and the permit is free again', async () => {
    const { waiter, firstSentAt } = await grantToWaiter();
    const permit = takeGrantedRedisPermit(waiter, {
      fencingToken: 1,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 50,
    })!;
    expect(await permit.release()).toBe(true);
    await sleep(120);
    expect(await redis.zcard(waiter.semaphoreKeys.holders)).toBe(0);
  });

  it('the pickup lease ran out before the claim (a paused process): lostSignal aborts, nothing is taken', async () => {
    const { waiter, firstSentAt } = await grantToWaiter();
    const permit = takeGrantedRedisPermit(waiter, {
      fencingToken: 1,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 30,
    })!;
    await redis.zrem(waiter.semaphoreKeys.holders, waiter.member); // as if the pickup lease had ended
    await sleep(120);
    const lost = permit.lostSignal!;
    expect(lost.aborted).toBe(true);
    expect((lost.reason as Error).message).toContain('semaphore "k"');
    expect(await redis.zscore(waiter.semaphoreKeys.holders, waiter.member)).toBeNull();
    expect(await permit.release()).toBe(false);
  });

  it('declines when too little of the pickup lease is left, and for a read lock', async () => {
    const { waiter } = pair();
    expect(
      takeGrantedRedisPermit(waiter, {
        fencingToken: 1,
        firstSentAt: Date.now() - 1_500,
        leaseMs: 30_000,
        claimAfterMs: 20,
      }),
    ).toBeUndefined();
    const reader = redisSharedLockTarget(
      {
        client: redis,
        keys: redisLockKeys(prefix, 'read'),
        key: 'r',
        token: randomUUID(),
        backend: 'test',
        settings,
      },
      { type: 'read' },
    );
    expect(
      takeGrantedRedisPermit(reader, {
        fencingToken: 1,
        firstSentAt: Date.now(),
        leaseMs: 30_000,
        claimAfterMs: 20,
      }),
    ).toBeUndefined();
  });
});
