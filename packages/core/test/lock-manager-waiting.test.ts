import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  LockAbortedError,
  LockError,
  LockNotAcquiredError,
  LockTimeoutError,
  MemoryLockStore,
} from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

describe('LockManager: waiting', () => {
  it('try-once rejects at once with LockNotAcquiredError, after exactly one store attempt by the other server', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    await a.manager.withLock('k', {}, async () => {
      const error = await b.manager.withLock('k', {}, async () => 'ran').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(LockError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
      expect(b.backend.calls).toEqual([{ op: 'acquire', key: 'k', waitMs: 0 }]);
    });
  });

  it('a try-once caller of the same process is refused locally without a store call', async () => {
    const { manager, backend } = createManager();
    await manager.withLock('k', {}, async () => {
      await Promise.resolve();
    });
    let leave!: () => void;
    let entered!: () => void;
    const hasEntered = new Promise<void>((resolve) => (entered = resolve));
    // Held until the assertion is done, however slow the machine is.
    const inside = manager.withLock('k', {}, () => {
      entered();
      return new Promise<void>((resolve) => (leave = resolve));
    });
    await hasEntered;
    await expect(
      // A different async chain: not reentrant.
      new Promise((resolve, reject) =>
        setImmediate(() => manager.withLock('k', {}, async () => 1).then(resolve, reject)),
      ),
    ).rejects.toBeInstanceOf(LockNotAcquiredError);
    leave();
    await inside;
    expect(backend.count('acquire')).toBe(2);
  });

  it('times out near retry.waitMs with LockTimeoutError and a timeout event', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    const timeouts: number[] = [];
    b.manager.on('timeout', (event) => timeouts.push(event.waitedMs));
    await a.manager.withLock('k', {}, async () => {
      const startedAt = Date.now();
      const error = await b.manager
        .withLock('k', { retry: { waitMs: 300 } }, async () => 1)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as LockTimeoutError).waitMs).toBe(300);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    });
    expect(timeouts).toHaveLength(1);
  });

  it('callers of one process queue locally (FIFO): only the head talks to the store', async () => {
    const { manager, backend } = createManager();
    const order: number[] = [];
    const holder = manager.withLock('k', {}, () => sleep(50));
    await sleep(5);
    const waiters = [1, 2, 3, 4, 5].map((n) =>
      manager.withLock('k', { retry: { waitMs: 5_000 } }, async () => {
        order.push(n);
        // While one of us holds the key, the rest wait locally: no store waiter piles up.
        expect(backend.calls.filter((call) => call.op === 'acquire').length).toBe(1 + order.length);
      }),
    );
    await Promise.all([holder, ...waiters]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(backend.count('acquire')).toBe(6);
  });

  it('the AbortSignal cancels waiting with LockAbortedError', async () => {
    const { manager } = createManager();
    const controller = new AbortController();
    const holder = manager.withLock('k', {}, () => sleep(300));
    await sleep(5);
    const waiting = new Promise((resolve, reject) =>
      setImmediate(() =>
        manager
          .withLock('k', { retry: { waitMs: 10_000 }, signal: controller.signal }, async () => 1)
          .then(resolve, reject),
      ),
    );
    setTimeout(() => controller.abort(new Error('client went away')), 30);
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAbortedError);
    expect((error as LockAbortedError).cause).toEqual(new Error('client went away'));
    await holder;
  });

  it('lease arithmetic starts from the successful attempt, not from the first try', async () => {
    const store = new MemoryLockStore();
    const a = createManager(new RecordingBackend(store));
    const b = createManager(new RecordingBackend(store));
    const release = a.manager.acquire('k', { leaseMs: 5_000 });
    const held = await release;
    setTimeout(() => void held.release(), 300);
    const lock = await b.manager.acquire('k', { retry: { waitMs: 5_000 }, leaseMs: 1_000 });
    expect(lock.expiresAt - Date.now()).toBeGreaterThan(800);
    await lock.release();
  });
});
