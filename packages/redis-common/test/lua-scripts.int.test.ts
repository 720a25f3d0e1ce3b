import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockBackendError } from '@dlock/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertRedisClient,
  attemptRedisLock,
  LUA_SCRIPTS,
  RELEASE_MESSAGE,
  redisLockKeys,
  runLuaScript,
  toLockBackendError,
} from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:common:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let counter = 0;
const freshKeys = () => redisLockKeys(prefix, `key-${++counter}`);

type AcquireReply = [0 | 1, number];
const acquire = (keys: ReturnType<typeof freshKeys>, token: string, leaseMs = 10_000, retentionMs = 60_000) =>
  runLuaScript(
    redis,
    LUA_SCRIPTS.acquire,
    [keys.lock, keys.fence],
    [token, leaseMs, retentionMs],
  ) as Promise<AcquireReply>;
const extend = (keys: ReturnType<typeof freshKeys>, token: string, leaseMs: number) =>
  runLuaScript(redis, LUA_SCRIPTS.extend, [keys.lock], [token, leaseMs]);
const release = (keys: ReturnType<typeof freshKeys>, token: string) =>
  runLuaScript(redis, LUA_SCRIPTS.release, [keys.lock, keys.channel], [token, RELEASE_MESSAGE]);

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  // Start with an empty script cache so the first call of every script takes the NOSCRIPT -> EVAL path.
  await redis.script('FLUSH');
});
afterAll(async () => {
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length) await redis.del(...leftovers);
  await redis.quit();
});

describe('generated lua-scripts.ts', () => {
  it('embeds every src/lua file verbatim, with its SHA1 and key count (run `pnpm generate` if this fails)', () => {
    const luaDir = join(import.meta.dirname, '..', 'src', 'lua');
    const files = readdirSync(luaDir).filter((file) => file.endsWith('.lua'));
    expect(Object.keys(LUA_SCRIPTS)).toHaveLength(files.length);
    for (const file of files) {
      const [, name, keys] = /^(.+)-(\d+)\.lua$/.exec(file)!;
      const script = LUA_SCRIPTS[name as keyof typeof LUA_SCRIPTS];
      const source = readFileSync(join(luaDir, file), 'utf8');
      expect(script.source).toBe(source);
      expect(script.numberOfKeys).toBe(Number(keys));
      expect(script.sha1).toBe(createHash('sha1').update(source).digest('hex'));
      expect(source.startsWith('--[[')).toBe(true);
      for (const section of ['KEYS[1]', 'ARGV[1]', 'Returns']) expect(source).toContain(section);
    }
  });
});

