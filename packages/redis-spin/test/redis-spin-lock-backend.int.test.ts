import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, backendRequest as request } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { InvalidLockOptionsError, LockBackendError, LockManager } from '@dlock/core';
import { LUA_SCRIPTS, parseRedisLockValue, redisLockKeys } from '@dlock/redis-common';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisSpinLockBackend, type RedisSpinLockBackendOptions } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('spin');
let counter = 0;
const freshKey = () => `key-${++counter}`;

/** Count lock-script round trips a client sends: EVALSHA, and EVAL after NOSCRIPT. */
function countScriptCalls(client: Redis): { evalsha: () => number; total: () => number } {
  const evalsha = vi.spyOn(client, 'evalsha');
  const evalCall = vi.spyOn(client, 'eval');
  return {
    evalsha: () => evalsha.mock.calls.length,
    total: () => evalsha.mock.calls.length + evalCall.mock.calls.length,
  };
}

describe('RedisSpinLockBackend', () => {
  it('try-once on a held key costs exactly one round trip', async () => {
    const [holderClient, client] = [newClient(), newClient()];
    const holder = new RedisSpinLockBackend(holderClient, { keyPrefix });
    const backend = new RedisSpinLockBackend(client, { keyPrefix });
    const key = freshKey();
    const held = await holder.acquire(request(key));
    await client.script('LOAD', LUA_SCRIPTS.acquire.source);
    const calls = countScriptCalls(client);
    expect(await backend.acquire(request(key))).toBeNull();
    // One EVALSHA (plus one EVAL only if another test flushed the script cache in between).
    expect(calls.evalsha()).toBe(1);
    expect(calls.total()).toBeLessThanOrEqual(2);
    // And a free key: one round trip too, fence included.
    await held!.release();
    const lock = await backend.acquire(request(key));
    expect(lock?.fencingToken).toBeGreaterThan(0);
    expect(calls.evalsha()).toBe(2);
    await lock!.release();
  });

  it('backs off exponentially while waiting: far fewer attempts than a tight loop', async () => {
    const [holderClient, client] = [newClient(), newClient()];
    const holder = new RedisSpinLockBackend(holderClient, { keyPrefix });
    const backend = new RedisSpinLockBackend(client, { keyPrefix, minDelayMs: 5, maxDelayMs: 80, jitter: 0 });
    const key = freshKey();
    const held = await holder.acquire(request(key));
    const calls = countScriptCalls(client);
    expect(await backend.acquire(request(key, { waitMs: 1_000 }))).toBeNull();
    // 5+10+20+40+80+80+... ms of pauses fit roughly 15 attempts in one second; without backoff it would be hundreds.
    expect(calls.total()).toBeGreaterThanOrEqual(8);
    expect(calls.total()).toBeLessThanOrEqual(20);
    await held!.release();
  });

  it('uses the shared key layout: the lock key holds the fencing token, the owner token and its record, and is gone after release', async () => {
    const client = newClient();
    const backend = new RedisSpinLockBackend(client, { keyPrefix });
    const key = 'layout{tag}';
    const req = request(key);
    const lock = await backend.acquire(req);
    const names = redisLockKeys(keyPrefix, key);
    expect(parseRedisLockValue(await client.get(names.lock))).toEqual({
      fencingToken: lock!.fencingToken,
      waitersQueued: false,
      owner: req.token,
      // "<acquired at, server ms>\n<JSON>": the owner record rides in the lock value.
      ownerRecord: expect.stringMatching(/^\d+\n\{.*\}$/),
    });
    await lock!.release();
    expect(await client.exists(names.lock)).toBe(0);
  });

  it('a waiter still gets the lock after CLIENT KILL of its connection', async () => {
    const [holderClient, client, admin] = [newClient(), newClient(), newClient()];
    const holder = new RedisSpinLockBackend(holderClient, { keyPrefix });
    const backend = new RedisSpinLockBackend(client, { keyPrefix, minDelayMs: 20, maxDelayMs: 50 });
    const key = freshKey();
    const held = await holder.acquire(request(key));
    const waiting = backend.acquire(request(key, { waitMs: 10_000 }));
    await sleep(100);
    const id = await client.client('ID');
    expect(await admin.client('KILL', 'ID', String(id))).toBe(1);
    await sleep(100);
    await held!.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(await client.client('ID')).not.toBe(id);
    await lock!.release();
  });

  it('a holder whose connection is killed keeps its lock: renewal resumes after the reconnect', async () => {
    const [client, otherClient, admin] = [newClient(), newClient(), newClient()];
    const manager = new LockManager({ backends: { spin: new RedisSpinLockBackend(client, { keyPrefix }) } });
    const other = new LockManager({
      backends: { spin: new RedisSpinLockBackend(otherClient, { keyPrefix }) },
    });
    const key = freshKey();
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    await manager.withLock(key, { leaseMs: 600 }, async (scope) => {
      await admin.client('KILL', 'ID', String(await client.client('ID')));
      for (let i = 0; i < 6; i++) {
        await sleep(250);
        await expect(other.withLock(key, {}, async () => 'ran')).rejects.toThrow(/held by another caller/);
      }
      expect(scope.signal.aborted).toBe(false);
    });
    expect(lost).toEqual([]);
    await Promise.all([manager.close(), other.close()]);
  });

  it('wraps driver failures in LockBackendError with the cause and isRetryable', async () => {
    const offline = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    offline.on('error', () => {});
    const backend = new RedisSpinLockBackend(offline, { keyPrefix });
    const error = await backend.acquire(request(freshKey())).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).isRetryable).toBe(true);
    expect((error as LockBackendError).cause).toBeInstanceOf(Error);
    offline.disconnect();
  });

  describe('turns (a process that keeps re-taking a key leaves it free between turns)', () => {
    /**
     * A backend that just held `key` for a whole (1 ms) turn while a caller of another process was
     * turned away (`contended`, the default): its next waiting caller holds back.
     */
    async function afterATurn(yieldMs: number, contended = true) {
      const backend = new RedisSpinLockBackend(newClient(), { keyPrefix, turnMs: 1, yieldMs });
      const key = freshKey();
      const lock = await backend.acquire(request(key, { waitMs: 1_000 }));
      if (contended) {
        const other = new RedisSpinLockBackend(newClient(), { keyPrefix });
        expect(await other.acquire(request(key))).toBeNull();
      }
      await sleep(5);
      await lock!.release();
      return { backend, key };
    }

    it('a process alone on a key (nobody else turned away) never holds back', async () => {
      const { backend, key } = await afterATurn(60_000, false);
      const startedAt = Date.now();
      const lock = await backend.acquire(request(key, { waitMs: 1_000 }));
      expect(lock).not.toBeNull();
      expect(Date.now() - startedAt).toBeLessThan(400);
      await lock!.release();
    });

    it('a caller holding back for another process never waits past waitMs, and then takes the free key', async () => {
      const { backend, key } = await afterATurn(60_000);
      const startedAt = Date.now();
      const lock = await backend.acquire(request(key, { waitMs: 1_000 }));
      // It held back for half its wait (the yield is far longer), then its attempt took the key.
      expect(lock).not.toBeNull();
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(490);
      expect(Date.now() - startedAt).toBeLessThan(1_000 + 100);
      await lock!.release();
    });

    it('an abort ends the hold-back at once', async () => {
      const { backend, key } = await afterATurn(60_000);
      const controller = new AbortController();
      const acquiring = backend.acquire(request(key, { waitMs: 20_000, signal: controller.signal }));
      await sleep(20);
      const reason = new Error('caller gave up');
      controller.abort(reason);
      await expect(acquiring).rejects.toBe(reason);
    });

    it('a try-once caller never holds back', async () => {
      const { backend, key } = await afterATurn(60_000);
      const startedAt = Date.now();
      const lock = await backend.acquire(request(key));
      expect(lock).not.toBeNull();
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      await lock!.release();
    });

    it('another process takes the key in the window a turn leaves', async () => {
      const { backend, key } = await afterATurn(60_000);
      const other = new RedisSpinLockBackend(newClient(), { keyPrefix });
      const theirs = await other.acquire(request(key));
      expect(theirs).not.toBeNull();
      // Ours waits for theirs: the window was real, the key was free for them.
      expect(await backend.acquire(request(key, { waitMs: 50 }))).toBeNull();
      await theirs!.release();
    });
  });

  it('close() rejects later calls without touching the client', async () => {
    const client = newClient();
    const backend = new RedisSpinLockBackend(client, { keyPrefix });
    await backend.close();
    await expect(backend.acquire(request(freshKey()))).rejects.toBeInstanceOf(LockBackendError);
    expect(await client.ping()).toBe('PONG');
  });
});

