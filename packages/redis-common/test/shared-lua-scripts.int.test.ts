import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runAcquireScript,
  runReleaseScript,
  runRwReadAcquireScript,
  runRwReadExtendScript,
  runRwReadReleaseScript,
  runSemaphoreAcquireScript,
  runSemaphoreExtendScript,
  runSemaphoreReleaseScript,
} from '../src/generated/lua-scripts.js';
import { parseRedisLockValue, redisLockKeys, redisReadLockKeys, redisSemaphoreKeys } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:shared-lua:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let counter = 0;
const lockKeysOf = () => redisLockKeys(prefix, `key-${++counter}`);
const HANDOFF = 2_000;
const pub = { handoffLeaseMs: HANDOFF, publishCommand: 'PUBLISH' as const };

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  // Every script below starts on EVALSHA -> NOSCRIPT -> EVAL.
  await redis.script('FLUSH');
});
afterAll(() => redis.disconnect());

async function keysLeft(lock: string): Promise<string[]> {
  return redis.keys(`${lock.replace(/([*?[\]])/g, '\\$1')}*`);
}

describe('semaphore scripts', () => {
  const acquire = (
    keys: ReturnType<typeof redisSemaphoreKeys>,
    token: string,
    permits: number,
    leaseMs = 10_000,
    queueWaitMs = 0,
  ) => runSemaphoreAcquireScript(redis, keys, { token, leaseMs, queueWaitMs, permits, ...pub });
  const release = (keys: ReturnType<typeof redisSemaphoreKeys>, token: string, permits: number) =>
    runSemaphoreReleaseScript(redis, keys, { token, permits, ...pub });

  it('grants permits up to the limit, refuses a mismatch, and a wrong-token or double release frees nothing', async () => {
    const keys = redisSemaphoreKeys(lockKeysOf());
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect((await acquire(keys, a, 2))[0]).toBe(1);
    expect((await acquire(keys, b, 2))[0]).toBe(1);
    expect((await acquire(keys, c, 2))[0]).toBe(0);
    expect(await acquire(keys, c, 3)).toEqual([2, 2]);
    expect(await release(keys, c, 2)).toBe(false);
    expect(await release(keys, a, 2)).toBe(true);
    expect(await release(keys, a, 2)).toBe(false);
    expect((await acquire(keys, c, 2))[0]).toBe(1);
    expect((await acquire(keys, a, 2))[0]).toBe(0);
  });

  it('a release grants the permit to the head of the queue and publishes one message naming it', async () => {
    const lockKeys = lockKeysOf();
    const keys = redisSemaphoreKeys(lockKeys);
    const [holder, first, second] = [randomUUID(), randomUUID(), randomUUID()];
    await acquire(keys, holder, 1);
    expect((await acquire(keys, first, 1, 10_000, 5_000))[0]).toBe(0);
    expect((await acquire(keys, second, 1, 10_000, 5_000))[0]).toBe(0);
    const subscriber = redis.duplicate({ lazyConnect: true });
    await subscriber.connect();
    const messages: string[] = [];
    await subscriber.subscribe(keys.channel);
    subscriber.on('message', (_channel, message) => messages.push(message));
    expect(await release(keys, holder, 1)).toBe(true);
    await sleep(50);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(new RegExp(`^\\d+:${first}$`));
    // The second waiter cannot barge; the first claims with its own lease.
    expect((await acquire(keys, second, 1, 10_000, 5_000))[0]).toBe(0);
    const claimed = await acquire(keys, first, 1, 10_000);
    expect(claimed[0]).toBe(1);
    expect(claimed[1]).toBeGreaterThan(Number(messages[0]!.split(':')[0]));
    subscriber.disconnect();
    expect(await release(keys, first, 1)).toBe(true);
    expect((await acquire(keys, second, 1))[0]).toBe(1);
    expect(await release(keys, second, 1)).toBe(true);
    // Nobody holds or waits: only the meta (the fence) is left, for a second.
    expect(await keysLeft(lockKeys.lock)).toEqual([keys.meta]);
  });

  it("an expired holder cannot extend or release; its permit is someone else's", async () => {
    const keys = redisSemaphoreKeys(lockKeysOf());
    const [stale, fresh] = [randomUUID(), randomUUID()];
    await acquire(keys, stale, 1, 100);
    await sleep(150);
    expect((await acquire(keys, fresh, 1))[0]).toBe(1);
    expect(await runSemaphoreExtendScript(redis, keys, { token: stale, leaseMs: 10_000 })).toBe(false);
    expect(await release(keys, stale, 1)).toBe(false);
    expect((await acquire(keys, randomUUID(), 1))[0]).toBe(0);
    expect(await runSemaphoreExtendScript(redis, keys, { token: fresh, leaseMs: 10_000 })).toBe(true);
  });
});

