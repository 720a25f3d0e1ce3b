import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryLockStore } from './memory-lock-store.js';

describe('MemoryLockStore', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('one holder per key; fencing tokens strictly increase per key', () => {
    const store = new MemoryLockStore();
    const first = store.tryAcquire('k', 'a', 100);
    expect(store.tryAcquire('k', 'b', 100)).toBeUndefined();
    expect(store.release('k', 'a')).toBe(true);
    const second = store.tryAcquire('k', 'b', 100);
    expect(second).toBeGreaterThan(first!);
  });

  it('never lets a stranger extend or release', () => {
    const store = new MemoryLockStore();
    store.tryAcquire('k', 'a', 100);
    expect(store.extend('k', 'b', 1_000)).toBe(false);
    expect(store.release('k', 'b')).toBe(false);
    expect(store.release('k', 'a')).toBe(true);
    expect(store.release('k', 'a')).toBe(false);
  });

  it('a lease that runs out frees the key; extend no longer revives it', () => {
    const store = new MemoryLockStore();
    store.tryAcquire('k', 'a', 100);
    vi.advanceTimersByTime(100);
    expect(store.extend('k', 'a', 1_000)).toBe(false);
    expect(store.tryAcquire('k', 'b', 100)).toBeDefined();
  });

  it('reports the remaining lease', () => {
    const store = new MemoryLockStore();
    store.tryAcquire('k', 'a', 100);
    vi.advanceTimersByTime(30);
    expect(store.remainingLeaseMs('k')).toBe(70);
  });
});
