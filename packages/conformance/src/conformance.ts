import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LockBackend, LockManager } from '@dlock/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backendRequest as request } from './backend-request.js';
import { waiterGetsItOnRelease } from './conformance-parts.js';
import { describeManagerConformance } from './manager-conformance.js';
import { describeSharedLockConformance } from './shared-locks-conformance.js';

export interface ConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /**
   * A new backend talking to the shared store; called once per simulated server, so two calls
   * must see the same locks (two clients of one Redis, two backends sharing a MemoryLockStore).
   */
  readonly createBackend: () => LockBackend | Promise<LockBackend>;
  /** Whether the backend returns fencing tokens. Default true. */
  readonly fencing?: boolean;
  /** A lease short enough to expire during a test, long enough for one round trip. Default 400 ms. */
  readonly shortLeaseMs?: number;
  /**
   * Whether waiters are served in arrival order, checked by the semaphore and read-write sections
   * (which run only for backends with `acquireShared`). Default true; false for spinning backends.
   */
  readonly fairWaiting?: boolean;
}

/**
 * The behaviour every dlock backend must share. Call it inside a test file:
 *
 * @example
 * runLockBackendConformance({ name: 'memory', createBackend: () => new MemoryLockBackend({ store }) });
 */
export function runLockBackendConformance(options: ConformanceOptions): void {
  const shortLeaseMs = options.shortLeaseMs ?? 400;
  const fencing = options.fencing ?? true;
  const open: { close(): Promise<void> }[] = [];
  const runId = randomUUID().slice(0, 8);
  let keyCounter = 0;
  const freshKey = (label: string) => `conformance:${runId}:${label}:${++keyCounter}`;

  async function backend(): Promise<LockBackend> {
    const created = await options.createBackend();
    open.push(created);
    return created;
  }
  async function manager(): Promise<LockManager> {
    const created = new LockManager({ backends: { main: await backend() } });
    open.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((item) => item.close()));
  });
  afterAll(async () => {
    await Promise.allSettled(open.splice(0).map((item) => item.close()));
  });

  describe(`LockBackend conformance: ${options.name}`, () => {
    describe('backend contract', () => {
      it('a free key is taken in one attempt; a held key is refused to a try-once caller', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('try-once');
        const held = await a.acquire(request(key));
        expect(held).not.toBeNull();
        expect(held!.expiresAt).toBeGreaterThan(Date.now());
        expect(await b.acquire(request(key))).toBeNull();
        expect(await held!.release()).toBe(true);
        const next = await b.acquire(request(key));
        expect(next).not.toBeNull();
        expect(await next!.release()).toBe(true);
      });

      it('release is single-use: a second release reports false and frees nothing', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('double-release');
        const first = (await a.acquire(request(key)))!;
        expect(await first.release()).toBe(true);
        const second = (await b.acquire(request(key)))!;
        expect(await first.release()).toBe(false);
        expect(await a.acquire(request(key))).toBeNull();
        expect(await second.release()).toBe(true);
      });

      it('a lock whose lease ran out is taken by the next caller; the late holder cannot release or extend it', async () => {
        const [a, b, c] = [await backend(), await backend(), await backend()];
        const key = freshKey('expiry');
        const stale = (await a.acquire(request(key, { leaseMs: shortLeaseMs })))!;
        await sleep(shortLeaseMs + 300);
        const fresh = await b.acquire(request(key));
        expect(fresh).not.toBeNull();
        expect(await stale.release()).toBe(false);
        expect(await stale.extend(10_000)).toBe(false);
        expect(await c.acquire(request(key))).toBeNull();
        expect(await fresh!.release()).toBe(true);
      });

      it('extend keeps a lock well past its first lease', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('extend');
        const held = (await a.acquire(request(key, { leaseMs: shortLeaseMs })))!;
        for (let i = 0; i < 4; i++) {
          await sleep(shortLeaseMs / 2);
          expect(await held.extend(shortLeaseMs)).toBe(true);
          expect(await b.acquire(request(key))).toBeNull();
        }
        expect(await held.release()).toBe(true);
      });

      it.skipIf(!fencing)('fencing tokens strictly increase per key across clients', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('fencing');
        const seen: number[] = [];
        for (let i = 0; i < 6; i++) {
          const lock = (await (i % 2 ? a : b).acquire(request(key)))!;
          expect(typeof lock.fencingToken).toBe('number');
          seen.push(lock.fencingToken!);
          await lock.release();
        }
        for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
      });

      it('a waiter gets the lock when the holder releases, and not before', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('handoff');
        const held = (await a.acquire(request(key)))!;
        let contended = 0;
        const lock = await waiterGetsItOnRelease(held, () =>
          b.acquire(request(key, { waitMs: 10_000, onContended: () => contended++ })),
        );
        expect(contended).toBe(1);
        await lock.release();
      });

      it('a waiter gives up after waitMs with null', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('wait-timeout');
        const held = (await a.acquire(request(key)))!;
        const startedAt = Date.now();
        expect(await b.acquire(request(key, { waitMs: 500 }))).toBeNull();
        const waited = Date.now() - startedAt;
        expect(waited).toBeGreaterThanOrEqual(450);
        expect(waited).toBeLessThan(5_000);
        await held.release();
      });

      it('a waiter takes over when the holder dies silently (lease runs out, nobody releases)', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('dead-holder');
        const acquiredAt = Date.now();
        await a.acquire(request(key, { leaseMs: shortLeaseMs }));
        const lock = await b.acquire(request(key, { waitMs: 10_000 }));
        expect(lock).not.toBeNull();
        expect(Date.now() - acquiredAt).toBeGreaterThanOrEqual(shortLeaseMs - 50);
        await lock!.release();
      });

      it('aborting the signal stops waiting promptly', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('abort');
        const held = (await a.acquire(request(key)))!;
        const controller = new AbortController();
        const startedAt = Date.now();
        const waiting = b.acquire(request(key, { waitMs: 30_000, signal: controller.signal }));
        setTimeout(() => controller.abort(new Error('caller gave up')), 100);
        await expect(waiting).rejects.toBeDefined();
        expect(Date.now() - startedAt).toBeLessThan(5_000);
        await held.release();
        // The given-up waiter never keeps the lock: free again soon (a MySQL session ended in the
        // background may still be granted it for the moment until the server notices it is gone).
        const after = (await b.acquire(request(key, { waitMs: 3_000 })))!;
        expect(after).not.toBeNull();
        await after.release();
      });

      it('close() ends waiting callers instead of leaving them hanging', async () => {
        const [a, b] = [await backend(), await backend()];
        const key = freshKey('close');
        const held = (await a.acquire(request(key)))!;
        const waiting = b.acquire(request(key, { waitMs: 30_000 }));
        const settled = waiting.then(
          (lock) => ({ lock }),
          (error: unknown) => ({ error }),
        );
        await sleep(100);
        const startedAt = Date.now();
        await b.close();
        const outcome = await settled;
        expect(Date.now() - startedAt).toBeLessThan(5_000);
        if ('lock' in outcome) expect(outcome.lock).toBeNull();
        await held.release();
      });

      it('holds many distinct keys at once', async () => {
        const [a, b] = [await backend(), await backend()];
        const keys = Array.from({ length: 50 }, () => freshKey('many'));
        const locks = await Promise.all(keys.map((key) => a.acquire(request(key))));
        expect(locks.every((lock) => lock !== null)).toBe(true);
        expect(await b.acquire(request(keys[17]!))).toBeNull();
        expect(await Promise.all(locks.map((lock) => lock!.release()))).toEqual(keys.map(() => true));
      });
    });

    const parts = {
      backend,
      manager,
      freshKey,
      shortLeaseMs,
      fencing,
      fairWaiting: options.fairWaiting ?? true,
    };
    describeManagerConformance(parts);
    describeSharedLockConformance(parts);
  });
}
