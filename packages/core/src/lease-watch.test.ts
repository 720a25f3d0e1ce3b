import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseWatch } from './lease-watch.js';
import type { BackendLock } from './lock-backend.js';

function fakeLock(extend: BackendLock['extend']): BackendLock {
  return { expiresAt: Date.now() + 300, extend, release: async () => true };
}

function watch(lock: BackendLock, renew = true) {
  const events: string[] = [];
  const watcher = new LeaseWatch(
    lock,
    {
      leaseRenewed: (expiresAt) => events.push(`renewed:${expiresAt - Date.now()}`),
      leaseRenewalFailed: (error) => events.push(`failed:${String(error)}`),
      leaseRanOut: (cause) => events.push(`lost:${String(cause)}`),
    },
    { leaseMs: 300, renew },
    lock.expiresAt,
  );
  return { watcher, events };
}

describe('LeaseWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('renews every leaseMs / 3 and pushes the expiry out each time', async () => {
    const extend = vi.fn(async () => true);
    const { watcher, events } = watch(fakeLock(extend));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(extend).toHaveBeenCalledTimes(10);
    expect(events.every((event) => event === 'renewed:300')).toBe(true);
    watcher.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a renewal that finds the lock gone reports the loss once and stops', async () => {
    const extend = vi.fn(async () => false);
    const { events } = watch(fakeLock(extend));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(extend).toHaveBeenCalledTimes(1);
    expect(events).toEqual(['lost:undefined']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a store that stays unreachable: retries every leaseMs / 6, then loses the lock at the lease end with the last error', async () => {
    const extend = vi.fn(async () => {
      throw new Error('ECONNREFUSED');
    });
    const { events } = watch(fakeLock(extend));
    await vi.advanceTimersByTimeAsync(300);
    expect(events.filter((event) => event.startsWith('failed'))).toHaveLength(extend.mock.calls.length);
    expect(extend.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toBe('lost:Error: ECONNREFUSED');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a renewal that hangs still ends in a loss at the lease end', async () => {
    const { events } = watch(fakeLock(() => new Promise(() => {})));
    await vi.advanceTimersByTimeAsync(300);
    expect(events).toEqual(['lost:undefined']);
  });

  it('without renew it only watches the expiry', async () => {
    const extend = vi.fn(async () => true);
    const { events } = watch(fakeLock(extend), false);
    await vi.advanceTimersByTimeAsync(300);
    expect(extend).not.toHaveBeenCalled();
    expect(events).toEqual(['lost:undefined']);
  });

  it('extended() by hand moves the expiry; stop() cancels everything', async () => {
    const { watcher, events } = watch(
      fakeLock(async () => true),
      false,
    );
    await vi.advanceTimersByTimeAsync(200);
    watcher.extended(Date.now() + 300);
    await vi.advanceTimersByTimeAsync(200);
    expect(events).toEqual([]);
    watcher.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events).toEqual([]);
  });

  it('keeps one timer for renewal and expiry together', async () => {
    const { watcher } = watch(fakeLock(async () => true));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(250);
    expect(vi.getTimerCount()).toBe(1);
    watcher.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows an expiry the backend pushed out by itself, and still renews on time', async () => {
    const extend = vi.fn(async () => true);
    // A handed-over lock: a short pickup lease first, then the backend claims the full lease.
    const lock = { expiresAt: Date.now() + 50, extend, release: async () => true };
    const events: string[] = [];
    new LeaseWatch(
      lock,
      {
        leaseRenewed: () => events.push('renewed'),
        leaseRenewalFailed: () => events.push('failed'),
        leaseRanOut: () => events.push('lost'),
      },
      { leaseMs: 300, renew: true },
      lock.expiresAt,
    );
    lock.expiresAt = Date.now() + 300;
    await vi.advanceTimersByTimeAsync(110);
    expect(events).toEqual(['renewed']);
    expect(extend).toHaveBeenCalledTimes(1);
  });

  it('armLater: no timer until armIfIdle(), none for a watch stopped before it, the same deadlines otherwise', async () => {
    const listener = { leaseRenewed: () => {}, leaseRenewalFailed: () => {}, leaseRanOut: vi.fn() };
    const lock = fakeLock(async () => true);
    const settings = { leaseMs: 300, renew: false, armLater: true };
    const stopped = new LeaseWatch(lock, listener, settings, lock.expiresAt);
    stopped.stop();
    stopped.armIfIdle();
    const kept = new LeaseWatch(lock, listener, settings, lock.expiresAt);
    expect(vi.getTimerCount()).toBe(0);
    kept.armIfIdle();
    kept.armIfIdle();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(299);
    expect(listener.leaseRanOut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.leaseRanOut).toHaveBeenCalledTimes(1);
    kept.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
