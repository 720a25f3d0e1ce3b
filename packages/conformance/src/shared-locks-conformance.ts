import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BackendLock,
  type LockBackend,
  LockManager,
  LockNotAcquiredError,
  SemaphorePermitsMismatchError,
} from '@dlock/core';
import { describe, expect, it, type TestContext } from 'vitest';
import { backendRequest as request } from './backend-request.js';
import { type ConformanceParts, waiterGetsItOnRelease } from './conformance-parts.js';

/**
 * The semaphore and read-write sections of the conformance suite. A backend without
 * `acquireShared` skips them (it is refused at plan time instead); one that lists
 * `sharedLockTypes` runs the sections of the types it lists.
 */
export function describeSharedLockConformance(parts: ConformanceParts): void {
  const { freshKey, shortLeaseMs } = parts;

  /** Two or more backends that support `type`, or a skipped test. */
  async function sharedBackends(
    context: TestContext,
    type: 'semaphore' | 'read',
    count: number,
  ): Promise<Required<Pick<LockBackend, 'acquireShared'>>[]> {
    const backends: LockBackend[] = [];
    for (let i = 0; i < count; i++) backends.push(await parts.backend());
    const first = backends[0]!;
    if (
      typeof first.acquireShared !== 'function' ||
      (first.sharedLockTypes !== undefined && !first.sharedLockTypes.includes(type))
    ) {
      context.skip();
    }
    return backends as Required<Pick<LockBackend, 'acquireShared'>>[];
  }
  async function sharedManagers(context: TestContext, type: 'semaphore' | 'read', count: number) {
    await sharedBackends(context, type, 1);
    const managers: LockManager[] = [];
    for (let i = 0; i < count; i++) managers.push(await parts.manager());
    return managers;
  }
  const semaphore = (permits: number) => ({ kind: { type: 'semaphore' as const, permits } });
  const read = { kind: { type: 'read' as const } };

  describe('semaphore', () => {
    it('admits at most permits holders; try-once is refused when all are taken; permits carry increasing fencing tokens', async (context) => {
      const [a, b] = await sharedBackends(context, 'semaphore', 2);
      const key = freshKey('semaphore-try');
      const first = (await a!.acquireShared({ ...request(key), ...semaphore(2) }))!;
      const second = (await b!.acquireShared({ ...request(key), ...semaphore(2) }))!;
      expect(first).not.toBeNull();
      expect(second).not.toBeNull();
      expect(await a!.acquireShared({ ...request(key), ...semaphore(2) })).toBeNull();
      if (parts.fencing) expect(second.fencingToken).toBeGreaterThan(first.fencingToken!);
      expect(await first.release()).toBe(true);
      const third = (await b!.acquireShared({ ...request(key), ...semaphore(2) }))!;
      expect(third).not.toBeNull();
      if (parts.fencing) expect(third.fencingToken).toBeGreaterThan(second.fencingToken!);
      expect(await second.release()).toBe(true);
      expect(await third.release()).toBe(true);
    });

    it('callers of one key that disagree on permits get SemaphorePermitsMismatchError', async (context) => {
      const [a, b] = await sharedBackends(context, 'semaphore', 2);
      const key = freshKey('semaphore-mismatch');
      const held = (await a!.acquireShared({ ...request(key), ...semaphore(2) }))!;
      const error = await b!.acquireShared({ ...request(key), ...semaphore(5) }).catch((e: unknown) => e);
      expect(SemaphorePermitsMismatchError.isInstance(error)).toBe(true);
      expect(await held.release()).toBe(true);
      // Nobody uses it any more: other permits are fine now.
      const next = (await b!.acquireShared({ ...request(key), ...semaphore(5) }))!;
      expect(next).not.toBeNull();
      await next.release();
    });

    it('a waiter gets a permit when a holder releases, and not before', async (context) => {
      const [a, b] = await sharedBackends(context, 'semaphore', 2);
      const key = freshKey('semaphore-wait');
      const held = (await a!.acquireShared({ ...request(key), ...semaphore(1) }))!;
      const lock = await waiterGetsItOnRelease(held, () =>
        b!.acquireShared({ ...request(key, { waitMs: 10_000 }), ...semaphore(1) }),
      );
      await lock.release();
    });

    it.skipIf(!parts.fairWaiting)('serves waiters first come, first served', async (context) => {
      const backends = await sharedBackends(context, 'semaphore', 3);
      const key = freshKey('semaphore-fifo');
      const held = (await backends[0]!.acquireShared({ ...request(key), ...semaphore(1) }))!;
      const order: number[] = [];
      const waiters: Promise<void>[] = [];
      for (let i = 0; i < 4; i++) {
        waiters.push(
          backends[i % 3]!.acquireShared({ ...request(key, { waitMs: 20_000 }), ...semaphore(1) }).then(
            async (lock) => {
              order.push(i);
              await sleep(10);
              await lock!.release();
            },
          ),
        );
        await sleep(60);
      }
      await held.release();
      await Promise.all(waiters);
      expect(order).toEqual([0, 1, 2, 3]);
    });

    it("a holder's permit comes back when its lease runs out; its late release and extend free nobody else's", async (context) => {
      const [a, b, c] = await sharedBackends(context, 'semaphore', 3);
      const key = freshKey('semaphore-expiry');
      const stale = (await a!.acquireShared({
        ...request(key, { leaseMs: shortLeaseMs }),
        ...semaphore(1),
      }))!;
      const startedAt = Date.now();
      const fresh = (await b!.acquireShared({ ...request(key, { waitMs: 10_000 }), ...semaphore(1) }))!;
      expect(fresh).not.toBeNull();
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(shortLeaseMs - 150);
      expect(await stale.release()).toBe(false);
      expect(await stale.extend(10_000)).toBe(false);
      expect(await c!.acquireShared({ ...request(key), ...semaphore(1) })).toBeNull();
      expect(await fresh.release()).toBe(true);
    });

    it('through LockManager: the highest concurrency observed equals permits', async (context) => {
      const managers = await sharedManagers(context, 'semaphore', 3);
      const key = freshKey('semaphore-managers');
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 18 }, (_, i) =>
          managers[i % 3]!.withSemaphore(key, { permits: 3, retry: { waitMs: 30_000 } }, async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await sleep(25);
            inside--;
          }),
        ),
      );
      expect(maxInside).toBe(3);
    });
  });

  describe('read-write lock', () => {
    it('readers share a key; a write lock (a plain acquire) and a read lock exclude each other', async (context) => {
      const [a, b] = await sharedBackends(context, 'read', 2);
      const key = freshKey('rw-exclusion');
      const reader1 = (await a!.acquireShared({ ...request(key), ...read }))!;
      const reader2 = (await b!.acquireShared({ ...request(key), ...read }))!;
      expect(reader1).not.toBeNull();
      expect(reader2).not.toBeNull();
      expect(await (a as unknown as LockBackend).acquire(request(key))).toBeNull();
      expect(await reader1.release()).toBe(true);
      expect(await (b as unknown as LockBackend).acquire(request(key))).toBeNull();
      expect(await reader2.release()).toBe(true);
      const writer = (await (a as unknown as LockBackend).acquire(request(key)))!;
      expect(writer).not.toBeNull();
      expect(await b!.acquireShared({ ...request(key), ...read })).toBeNull();
      if (parts.fencing) expect(writer.fencingToken).toBeGreaterThan(reader2.fencingToken!);
      expect(await writer.release()).toBe(true);
    });

    it('a waiting writer gets the key when the last reader leaves', async (context) => {
      const [a, b] = await sharedBackends(context, 'read', 2);
      const key = freshKey('rw-writer-waits');
      const readers = [
        (await a!.acquireShared({ ...request(key), ...read }))!,
        (await b!.acquireShared({ ...request(key), ...read }))!,
      ];
      const events: string[] = [];
      const writer = (b as unknown as LockBackend).acquire(request(key, { waitMs: 10_000 })).then((lock) => {
        events.push('writer');
        return lock;
      });
      await sleep(150);
      events.push('first reader out');
      await readers[0]!.release();
      await sleep(150);
      events.push('last reader out');
      await readers[1]!.release();
      const lock = (await writer)!;
      expect(lock).not.toBeNull();
      expect(events).toEqual(['first reader out', 'last reader out', 'writer']);
      await lock.release();
    });

    it.skipIf(!parts.fairWaiting)(
      'a waiting writer keeps later readers out; readers queued behind it go in together after it',
      async (context) => {
        const [a, b, c] = await sharedBackends(context, 'read', 3);
        const key = freshKey('rw-fair');
        const reader = (await a!.acquireShared({ ...request(key), ...read }))!;
        const order: string[] = [];
        const writer = (b as unknown as LockBackend)
          .acquire(request(key, { waitMs: 20_000 }))
          .then(async (lock) => {
            order.push('writer in');
            await sleep(100);
            order.push('writer out');
            await lock!.release();
          });
        await sleep(150);
        expect(await c!.acquireShared({ ...request(key), ...read })).toBeNull();
        const held: BackendLock[] = [];
        const laterReaders = [a, c, b].map((backend, i) =>
          backend!.acquireShared({ ...request(key, { waitMs: 20_000 }), ...read }).then((lock) => {
            order.push(`reader ${i}`);
            held.push(lock!);
          }),
        );
        await sleep(150);
        expect(order).toEqual([]);
        await reader.release();
        await writer;
        await Promise.all(laterReaders);
        expect(order.slice(0, 2)).toEqual(['writer in', 'writer out']);
        // All three hold the read lock at once.
        expect(held).toHaveLength(3);
        expect(await Promise.all(held.map((lock) => lock.release()))).toEqual([true, true, true]);
      },
    );

    it("a reader whose lease runs out lets a writer in; its late release frees nobody else's lock", async (context) => {
      const [a, b] = await sharedBackends(context, 'read', 2);
      const key = freshKey('rw-expiry');
      const stale = (await a!.acquireShared({ ...request(key, { leaseMs: shortLeaseMs }), ...read }))!;
      const writer = (await (b as unknown as LockBackend).acquire(request(key, { waitMs: 10_000 })))!;
      expect(writer).not.toBeNull();
      expect(await stale.release()).toBe(false);
      expect(await stale.extend(10_000)).toBe(false);
      expect(await a!.acquireShared({ ...request(key), ...read })).toBeNull();
      expect(await writer.release()).toBe(true);
    });

    it('through LockManager: readers overlap, a writer overlaps nobody, a read inside a write re-enters', async (context) => {
      const managers = await sharedManagers(context, 'read', 3);
      const key = freshKey('rw-managers');
      let readers = 0;
      let maxReaders = 0;
      let writers = 0;
      let broken = false;
      await Promise.all(
        Array.from({ length: 18 }, (_, i) => {
          const write = i % 3 === 2;
          return managers[i % 3]!.withLock(
            key,
            { mode: write ? 'write' : 'read', retry: { waitMs: 30_000 } },
            async () => {
              if (write) {
                if (writers > 0 || readers > 0) broken = true;
                writers++;
                await managers[i % 3]!.withLock(key, { mode: 'read' }, () => sleep(10));
                writers--;
              } else {
                if (writers > 0) broken = true;
                readers++;
                maxReaders = Math.max(maxReaders, readers);
                await sleep(25);
                readers--;
              }
            },
          );
        }),
      );
      expect(broken).toBe(false);
      expect(maxReaders).toBeGreaterThan(1);
      await managers[0]!.withLock(key, { mode: 'read' }, async () => {
        await expect(managers[1]!.withLock(key, {}, () => 'ran')).rejects.toBeInstanceOf(
          LockNotAcquiredError,
        );
      });
    });
  });
}
