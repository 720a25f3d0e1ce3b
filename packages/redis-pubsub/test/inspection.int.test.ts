import { hostname } from 'node:os';
import { clientFactory } from '@dlock/conformance';
import { testPrefix } from '@dlock/conformance/redis';
import { LockManager } from '@dlock/core';
import { RedisSpinLockBackend } from '@dlock/redis-spin';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPubSubLockBackend } from '../src/index.js';

// inspect / list / forceRelease on the shared Redis format, through both Redis backends.
const newClient = clientFactory();
const keyPrefix = testPrefix('inspect');
const managers: LockManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function manager(appName: string, managerPrefix = ''): LockManager<'spin' | 'pubsub'> {
  const client = newClient();
  const created = new LockManager({
    backends: {
      spin: new RedisSpinLockBackend(client, { keyPrefix }),
      pubsub: new RedisPubSubLockBackend(client, { keyPrefix }),
    },
    keyPrefix: managerPrefix,
    appName,
  });
  managers.push(created);
  return created;
}

/** Hold `key` through `owner` until the returned release() (the lock is renewed meanwhile). */
async function hold(owner: LockManager<'spin' | 'pubsub'>, key: string, label = 'Stock.decrease') {
  let release!: () => void;
  let lostSignal!: AbortSignal;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  await new Promise<void>((held) => {
    void owner
      .withLock(key, { leaseMs: 3_000, label }, async (scope) => {
        lostSignal = scope.signal;
        held();
        await done;
      })
      .catch(() => undefined);
  });
  return { release, signal: () => lostSignal };
}

describe('Redis: inspect, list, forceRelease', () => {
  it('inspect shows the holder, its lease, fencing token and the queued waiters', async () => {
    const [holder, operator] = [manager('holder-app'), manager('operator-app')];
    const held = await hold(holder, 'stock:1');
    const waiter = operator.withLock(
      'stock:1',
      { backend: 'pubsub', retry: { waitMs: 10_000 } },
      () => 'waited',
    );
    await expect.poll(async () => (await operator.inspect('stock:1')).waiters, { timeout: 10_000 }).toBe(1);
    const lock = await operator.inspect('stock:1', { backend: 'spin' });
    expect(lock).toMatchObject({ key: 'stock:1', backend: 'spin', held: true, waiters: 1 });
    expect(lock.fencingToken).toBeGreaterThan(0);
    expect(lock.leaseRemainingMs).toBeGreaterThan(0);
    expect(lock.leaseRemainingMs).toBeLessThanOrEqual(3_000);
    // The acquire script recorded the owner beside the lock.
    expect(lock.owner).toMatchObject({
      host: hostname(),
      pid: process.pid,
      appName: 'holder-app',
      label: 'Stock.decrease',
    });
    expect(lock.owner?.acquiredAt).toBeGreaterThan(0);
    held.release();
    expect(await waiter).toBe('waited');
    expect((await operator.inspect('stock:1')).held).toBe(false);
  });

  it('list scans (bounded), filters by prefix, strips both prefixes and unescapes hash-tag characters', async () => {
    const [holder, operator] = [manager('holder-app', 'shop:'), manager('operator-app', 'shop:')];
    const keys = ['cart:{7}', 'cart:100%', 'cart:2', 'order:1'];
    const held = await Promise.all(keys.map((key) => hold(holder, key)));
    const carts = await operator.list({ prefix: 'cart:' });
    expect(carts.map((lock) => lock.key)).toEqual(['cart:100%', 'cart:2', 'cart:{7}']);
    expect(carts.every((lock) => lock.held && lock.backend === 'spin')).toBe(true);
    expect(await operator.list({ prefix: 'cart:', limit: 2 })).toHaveLength(2);
    // Another manager prefix sees none of them.
    expect(await manager('other', 'elsewhere:').list()).toEqual([]);
    for (const lock of held) lock.release();
  });

  it('forceRelease frees the lock: the holder loses it at its next renewal and the next holder has a greater fence', async () => {
    const [holder, operator] = [manager('holder-app'), manager('operator-app')];
    const held = await hold(holder, 'job:1');
    const before = await operator.inspect('job:1');
    const result = await operator.forceRelease('job:1');
    expect(result).toMatchObject({ released: true, previousFencingToken: before.fencingToken });
    const fence = await operator.withLock('job:1', {}, (scope) => scope.locks[0]!.fencingToken!);
    expect(fence).toBeGreaterThan(before.fencingToken!);
    await new Promise<void>((resolve) => {
      if (held.signal().aborted) resolve();
      held.signal().addEventListener('abort', () => resolve(), { once: true });
    });
    held.release();
    expect((await operator.forceRelease('job:1')).released).toBe(false);
  });
});
