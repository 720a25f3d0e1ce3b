import type { HeldLock } from './held-lock.js';
import type { LockCallPlan, LockKind } from './lock-call-plan.js';
import { findHeldLock } from './lock-context.js';
import { LockUpgradeError, SemaphorePermitsMismatchError } from './shared-lock-errors.js';

/**
 * Which lock a call re-enters: one its async call chain already holds for the same key, if the
 * kinds allow it. A read or write inside a write, and a read inside a read, re-enter; a write
 * inside a read is refused (it would wait for itself); a semaphore re-enters a permit of the same
 * key and permits, and never a lock (they are different things, so neither re-enters the other).
 */
export class LockReentry {
  /** The manager: the async context tells its locks from another manager's. */
  readonly #lockOwner: object;
  /** The async-context owner of this manager's semaphore permits. */
  readonly #semaphoreOwner = {};
  /**
   * What each shared hold holds (read locks and semaphore permits; an exclusive lock is not
   * listed). Kept beside the lock, not in it: only the re-entry rules need it.
   */
  readonly #kinds = new WeakMap<HeldLock, LockKind>();

  constructor(lockOwner: object) {
    this.#lockOwner = lockOwner;
  }

  /** The owner a new lock of `kind` is recorded under in the async context. */
  contextOwner(kind: LockKind): object {
    return kind.type === 'semaphore' ? this.#semaphoreOwner : this.#lockOwner;
  }

  /** Note what a newly taken lock holds, for the calls that will nest inside it. */
  remember(lock: HeldLock, kind: LockKind): void {
    if (kind.type !== 'exclusive') this.#kinds.set(lock, kind);
  }

  /**
   * The held lock this call re-enters for `key`, if any.
   *
   * @throws LockUpgradeError for a write inside a read of the same key.
   * @throws SemaphorePermitsMismatchError for a semaphore re-entered with other permits.
   */
  outerLock(key: string, plan: LockCallPlan): HeldLock | undefined {
    const { kind } = plan;
    if (kind.type === 'semaphore') {
      const outer = findHeldLock(this.#semaphoreOwner, key);
      const outerKind = outer && this.#kinds.get(outer);
      if (outerKind?.type === 'semaphore' && outerKind.permits !== kind.permits) {
        throw new SemaphorePermitsMismatchError({
          key,
          backend: plan.backendName,
          permits: kind.permits,
          storedPermits: outerKind.permits,
        });
      }
      return outer;
    }
    const outer = findHeldLock(this.#lockOwner, key);
    if (outer && kind.type === 'exclusive' && this.#kinds.get(outer)?.type === 'read') {
      throw new LockUpgradeError(key, plan.backendName);
    }
    return outer;
  }
}
