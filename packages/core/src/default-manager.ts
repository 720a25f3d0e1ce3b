import { InvalidLockOptionsError } from './errors.js';
import type { LockManager } from './lock-manager.js';

// Shared by the ESM and CJS builds, so a manager set through one is seen by decorators of the other.
const SLOT = Symbol.for('dlock.defaultLockManager');
const globalSlot = globalThis as { [SLOT]?: LockManager<string> | undefined };

/**
 * Set the manager used by `@DistributedLock` methods that do not name one. Call it once at startup,
 * before the first decorated call (decoration itself does not need it).
 *
 * @example
 * setDefaultLockManager(new LockManager({ backends: { spin, pubsub } }));
 */
export function setDefaultLockManager<B extends string>(manager: LockManager<B> | undefined): void {
  globalSlot[SLOT] = manager as LockManager<string> | undefined;
}

/** The manager set by {@link setDefaultLockManager}; throws a clear error when none is set. */
export function getDefaultLockManager(): LockManager {
  const manager = globalSlot[SLOT];
  if (!manager) {
    throw new InvalidLockOptionsError(
      'No default LockManager is set: call setDefaultLockManager(new LockManager({ backends })) at startup, ' +
        'or pass { manager } to @DistributedLock.',
    );
  }
  return manager;
}