describe('read-lock scripts on the mutex keys', () => {
  const readAcquire = (
    keys: ReturnType<typeof redisReadLockKeys>,
    member: string,
    leaseMs = 10_000,
    queueWaitMs = 0,
  ) => runRwReadAcquireScript(redis, keys, { member, leaseMs, queueWaitMs, ...pub });
  const readRelease = (keys: ReturnType<typeof redisReadLockKeys>, member: string) =>
    runRwReadReleaseScript(redis, keys, { member, ...pub });
  const writeAcquire = (keys: ReturnType<typeof redisLockKeys>, token: string, queueWaitMs = 0) =>
    runAcquireScript(redis, keys, {
      token,
      leaseMs: 10_000,
      queueWaitMs,
      ownerRecord: '{}',
      queued: 0,
      ...pub,
    });
  const writeRelease = (keys: ReturnType<typeof redisLockKeys>, token: string) =>
    runReleaseScript(redis, keys, { token, fenceRetentionMs: 0, ownerRecord: '{}', ...pub }).then(
      (reply) => reply !== 0,
    );

  it('readers share; the mutex scripts see the key held, and readers see a mutex holder', async () => {
    const lockKeys = lockKeysOf();
    const keys = redisReadLockKeys(lockKeys);
    const [r1, r2, w] = [`r:${randomUUID()}`, `r:${randomUUID()}`, randomUUID()];
    const first = await readAcquire(keys, r1);
    const second = await readAcquire(keys, r2);
    expect(first[0]).toBe(1);
    expect(second[0]).toBe(1);
    expect(second[1]).toBeGreaterThan(first[1]);
    expect(parseRedisLockValue(await redis.get(lockKeys.lock))?.owner).toBe('*readers*');
    // Taken, with no holder fence: each reader draws one, so a spinning writer must not read a
    // stream of readers as the lock changing hands.
    expect(await writeAcquire(lockKeys, w)).toEqual([0, -1]);
    // A mutex release under a wrong token leaves the readers alone.
    expect(await writeRelease(lockKeys, w)).toBe(false);
    expect(await readRelease(keys, r1)).toBe(true);
    expect(await readRelease(keys, r1)).toBe(false);
    expect(await readRelease(keys, r2)).toBe(true);
    expect(await keysLeft(lockKeys.lock)).toEqual([]);
    const writer = await writeAcquire(lockKeys, w);
    expect(writer[0]).toBe(1);
    expect((await readAcquire(keys, r1))[0]).toBe(0);
    expect(await writeRelease(lockKeys, w)).toBe(true);
  });

  it('the last reader out hands the key to a queued writer; readers behind the writer wait, then go in together', async () => {
    const lockKeys = lockKeysOf();
    const keys = redisReadLockKeys(lockKeys);
    const [r1, r2, r3, w] = [`r:${randomUUID()}`, `r:${randomUUID()}`, `r:${randomUUID()}`, randomUUID()];
    await readAcquire(keys, r1);
    expect((await writeAcquire(lockKeys, w, 5_000))[0]).toBe(0);
    // A waiting writer keeps a later reader out, even a try-once one.
    expect((await readAcquire(keys, r2))[0]).toBe(0);
    expect((await readAcquire(keys, r2, 10_000, 5_000))[0]).toBe(0);
    expect((await readAcquire(keys, r3, 10_000, 5_000))[0]).toBe(0);
    expect(await readRelease(keys, r1)).toBe(true);
    expect(parseRedisLockValue(await redis.get(lockKeys.lock))?.owner).toBe(w);
    expect((await writeAcquire(lockKeys, w))[0]).toBe(1);
    // The writer's release (the mutex script) hands the key to the first queued reader ...
    expect(await writeRelease(lockKeys, w)).toBe(true);
    expect(parseRedisLockValue(await redis.get(lockKeys.lock))?.owner).toBe(r2);
    // ... whose claim opens a read phase and admits the reader queued right behind it.
    expect((await readAcquire(keys, r2))[0]).toBe(1);
    expect(await redis.zscore(keys.readers, r3)).not.toBeNull();
    expect((await readAcquire(keys, r3))[0]).toBe(1);
    expect(await runRwReadExtendScript(redis, keys, { member: r3, leaseMs: 10_000 })).toBe(true);
    expect(await readRelease(keys, r2)).toBe(true);
    expect(await readRelease(keys, r3)).toBe(true);
    expect(await keysLeft(lockKeys.lock)).toEqual([]);
  });

  it("a reader whose lease ran out cannot extend or release the next holder's lock", async () => {
    const lockKeys = lockKeysOf();
    const keys = redisReadLockKeys(lockKeys);
    const [stale, w] = [`r:${randomUUID()}`, randomUUID()];
    await readAcquire(keys, stale, 100);
    await sleep(150);
    expect((await writeAcquire(lockKeys, w))[0]).toBe(1);
    expect(await runRwReadExtendScript(redis, keys, { member: stale, leaseMs: 10_000 })).toBe(false);
    expect(await readRelease(keys, stale)).toBe(false);
    expect(parseRedisLockValue(await redis.get(lockKeys.lock))?.owner).toBe(w);
    expect(await writeRelease(lockKeys, w)).toBe(true);
  });
});
