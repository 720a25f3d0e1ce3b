import { setTimeout as sleep } from 'node:timers/promises';
import { clientFactory, backendRequest as request } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { LockLostError, LockManager, LockNotAcquiredError } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

const newClient = clientFactory();
const keyPrefix = testPrefix('mixed');
let counter = 0;
const freshKey = () => `key-${++counter}`;

describe('spin and pub/sub are one lock seen through two waiting strategies', () => {
  it('a lock held through one backend excludes the other, both ways', async () => {
    const spin = new RedisSpinLockBackend(newClient(), { keyPrefix });
    const pubsub = new RedisPubSubLockBackend(newClient(), { keyPrefix });
    const key = freshKey();
    const bySpin = (await spin.acquire(request(key)))!;
    expect(await pubsub.acquire(request(key))).toBeNull();
    expect(await bySpin.release()).toBe(true);
    const byPubSub = (await pubsub.acquire(request(key)))!;
    expect(await spin.acquire(request(key))).toBeNull();
    expect(await byPubSub.release()).toBe(true);
    await pubsub.close();
  });

  it('a release through the spin backend wakes a pub/sub waiter at once', async () => {
    const spin = new RedisSpinLockBackend(newClient(), { keyPrefix });
    const pubsub = new RedisPubSubLockBackend(newClient(), { keyPrefix });
    const key = freshKey();
    const held = (await spin.acquire(request(key)))!;
    const waiting = pubsub.acquire(request(key, { waitMs: 20_000 }));
    await sleep(200);
    const releasedAt = Date.now();
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    // The holder's lease was 60 s: only the release message explains a prompt wake-up.
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    await lock!.release();
    await pubsub.close();
  });

  it("works with ioredis' own keyPrefix option: the release still reaches pub/sub waiters", async () => {
    const clientPrefix = `${keyPrefix}app:`;
    const spin = new RedisSpinLockBackend(newClient({ keyPrefix: clientPrefix }), { keyPrefix });
    const pubsub = new RedisPubSubLockBackend(newClient({ keyPrefix: clientPrefix }), { keyPrefix });
    const plain = new RedisSpinLockBackend(newClient(), { keyPrefix });
    const key = freshKey();
    const held = (await spin.acquire(request(key)))!;
    // The client prefix makes it a different Redis key than a client without that prefix.
    const other = (await plain.acquire(request(key)))!;
    await other.release();
    const waiting = pubsub.acquire(request(key, { waitMs: 20_000 }));
    await sleep(200);
    const releasedAt = Date.now();
    await held.release();
    const lock = await waiting;
    expect(lock).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    await lock!.release();
    await pubsub.close();
  });

  it('fencing tokens increase across both backends on one key', async () => {
    const spin = new RedisSpinLockBackend(newClient(), { keyPrefix });
    const pubsub = new RedisPubSubLockBackend(newClient(), { keyPrefix });
    const key = freshKey();
    const fences: number[] = [];
    for (let i = 0; i < 6; i++) {
      const lock = (await (i % 2 ? spin : pubsub).acquire(request(key)))!;
      fences.push(lock.fencingToken!);
      await lock.release();
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    await pubsub.close();
  });

  it('lease expiry without renewal: the late release rejects with LockLostError and the next holder keeps its lock', async () => {
    const spinManager = new LockManager({
      backends: { spin: new RedisSpinLockBackend(newClient(), { keyPrefix }) },
    });
    const pubsubManager = new LockManager({
      backends: { pubsub: new RedisPubSubLockBackend(newClient(), { keyPrefix }) },
    });
    const third = new LockManager({
      backends: { spin: new RedisSpinLockBackend(newClient(), { keyPrefix }) },
    });
    const key = freshKey();
    const stale = await spinManager.acquire(key, { leaseMs: 300 });
    // The pub/sub waiter sleeps until the stale lease ends (its fallback timer), then takes the key.
    const fresh = await pubsubManager.acquire(key, { retry: { waitMs: 5_000 }, leaseMs: 10_000 });
    expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken!);
    expect(stale.signal.aborted).toBe(true);
    await expect(stale.release()).rejects.toBeInstanceOf(LockLostError);
    await expect(third.withLock(key, {}, async () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);
    await fresh.release();
    await expect(third.withLock(key, {}, async () => 'ran')).resolves.toBe('ran');
    await Promise.all([spinManager.close(), pubsubManager.close(), third.close()]);
  });
});
