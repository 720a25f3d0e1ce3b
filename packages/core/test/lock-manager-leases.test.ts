import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentLock, LockLostError, LockNotAcquiredError } from '../src/index.js';
import { RecordingBackend } from './support/recording-backend.js';

import { useManagers } from './support/use-managers.js';

const createManager = useManagers();

describe('LockManager: leases', () => {
  it('renewal keeps the lock for a section longer than the lease', async () => {
    const { manager, backend } = createManager();
    // A lease several times a loaded machine's timer jitter, held for more than three leases.
    await manager.withLock('k', { leaseMs: 600 }, async (scope) => {
      await sleep(2_000);
      expect(scope.signal.aborted).toBe(false);
    });
    expect(backend.count('extend')).toBeGreaterThanOrEqual(3);
  });

  it('a lock found gone at renewal aborts the signal, fires lost, and rejects with LockLostError after the method settles', async () => {
    const { manager, backend } = createManager();
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    let settled = false;
    const result = manager.withLock('k', { leaseMs: 150 }, async (scope) => {
      backend.loseOnExtend = true;
      await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      expect(currentLock()?.signal.aborted).toBe(true);
      await sleep(20);
      settled = true;
      return 'finished';
    });
    const error = await result.catch((e: unknown) => e);
    expect(settled).toBe(true);
    expect(error).toBeInstanceOf(LockLostError);
    expect(lost).toEqual(['k']);
  });

  it('a backend that reports a loss through lostSignal makes the manager react at once, not at the next renewal', async () => {
    const { manager, backend } = createManager();
    const error = await manager
      .withLock('k', { leaseMs: 60_000 }, async (scope) => {
        setTimeout(() => backend.storeLoss.abort(new Error('session killed')), 10);
        await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toEqual(new Error('session killed'));
    expect(backend.count('extend')).toBe(0);
  });

  it("reads a lock's lostSignal only once the tick it was taken in is over, and still reports a loss from that tick", async () => {
    const { manager, backend } = createManager();
    // Node makes an AbortSignal on first read, and subscribing costs tens of µs: a handed-over
    // lock's caller starts before that bookkeeping.
    const lock = await manager.acquire('k', { leaseMs: 60_000 });
    expect(backend.lostSignalReads).toBe(0);
    backend.storeLoss.abort(new Error('session killed'));
    // Looking at the lock catches up with the store at once.
    expect(lock.signal.aborted).toBe(true);
    await expect(lock.release()).rejects.toBeInstanceOf(LockLostError);
  });

  it('a loss the store signals within the tick, released within that tick by a release that fails, is still reported', async () => {
    const { manager, backend } = createManager();
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    backend.releaseError = new Error('ECONNRESET');
    const error = await manager
      .withLock('k', { leaseMs: 60_000 }, () => {
        backend.storeLoss.abort(new Error('session killed'));
        return 'ok';
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toEqual(new Error('session killed'));
    expect(lost).toEqual(['k']);
  });

  it('a loss the store signals while the release is under way is not reported (the lock is being given back)', async () => {
    const { manager, backend } = createManager();
    const lost: string[] = [];
    manager.on('lost', (event) => lost.push(event.key));
    const lock = await manager.acquire('k', { leaseMs: 60_000 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend.lostSignalReads).toBeGreaterThan(0);
    backend.onRelease = () => backend.storeLoss.abort(new Error('session ended with the release'));
    await expect(lock.release()).resolves.toBeUndefined();
    expect(lost).toEqual([]);
  });

  it('a store that stays unreachable past the lease means the lock is lost, without unhandled rejections', async () => {
    const { manager, backend } = createManager();
    backend.extendError = new Error('ECONNREFUSED');
    const error = await manager
      .withLock('k', { leaseMs: 120 }, async (scope) => {
        await new Promise((resolve) => scope.signal.addEventListener('abort', resolve));
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).cause).toEqual(new Error('ECONNREFUSED'));
    expect(backend.count('extend')).toBeGreaterThanOrEqual(2);
  });

  it('a handle from acquire() is not renewed unless autoRenew, and extend() renews it by hand', async () => {
    const { manager, backend } = createManager();
    const plain = await manager.acquire('a', { leaseMs: 100 });
    await sleep(250);
    expect(backend.count('extend')).toBe(0);
    expect(plain.signal.aborted).toBe(true);
    await expect(plain.release()).rejects.toBeInstanceOf(LockLostError);

    const renewed = await manager.acquire('b', { leaseMs: 100, autoRenew: true });
    await sleep(250);
    expect(renewed.signal.aborted).toBe(false);
    await renewed.release();

    const manual = await manager.acquire('c', { leaseMs: 150 });
    const before = manual.expiresAt;
    await sleep(50);
    await manual.extend(400);
    expect(manual.expiresAt).toBeGreaterThan(before);
    await sleep(200);
    expect(manual.signal.aborted).toBe(false);
    await manual.release();
    await expect(manual.release()).resolves.toBeUndefined();
  });

  it('a handle never released and not renewed frees the local turn when its lease ends', async () => {
    // The lease ending frees the key for other processes; callers of this process must not be
    // kept out longer than they are.
    const { manager } = createManager();
    const forgotten = await manager.acquire('k', { leaseMs: 100 });
    const startedAt = Date.now();
    await expect(manager.withLock('k', { retry: { waitMs: 2_000 } }, async () => 'next')).resolves.toBe(
      'next',
    );
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    await expect(forgotten.release()).rejects.toBeInstanceOf(LockLostError);
    // The late release of the lost handle must not hand the turn to anyone a second time.
    const holder = await manager.acquire('k', { leaseMs: 5_000 });
    await expect(manager.withLock('k', {}, async () => 'barged')).rejects.toBeInstanceOf(
      LockNotAcquiredError,
    );
    await holder.release();
  });

  it('a lostSignal shared by every lock keeps no listener once the locks are released', async () => {
    const { manager, backend } = createManager();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 30; i++) await manager.withLock(`k${i}`, {}, async () => {});
      await Promise.all(Array.from({ length: 30 }, (_, i) => manager.withLock(`p${i}`, {}, async () => {})));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(backend.storeLoss.signal, 'abort')).toHaveLength(0);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('one caller signal shared by 50 concurrent waiting calls prints no listener warning', async () => {
    const { manager } = createManager();
    const shared = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const holder = await manager.acquire('busy', { leaseMs: 5_000 });
      const calls = Array.from({ length: 50 }, (_, i) =>
        manager.withLock(
          i % 2 ? 'busy' : `free${i}`,
          { retry: { waitMs: 5_000 }, signal: shared.signal },
          () => sleep(20),
        ),
      );
      await sleep(50);
      shared.abort(new Error('client went away'));
      const outcomes = await Promise.allSettled(calls);
      await holder.release();
      expect(outcomes.filter((outcome) => outcome.status === 'rejected').length).toBe(25);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('a release that fails at the store does not fail the finished work', async () => {
    const failing = new RecordingBackend();
    const { manager } = createManager(failing);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const lock = failing.acquire.bind(failing);
      failing.acquire = async (request) => {
        const held = await lock(request);
        return held && { ...held, release: () => Promise.reject(new Error('connection reset')) };
      };
      await expect(manager.withLock('k', {}, async () => 'done')).resolves.toBe('done');
      await sleep(10);
      expect(warnings.some((message) => message.includes('connection reset'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