describe('Lua scripts against real Redis', () => {
  it('falls back to EVAL on NOSCRIPT, which loads the script for the next EVALSHA', async () => {
    await redis.script('FLUSH');
    expect(await redis.script('EXISTS', LUA_SCRIPTS.extend.sha1)).toEqual([0]);
    expect(await extend(freshKeys(), 'nobody', 1000)).toBe(0);
    expect(await redis.script('EXISTS', LUA_SCRIPTS.extend.sha1)).toEqual([1]);
  });

  it('acquire takes a free lock with the token and lease, and reports the PTTL when taken', async () => {
    const keys = freshKeys();
    const [status, fence] = await acquire(keys, 'token-a', 5000);
    expect(status).toBe(1);
    expect(fence).toBeGreaterThan(0);
    expect(await redis.get(keys.lock)).toBe('token-a');
    const ttl = await redis.pttl(keys.lock);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    const [taken, remaining] = await acquire(keys, 'token-b', 5000);
    expect(taken).toBe(0);
    expect(remaining).toBeGreaterThan(4000);
    expect(remaining).toBeLessThanOrEqual(5000);
    expect(await redis.get(keys.lock)).toBe('token-a');
  });

  it('extend with the wrong token returns 0 and leaves the lease alone; with ours it resets it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'owner', 1000);
    expect(await extend(keys, 'intruder', 60_000)).toBe(0);
    expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(1000);
    expect(await extend(keys, 'owner', 60_000)).toBe(1);
    expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
  });

  it('release with the wrong token returns 0, deletes nothing and publishes nothing', async () => {
    const keys = freshKeys();
    const subscriber = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
    const messages: string[] = [];
    subscriber.on('message', (_channel, message: string) => messages.push(message));
    await subscriber.subscribe(keys.channel);
    try {
      await acquire(keys, 'owner');
      expect(await release(keys, 'intruder')).toBe(0);
      expect(await redis.get(keys.lock)).toBe('owner');
      expect(await release(keys, 'owner')).toBe(1);
      expect(await redis.exists(keys.lock)).toBe(0);
      // Double release: the second one is refused and publishes nothing.
      expect(await release(keys, 'owner')).toBe(0);
      await sleep(100);
      expect(messages).toEqual([RELEASE_MESSAGE]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('after the lease expires another token takes the lock; the stale owner can neither release nor extend it', async () => {
    const keys = freshKeys();
    await acquire(keys, 'stale', 100);
    await sleep(250);
    expect((await acquire(keys, 'fresh'))[0]).toBe(1);
    expect(await release(keys, 'stale')).toBe(0);
    expect(await extend(keys, 'stale', 60_000)).toBe(0);
    expect(await redis.get(keys.lock)).toBe('fresh');
  });

  it('fencing tokens strictly increase, also after the fence key expired or was lost', async () => {
    const keys = freshKeys();
    const fences: number[] = [];
    for (let round = 0; round < 12; round++) {
      const [status, fence] = await acquire(keys, `t${round}`, 10_000, 50);
      expect(status).toBe(1);
      fences.push(fence);
      await release(keys, `t${round}`);
      if (round === 4) await redis.del(keys.fence);
      if (round === 8) await sleep(80); // fence key retention (50 ms) runs out
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    expect(fences.every(Number.isSafeInteger)).toBe(true);
    // The fence key expires after the retention instead of living forever.
    await sleep(80);
    expect(await redis.exists(keys.fence)).toBe(0);
  });

  it('many tokens racing for one key: exactly one wins per round', async () => {
    const keys = freshKeys();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => acquire(keys, `racer-${i}`)));
    expect(replies.filter(([status]) => status === 1)).toHaveLength(1);
  });
});

describe('attemptRedisLock', () => {
  it('returns a BackendLock whose release and extend go through the scripts', async () => {
    const keys = freshKeys();
    const attempt = await attemptRedisLock({
      client: redis,
      keys,
      key: 'k',
      token: 'me',
      leaseMs: 2000,
      backend: 'test',
    });
    expect(attempt.acquired).toBe(true);
    if (!attempt.acquired) return;
    expect(attempt.lock.expiresAt).toBeLessThanOrEqual(Date.now() + 2000);
    const other = await attemptRedisLock({
      client: redis,
      keys,
      key: 'k',
      token: 'you',
      leaseMs: 2000,
      backend: 'test',
    });
    expect(other).toMatchObject({ acquired: false });
    expect(await attempt.lock.extend(5000)).toBe(true);
    expect(await attempt.lock.release()).toBe(true);
    expect(await attempt.lock.release()).toBe(false);
  });

  it('an attempt abandoned by its signal hands a late grant straight back', async () => {
    const keys = freshKeys();
    const controller = new AbortController();
    const reason = new Error('gave up');
    const pending = attemptRedisLock({
      client: redis,
      keys,
      key: 'k',
      token: 'late',
      leaseMs: 60_000,
      backend: 'test',
      signal: controller.signal,
    });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await sleep(100);
    expect(await redis.exists(keys.lock)).toBe(0);
  });

  it('an unreachable Redis: a waiting attempt gives up at its deadline, a try-once one after commandTimeoutMs', async () => {
    // Commands to a server that never answers sit in ioredis' offline queue.
    const unreachable = new Redis({
      port: 1,
      lazyConnect: true,
      retryStrategy: () => 200,
      maxRetriesPerRequest: null,
    });
    unreachable.on('error', () => {});
    const base = {
      client: unreachable,
      keys: freshKeys(),
      key: 'k',
      token: 'me',
      leaseMs: 1000,
      backend: 'test',
    };
    try {
      let startedAt = Date.now();
      expect(await attemptRedisLock({ ...base, deadline: Date.now() + 150 })).toEqual({
        acquired: false,
        remainingLeaseMs: -1,
        deadlinePassed: true,
      });
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      startedAt = Date.now();
      const error = await attemptRedisLock({ ...base, commandTimeoutMs: 150 }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(LockBackendError);
      expect((error as LockBackendError).isRetryable).toBe(true);
      expect((error as Error).message).toMatch(/commandTimeoutMs/);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    } finally {
      unreachable.disconnect();
    }
  });

  it('wraps a server error in a non-retryable LockBackendError that keeps the cause', async () => {
    const keys = freshKeys();
    await redis.hset(keys.fence, 'not', 'a counter');
    const attempt = attemptRedisLock({
      client: redis,
      keys,
      key: 'k',
      token: 'me',
      leaseMs: 1000,
      backend: 'test',
    });
    await expect(attempt).rejects.toBeInstanceOf(LockBackendError);
    const error = (await attempt.catch((caught: unknown) => caught)) as LockBackendError;
    expect(error.isRetryable).toBe(false);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toMatch(/WRONGTYPE/);
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

describe('assertRedisClient', () => {
  it('rejects non-clients, subscriber connections and closed clients', async () => {
    expect(() => assertRedisClient({}, 'test')).toThrow(/ioredis Redis or Cluster/);
    // Under RESP3 (the ioredis 6 default) a subscribed connection still runs commands; under RESP2 it cannot.
    const subscriber = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false, protocol: 2 });
    await subscriber.subscribe(`${prefix}sub`);
    expect(() => assertRedisClient(subscriber, 'test')).toThrow(/subscriber mode/);
    subscriber.disconnect();
    const closed = redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
    await closed.quit();
    await once(closed, 'end');
    expect(() => assertRedisClient(closed, 'test')).toThrow(LockBackendError);
  });
});
