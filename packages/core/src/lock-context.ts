import { AsyncLocalStorage } from 'node:async_hooks';
import type { HeldLock } from './held-lock.js';

/** What the code inside a lock can learn about it. */
export interface LockInfo {
  /** The key as the caller gave it (after template resolution, before the manager's `keyPrefix`). */
  readonly key: string;
  readonly backend: string;
  /** Strictly increasing per key; pass it to the store you protect to reject stale writers. */
  readonly fencingToken: number | undefined;
  /** Aborts if the lock is lost while held. */
  readonly signal: AbortSignal;
  /** Epoch ms when the lease runs out unless renewed. */
  readonly expiresAt: number;
}

interface ContextFrame {
  readonly parent: ContextFrame | undefined;
  readonly entries: readonly HeldLock[];
}

// One storage per process even if both the ESM and the CJS build of this package are loaded.
const STORAGE_KEY = Symbol.for('dlock.asyncLockContext');
const globalSlot = globalThis as { [STORAGE_KEY]?: AsyncLocalStorage<ContextFrame> };
globalSlot[STORAGE_KEY] ??= new AsyncLocalStorage<ContextFrame>();
const storage: AsyncLocalStorage<ContextFrame> = globalSlot[STORAGE_KEY];

/** Run `fn` in a context where `entries` are held by the current call chain, on top of the outer ones. */
export function runWithHeldLocks<T>(entries: readonly HeldLock[], fn: () => T): T {
  return storage.run({ parent: storage.getStore(), entries }, fn);
}

/** The live entry for `key` held by this call chain through `manager`, if any. */
export function findHeldLock(manager: object, key: string): HeldLock | undefined {
  for (let frame = storage.getStore(); frame; frame = frame.parent) {
    for (const entry of frame.entries) {
      if (entry.manager === manager && entry.key === key && !entry.released) return entry;
    }
  }
  return undefined;
}

/**
 * The innermost lock held by this async call chain, or `undefined` outside any lock.
 * With `key`, the lock held for that key.
 *
 * @example
 * await manager.withLock('stock:42', {}, async () => {
 *   const lock = currentLock();
 *   await db.update({ id: 42 }, { qty, fence: lock?.fencingToken });
 * });
 */
export function currentLock(key?: string): LockInfo | undefined {
  for (let frame = storage.getStore(); frame; frame = frame.parent) {
    for (let i = frame.entries.length - 1; i >= 0; i--) {
      const entry = frame.entries[i]!;
      if (!entry.released && (key === undefined || entry.key === key)) return entry.view;
    }
  }
  return undefined;
}
