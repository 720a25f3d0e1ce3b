import { setTimeout as sleep } from 'node:timers/promises';
import type { LockBackend, LockManager } from '@dlock/core';
import { expect } from 'vitest';

/** What the sections of {@link runLockBackendConformance} share: fresh backends, managers and keys. */
export interface ConformanceParts {
  readonly backend: () => Promise<LockBackend>;
  readonly manager: () => Promise<LockManager>;
  readonly freshKey: (label: string) => string;
  readonly shortLeaseMs: number;
  readonly fencing: boolean;
  /** Whether waiters are served in arrival order (false for spinning backends). */
  readonly fairWaiting: boolean;
}

/**
 * Start `wait` while `held` is held, release `held` 200 ms later, and check the waiter got its lock
 * only after that release. Returns the waiter's lock, for the caller to release.
 *
 * @example
 * const lock = await waiterGetsItOnRelease(held, () => b.acquire(request(key, { waitMs: 10_000 })));
 */
export async function waiterGetsItOnRelease<T>(
  held: { release(): Promise<unknown> },
  wait: () => Promise<T | null>,
): Promise<T> {
  const events: string[] = [];
  const waiting = wait().then((lock) => {
    events.push('acquired');
    return lock;
  });
  await sleep(200);
  events.push('releasing');
  await held.release();
  const lock = await waiting;
  expect(lock).not.toBeNull();
  expect(events).toEqual(['releasing', 'acquired']);
  return lock!;
}
