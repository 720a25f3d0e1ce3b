import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockBackendError } from '@dlock/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptRedisLock,
  leaveRedisLockQueue,
  parseRedisLockValue,
  type RedisLockClient,
  type RedisLockTarget,
  redisLockKeys,
  takeHandedOverRedisLock,
  toLockBackendError,
} from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:attempt:${randomUUID().slice(0, 8)}:`;
const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
let counter = 0;

function target(overrides: Partial<RedisLockTarget> = {}): RedisLockTarget {
  return {
    client: redis,
    keys: redisLockKeys(prefix, `key-${++counter}`),
    key: 'k',
    token: randomUUID(),
    ownerRecord: '{"a":"attempt-test"}',
    backend: 'test',
    settings: {
      fenceRetentionMs: 0,
      handoffLeaseMs: 2_000,
      commandTimeoutMs: 5_000,
      publishCommand: 'PUBLISH',
      recordOwner: true,
    },
    ...overrides,
  };
}

/** A client that runs every command on `redis` but answers `reply` instead of the real reply. */
function clientAnswering(reply: unknown): RedisLockClient {
  return new Proxy(redis, {
    get(real, property, receiver) {
      if (property === 'evalsha' || property === 'eval') {
        return async (...args: unknown[]) => {
          await (real[property] as (...a: unknown[]) => Promise<unknown>)(...args);
          return reply;
        };
      }
      const value: unknown = Reflect.get(real, property, receiver);
      return typeof value === 'function' ? value.bind(real) : value;
    },
  });
}

beforeAll(async () => {
  await redis.ping().catch(async () => {
    await new Promise((resolve) => redis.once('ready', resolve));
  });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** A holder with `waiter` queued behind it releases: the lock is handed to the waiter. Returns the fence. */
async function handOffTo(waiter: RedisLockTarget): Promise<number> {
  const holder = { ...waiter, token: randomUUID() };
  const held = await attemptRedisLock(holder, { leaseMs: 10_000 });
  if (!held.acquired) throw new Error('holder did not get the lock');
  expect(await attemptRedisLock(waiter, { leaseMs: 10_000, queueWaitMs: 10_000 })).toMatchObject({
    acquired: false,
  });
  expect(await held.lock.release()).toBe(true);
  return parseRedisLockValue(await redis.get(waiter.keys.lock))!.fencingToken;
}

describe('takeHandedOverRedisLock (a handoff message proves ownership: no claim round trip)', () => {
  it('starts on the pickup lease and claims the full lease in the background', async () => {
    const mine = target();
    const firstSentAt = Date.now();
    const fence = await handOffTo(mine);
    const lock = takeHandedOverRedisLock(mine, {
      fencingToken: fence,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 20,
    })!;
    expect(lock.fencingToken).toBe(fence);
    expect(lock.expiresAt).toBe(firstSentAt + 2_000);
    expect(await redis.pttl(mine.keys.lock)).toBeLessThanOrEqual(2_000);
    await sleep(150);
    expect(await redis.pttl(mine.keys.lock)).toBeGreaterThan(20_000);
    expect(lock.expiresAt).toBeGreaterThan(Date.now() + 20_000);
    expect(lock.lostSignal?.aborted).toBe(false);
    expect(await lock.release()).toBe(true);
    expect(await redis.exists(mine.keys.lock)).toBe(0);
  });

  it('released before the claim: no claim is sent, and nothing takes the free lock again', async () => {
    const mine = target();
    const firstSentAt = Date.now();
    const fence = await handOffTo(mine);
    const lock = takeHandedOverRedisLock(mine, {
      fencingToken: fence,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 50,
    })!;
    expect(await lock.release()).toBe(true);
    await sleep(120);
    expect(await redis.exists(mine.keys.lock)).toBe(0);
  });

  it('the pickup lease ran out before the claim (a paused process): lostSignal aborts, nothing is taken', async () => {
    const mine = target();
    const firstSentAt = Date.now();
    const fence = await handOffTo(mine);
    const lock = takeHandedOverRedisLock(mine, {
      fencingToken: fence,
      firstSentAt,
      leaseMs: 30_000,
      claimAfterMs: 30,
    })!;
    await redis.del(mine.keys.lock); // as if the pickup lease had expired
    await sleep(120);
    expect(lock.lostSignal?.aborted).toBe(true);
    expect(await redis.exists(mine.keys.lock)).toBe(0);
    expect(await lock.release()).toBe(false);
  });

  it('declines when less than half the pickup lease is left (the caller claims with an attempt instead)', () => {
    const mine = target();
    const longAgo = Date.now() - 1_500;
    expect(
      takeHandedOverRedisLock(mine, {
        fencingToken: 1,
        firstSentAt: longAgo,
        leaseMs: 30_000,
        claimAfterMs: 20,
      }),
    ).toBeUndefined();
  });
});

describe('attemptRedisLock', () => {
  it('returns a BackendLock whose release and extend go through the scripts', async () => {
    const mine = target();
    const attempt = await attemptRedisLock(mine, { leaseMs: 2_000 });
    expect(attempt.acquired).toBe(true);
    if (!attempt.acquired) return;
    expect(attempt.lock.expiresAt).toBeLessThanOrEqual(Date.now() + 2_000);
    const other = await attemptRedisLock({ ...mine, token: 'you' }, { leaseMs: 2_000 });
    expect(other).toMatchObject({ acquired: false });
    expect(await attempt.lock.extend(5_000)).toBe(true);
    expect(await attempt.lock.release()).toBe(true);
    expect(await attempt.lock.release()).toBe(false);
  });

  it('a lock taken with a deadline extends and releases long after that deadline', async () => {
    // Regression: the acquire deadline travelled into extend/release and made them give up at once.
    const mine = target();
    const attempt = await attemptRedisLock(mine, {
      leaseMs: 2_000,
      deadline: Date.now() + 20,
      queueWaitMs: 20,
    });
    expect(attempt.acquired).toBe(true);
    if (!attempt.acquired) return;
    await sleep(60);
    expect(await attempt.lock.extend(2_000)).toBe(true);
    expect(await attempt.lock.release()).toBe(true);
  });

  it('an attempt abandoned by its signal hands a late grant straight back', async () => {
    const mine = target();
    const controller = new AbortController();
    const reason = new Error('gave up');
    const pending = attemptRedisLock(mine, { leaseMs: 60_000, signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await sleep(100);
    expect(await redis.exists(mine.keys.lock)).toBe(0);
  });

  it('works with ioredis stringNumbers: fencing tokens are numbers, release is not mistaken for a loss', async () => {
    const stringy = new Redis(REDIS_URL, { stringNumbers: true });
    try {
      const mine = target({ client: stringy });
      const attempt = await attemptRedisLock(mine, { leaseMs: 2_000 });
      expect(attempt.acquired).toBe(true);
      if (!attempt.acquired) return;
      expect(Number.isSafeInteger(attempt.lock.fencingToken)).toBe(true);
      const other = await attemptRedisLock({ ...mine, token: 'you' }, { leaseMs: 2_000, queueWaitMs: 1_000 });
      expect(other.acquired === false && other.remainingLeaseMs > 0).toBe(true);
      await leaveRedisLockQueue({ ...mine, token: 'you' });
      expect(await attempt.lock.extend(2_000)).toBe(true);
      expect(await attempt.lock.release()).toBe(true);
    } finally {
      stringy.disconnect();
    }
  });

  it('a reply that cannot be read after the script granted the lock: LockBackendError, and the lock is freed', async () => {
    const mine = target({ client: clientAnswering('garbage') });
    const error = await attemptRedisLock(mine, { leaseMs: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as Error).message).toMatch(/Unexpected reply/);
    await sleep(100);
    expect(await redis.exists(mine.keys.lock)).toBe(0);
  });

  it('wraps a server error in a non-retryable LockBackendError that keeps the cause', async () => {
    const mine = target();
    await redis.hset(mine.keys.lock, 'not', 'a lock'); // SET ... GET on a hash: WRONGTYPE
    const error = (await attemptRedisLock(mine, { leaseMs: 1_000 }).catch(
      (caught: unknown) => caught,
    )) as LockBackendError;
    expect(error).toBeInstanceOf(LockBackendError);
    expect(error.isRetryable).toBe(false);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toMatch(/WRONGTYPE/);
    expect(error.message).toContain('127.0.0.1:6379');
  });
});

describe('attemptRedisLock against an unreachable Redis', () => {
  // Commands to a server that refuses connections sit in ioredis' offline queue.
  function unreachableClient(): Redis {
    const client = new Redis({ port: 1, retryStrategy: () => 100, maxRetriesPerRequest: null });
    client.on('error', () => {});
    return client;
  }

  it('try-once fails at once with the address and the connection error as cause', async () => {
    const client = unreachableClient();
    try {
      const mine = target({ client });
      // The first attempt learns the state; the next one must not wait commandTimeoutMs.
      await attemptRedisLock(mine, { leaseMs: 1_000, deadline: Date.now() + 300 }).catch(() => {});
      const startedAt = Date.now();
      const error = (await attemptRedisLock(mine, { leaseMs: 1_000 }).catch(
        (caught: unknown) => caught,
      )) as LockBackendError;
      expect(Date.now() - startedAt).toBeLessThan(500);
      expect(error).toBeInstanceOf(LockBackendError);
      expect(error.isRetryable).toBe(true);
      expect(error.message).toMatch(/Redis at localhost:1 is unreachable/);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      client.disconnect();
    }
  });

  it('a wait shorter than commandTimeoutMs fails at its deadline with LockBackendError, not a timeout', async () => {
    const client = unreachableClient();
    try {
      const startedAt = Date.now();
      const error = (await attemptRedisLock(target({ client }), {
        leaseMs: 1_000,
        deadline: Date.now() + 300,
      }).catch((caught: unknown) => caught)) as LockBackendError;
      expect(error).toBeInstanceOf(LockBackendError);
      expect(error.message).toMatch(/localhost:1/);
      expect(error.cause).toBeInstanceOf(Error);
      expect(Date.now() - startedAt).toBeLessThan(1_500);
    } finally {
      client.disconnect();
    }
  });

  it('a server that never answers: no reply within commandTimeoutMs is a retryable LockBackendError', async () => {
    // A listener that accepts and never replies: what a blackholed link looks like to the client.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new Redis({
      port: (silent.address() as AddressInfo).port,
      host: '127.0.0.1',
      lazyConnect: true,
    });
    client.on('error', () => {});
    try {
      const mine = target({
        client,
        settings: { ...target().settings, commandTimeoutMs: 150 },
      });
      const startedAt = Date.now();
      const error = await attemptRedisLock(mine, { leaseMs: 1_000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LockBackendError);
      expect((error as LockBackendError).isRetryable).toBe(true);
      expect((error as Error).message).toMatch(/did not answer within 150 ms/);
      expect(Date.now() - startedAt).toBeLessThan(1_500);
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('marks connection failures as retryable', async () => {
    const offline = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    offline.on('error', () => {});
    const error = toLockBackendError(await offline.get('x').catch((caught: unknown) => caught), {
      backend: 'test',
      key: 'k',
      action: 'acquiring',
    });
    expect(LockBackendError.isInstance(error) && error.isRetryable).toBe(true);
    offline.disconnect();
  });
});