describe('RedisSpinLockBackend bad input (typed errors before any Redis call)', () => {
  const lazy = () => newClient({ lazyConnect: true });

  it.each<[string, RedisSpinLockBackendOptions]>([
    ['minDelayMs', { minDelayMs: 0 }],
    ['minDelayMs', { minDelayMs: -5 }],
    ['maxDelayMs', { maxDelayMs: Number.NaN }],
    ['maxDelayMs', { maxDelayMs: Number.POSITIVE_INFINITY }],
    ['maxDelayMs', { minDelayMs: 100, maxDelayMs: 10 }],
    ['jitter', { jitter: 1.5 }],
    ['jitter', { jitter: -0.1 }],
    ['fenceRetentionMs', { fenceRetentionMs: -1 }],
    ['keyPrefix', { keyPrefix: 'app:{x}' }],
    ['turnMs', { turnMs: 0 }],
    ['turnMs', { turnMs: '100' as unknown as number }],
    ['turnMs', { turnMs: true as unknown as number }],
    ['yieldMs', { yieldMs: -1 }],
    ['yieldMs', { turnMs: false, yieldMs: Number.NaN }],
  ])('rejects a bad %s', (option, options) => {
    const client = lazy();
    expect(() => new RedisSpinLockBackend(client, options)).toThrow(InvalidLockOptionsError);
    expect(() => new RedisSpinLockBackend(client, options)).toThrow(option);
    expect(client.status).toBe('wait');
  });

  it('rejects something that is not an ioredis client', () => {
    expect(() => new RedisSpinLockBackend({} as Redis)).toThrow(InvalidLockOptionsError);
    expect(() => new RedisSpinLockBackend(undefined as unknown as Redis)).toThrow(/ioredis Redis or Cluster/);
  });

  it('rejects a RESP2 connection in subscriber mode', async () => {
    const subscriber = newClient({ protocol: 2 });
    await subscriber.subscribe(`${keyPrefix}channel`);
    expect(() => new RedisSpinLockBackend(subscriber)).toThrow(/subscriber mode/);
  });

  it('rejects a closed client, at construction and at acquire', async () => {
    const client = newClient();
    const backend = new RedisSpinLockBackend(client, { keyPrefix });
    await client.quit();
    await once(client, 'end');
    expect(() => new RedisSpinLockBackend(client)).toThrow(LockBackendError);
    const error = await backend.acquire(request(freshKey())).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockBackendError);
    expect((error as LockBackendError).isRetryable).toBe(false);
  });

  it.each(['', 'two\nlines'])('refuses the owner token %j before any store call', async (token) => {
    const client = newClient();
    const calls = countScriptCalls(client);
    const backend = new RedisSpinLockBackend(client, { keyPrefix });
    const error = await backend.acquire(request(freshKey(), { token })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidLockOptionsError);
    expect(calls.total()).toBe(0);
  });
});
