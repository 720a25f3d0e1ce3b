import { setTimeout as sleep } from 'node:timers/promises';
import { currentLock, LockLostError, LockNotAcquiredError, LockTimeoutError } from '@dlock/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceParts } from './conformance-parts.js';

/** The section of the conformance suite that goes through `LockManager`: what callers rely on. */
export function describeManagerConformance(parts: ConformanceParts): void {
  const { manager, freshKey, shortLeaseMs, fencing } = parts;

  describe('through LockManager', () => {
    it('excludes concurrent callers of several managers: a non-atomic counter ends exact', async () => {
      const managers = [await manager(), await manager(), await manager()];
      const key = freshKey('counter');
      let counter = 0;
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          managers[i % managers.length]!.withLock(key, { retry: { waitMs: 30_000 } }, async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            const read = counter;
            await sleep(2);
            counter = read + 1;
            inside--;
          }),
        ),
      );
      expect(counter).toBe(30);
      expect(maxInside).toBe(1);
    });

    it('try-once rejects with LockNotAcquiredError while another manager holds the key', async () => {
      const [a, b] = [await manager(), await manager()];
      const key = freshKey('not-acquired');
      await a.withLock(key, {}, async () => {
        await expect(b.withLock(key, {}, async () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);
      });
    });

    it('waiting rejects with LockTimeoutError after retry.waitMs', async () => {
      const [a, b] = [await manager(), await manager()];
      const key = freshKey('timeout');
      await a.withLock(key, {}, async () => {
        await expect(b.withLock(key, { retry: { waitMs: 300 } }, async () => 'ran')).rejects.toBeInstanceOf(
          LockTimeoutError,
        );
      });
    });

    it('renews the lease while the critical section runs longer than leaseMs', async () => {
      const [a, b] = [await manager(), await manager()];
      const key = freshKey('renewal');
      await a.withLock(key, { leaseMs: shortLeaseMs }, async (scope) => {
        for (let i = 0; i < 4; i++) {
          await sleep(shortLeaseMs / 2);
          await expect(b.withLock(key, {}, async () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);
        }
        expect(scope.signal.aborted).toBe(false);
      });
    });

    it('a handle that is not renewed loses its lock at lease end: signal aborts, release rejects, the new holder keeps it', async () => {
      const [a, b] = [await manager(), await manager()];
      const key = freshKey('lost');
      const lost: string[] = [];
      a.on('lost', (event) => lost.push(event.key));
      const stale = await a.acquire(key, { leaseMs: shortLeaseMs });
      await sleep(shortLeaseMs + 300);
      expect(stale.signal.aborted).toBe(true);
      expect(stale.signal.reason).toBeInstanceOf(LockLostError);
      const fresh = await b.acquire(key);
      await expect(stale.release()).rejects.toBeInstanceOf(LockLostError);
      await expect(a.withLock(key, {}, async () => 'ran')).rejects.toBeInstanceOf(LockNotAcquiredError);
      expect(lost).toEqual([key]);
      await fresh.release();
    });

    it.skipIf(!fencing)('currentLock() exposes the fencing token inside withLock', async () => {
      const m = await manager();
      const key = freshKey('current');
      const tokens: (number | undefined)[] = [];
      for (let i = 0; i < 2; i++) {
        await m.withLock(key, {}, async () => {
          tokens.push(currentLock()?.fencingToken);
        });
      }
      expect(tokens[1]).toBeGreaterThan(tokens[0]!);
    });

    it('opposite key orders [a, b] and [b, a] on two managers never deadlock', async () => {
      const [a, b] = [await manager(), await manager()];
      const first = freshKey('order-a');
      const second = freshKey('order-b');
      const runs = Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).withLock(
          i % 2 ? [first, second] : [second, first],
          { retry: { waitMs: 20_000 } },
          () => sleep(5),
        ),
      );
      await expect(Promise.all(runs)).resolves.toHaveLength(10);
    });
  });
}
