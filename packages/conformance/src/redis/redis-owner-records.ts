import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LockBackend, LockManager } from '@dlock/core';
import { FaultyLink } from '@dlock/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendRequest } from '../backend-request.js';
import { REDIS_URL, testPrefix } from './redis-test-names.js';

/** Options of {@link runRedisOwnerRecordSuite}. */
export interface RedisOwnerRecordSuiteOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A backend talking to Redis through `client`, under the backend prefix `keyPrefix`. */
  readonly createBackend: (
    client: Redis,
    options: { keyPrefix: string; recordOwner: boolean },
  ) => LockBackend;
  /** Whether waiters queue in Redis and are handed the lock (pub/sub), or spin. */
  readonly queues: boolean;
  /** Every backend client through a link that delays each chunk 2 ms ± 1 ms each way. */
  readonly slowLink?: boolean;
}

/**
 * The owner record of the Redis format, seen through a backend and `manager.inspect`: who holds the
 * lock, kept in the lock value itself (so it has the lock's own expiry, renewed and deleted with
 * it, and no `:owner` key exists), moved to the next holder, and not written at all with
 * `recordOwner: false`. Call it at the top level of a test file.
 *
 * @example
 * runRedisOwnerRecordSuite({ name: 'redis-spin', queues: false, createBackend: (client, options) => new RedisSpinLockBackend(client, options) });
 */
export function runRedisOwnerRecordSuite(options: RedisOwnerRecordSuiteOptions): void {
  const keyPrefix = testPrefix(`owner-${options.name}`);
  const open: { close(): Promise<void> }[] = [];
  const clients: Redis[] = [];
  let link: FaultyLink | undefined;
  let direct: Redis;
  let counter = 0;
  const freshKey = () => `owner:${++counter}`;
  /** The Redis names of `key` (test keys hold no `{`, `}` or `%`, so nothing is escaped). */
  const names = (key: string) => {
    const lock = `${keyPrefix}{${key}}`;
    // `owner` and `queueOwners` are where earlier versions kept records: never written now.
    return { lock, queue: `${lock}:queue`, owner: `${lock}:owner`, queueOwners: `${lock}:queue:owners` };
  };
  /**
   * The owner record in the lock value (`"<fence>:<flag>:<token>\n<acquired at>\n<JSON>"`): the
   * JSON after the token, or null when the lock is free or its value holds no record.
   */
  const recordInValue = async (key: string): Promise<string | null> => {
    const value = await direct.get(names(key).lock);
    const parts = value?.split('\n') ?? [];
    return parts.length === 3 ? parts[2]! : null;
  };

  beforeAll(async () => {
    direct = new Redis(REDIS_URL);
    if (options.slowLink) {
      const url = new URL(REDIS_URL);
      link = await FaultyLink.start({
        target: { host: url.hostname, port: Number(url.port || 6379) },
        latency: { upMs: 2, downMs: 2, jitterMs: 1 },
      });
    }
  });
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((item) => item.close()));
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    direct.disconnect();
    await link?.close();
    // Nothing of this file's locks stays behind (a released lock's keys are deleted, not expired).
    const check = new Redis(REDIS_URL);
    try {
      let left = await check.keys(`${keyPrefix}*`);
      for (let tries = 0; left.length > 0 && tries < 50; tries++) {
        await sleep(100);
        left = await check.keys(`${keyPrefix}*`);
      }
      expect(left).toEqual([]);
    } finally {
      check.disconnect();
    }
  });

  function backend(recordOwner = true): LockBackend {
    const client = new Redis(link ? link.url(REDIS_URL) : REDIS_URL);
    client.on('error', () => {});
    clients.push(client);
    const created = options.createBackend(client, { keyPrefix, recordOwner });
    open.push(created);
    return created;
  }
  function manager(appName: string, recordOwner = true): LockManager {
    const created = new LockManager({ backends: { main: backend(recordOwner) }, appName });
    open.push(created);
    return created;
  }

  /** PTTL of the lock key, and whether the retired `:owner` key exists (it never should). */
  async function ttls(key: string): Promise<{ lock: number; ownerKeys: number }> {
    const { lock, owner } = names(key);
    const replies = (await direct.multi().pttl(lock).exists(owner).exec()) ?? [];
    return { lock: replies[0]?.[1] as number, ownerKeys: replies[1]?.[1] as number };
  }

  describe(`${options.name}: owner records`, () => {
    it('inspect shows this process as the holder; the record lives in the lock value through renewals and goes with the release', async () => {
      const key = freshKey();
      const holder = manager('owner-app');
      const started = Date.now();
      const lock = await holder.acquire(key, { leaseMs: 1_500, label: 'Owner.hold', autoRenew: true });
      const state = await holder.inspect(key);
      expect(state).toMatchObject({
        held: true,
        owner: { host: hostname(), pid: process.pid, appName: 'owner-app', label: 'Owner.hold' },
      });
      // Server clock against ours: generous bounds (the machines share a clock in tests).
      expect(state.owner?.acquiredAt).toBeGreaterThan(started - 5_000);
      expect(state.owner?.acquiredAt).toBeLessThan(Date.now() + 5_000);
      expect(state.owner?.leaseEndsAt).toBeGreaterThan(Date.now());
      let { lock: lockTtl, ownerKeys } = await ttls(key);
      expect(lockTtl).toBeGreaterThan(0);
      expect(ownerKeys).toBe(0);
      expect(JSON.parse((await recordInValue(key))!)).toMatchObject({ a: 'owner-app', l: 'Owner.hold' });
      // Past the first lease: the renewals prolonged the lock, and the record with it.
      await sleep(2_000);
      ({ lock: lockTtl, ownerKeys } = await ttls(key));
      expect(lockTtl).toBeGreaterThan(0);
      expect(ownerKeys).toBe(0);
      expect((await holder.inspect(key)).owner?.label).toBe('Owner.hold');
      await lock.release();
      expect(await direct.exists(names(key).lock, names(key).owner)).toBe(0);
      expect((await holder.inspect(key)).held).toBe(false);
    });

    it('a lock whose lease ran out, taken by another process, shows the new holder, never the old one', async () => {
      const key = freshKey();
      const stale = await backend().acquire(
        backendRequest(key, { leaseMs: 300, owner: { host: 'old-host', pid: 1, appName: 'stale-app' } }),
      );
      expect(stale).not.toBeNull();
      await sleep(600); // never renewed: the lease (and the record with it) runs out
      const next = manager('next-app');
      const lock = await next.acquire(key, { retry: { waitMs: 5_000 }, label: 'Next.run' });
      expect((await next.inspect(key)).owner).toMatchObject({ appName: 'next-app', label: 'Next.run' });
      expect(await stale!.release()).toBe(false);
      expect((await next.inspect(key)).owner?.appName).toBe('next-app');
      await lock.release();
    });

    it(`the next holder after a release shows up as the owner (${options.queues ? 'handed over from the queue' : 'spinning'})`, async () => {
      const key = freshKey();
      const [holder, waiter, operator] = [manager('holder-app'), manager('waiter-app'), manager('operator')];
      const held = await holder.acquire(key, { leaseMs: 10_000, label: 'Holder.run' });
      const seen = waiter.withLock(
        key,
        { label: 'Waiter.run', retry: { waitMs: 15_000 }, leaseMs: 10_000 },
        async () => ({ state: await operator.inspect(key), ttls: await ttls(key) }),
      );
      if (options.queues) {
        await expect.poll(async () => (await operator.inspect(key)).waiters, { timeout: 10_000 }).toBe(1);
        // The queued waiter's record rides in its queue entry until its turn.
        const [entry] = await direct.zrange(names(key).queue, '0', '-1');
        expect(entry).toMatch(/^[^\n]+\n\{.*"a":"waiter-app"/);
      } else {
        await sleep(100);
      }
      await held.release();
      const { state, ttls: during } = await seen;
      expect(state.owner).toMatchObject({ pid: process.pid, appName: 'waiter-app', label: 'Waiter.run' });
      expect(during.lock).toBeGreaterThan(0);
      expect(during.ownerKeys).toBe(0);
      expect(await direct.exists(names(key).lock, names(key).owner, names(key).queueOwners)).toBe(0);
    });

    it('recordOwner: false writes no owner data (held, queued, handed over) and inspect shows no owner', async () => {
      const key = freshKey();
      const [holder, waiter, operator] = [
        manager('quiet-holder', false),
        manager('quiet-waiter', false),
        manager('operator'),
      ];
      const held = await holder.acquire(key, { leaseMs: 10_000 });
      const state = await operator.inspect(key);
      expect(state.held).toBe(true);
      expect(state.owner?.pid).toBeUndefined();
      expect(await recordInValue(key)).toBeNull();
      const waited = waiter.withLock(key, { retry: { waitMs: 15_000 } }, async () => ({
        keys: await direct.exists(names(key).owner, names(key).queueOwners),
        record: await recordInValue(key),
      }));
      if (options.queues) {
        await expect.poll(async () => (await operator.inspect(key)).waiters, { timeout: 10_000 }).toBe(1);
        // The queue entry is the bare token.
        expect(await direct.zrange(names(key).queue, '0', '-1')).toEqual([expect.not.stringContaining('\n')]);
      }
      expect(await direct.exists(names(key).owner, names(key).queueOwners)).toBe(0);
      await held.release();
      expect(await waited).toEqual({ keys: 0, record: null });
    });
  });
}
