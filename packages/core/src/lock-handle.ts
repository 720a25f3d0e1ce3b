import { assertDuration } from './duration.js';
import { LockBackendError, LockLostError, withBackendName } from './errors.js';
import type { HeldLock } from './held-lock.js';
import type { HeldLockRegistry } from './held-lock-registry.js';
import type { LockInfo } from './lock-context.js';
import type { LockReleaser } from './lock-releaser.js';

/**
 * A held lock as user code sees it, read-only and live (`fencingToken`, `signal` and `expiresAt`
 * follow the lock). `scope.locks` and `currentLock()` return the same object for the same lock.
 */
export class LockView implements LockInfo {
  readonly #lock: HeldLock;

  constructor(lock: HeldLock) {
    this.#lock = lock;
  }
  get key(): string {
    return this.#lock.key;
  }
  /** The manager's name of the backend that holds it. */
  get backend(): string {
    return this.#lock.backend;
  }
  /** Random owner token; the store only lets this token extend or release the lock. */
  get token(): string {
    return this.#lock.token;
  }
  get fencingToken(): number | undefined {
    return this.#lock.fencingToken;
  }
  get signal(): AbortSignal {
    return this.#lock.signal;
  }
  get expiresAt(): number {
    return this.#lock.expiresAt;
  }
}

/** How a handle releases and extends; the manager supplies it. */
export interface LockHandleControl {
  release(): Promise<void>;
  extend(leaseMs?: number): Promise<void>;
}

/**
 * A lock taken with `LockManager.acquire()`: the live view plus `release` and `extend`. Release it
 * in a `finally`.
 *
 * @example
 * const lock = await manager.acquire('report:daily', { leaseMs: 60_000 });
 * try { await buildReport(lock.signal); } finally { await lock.release(); }
 */
export class LockHandle extends LockView {
  readonly #control: LockHandleControl;

  constructor(lock: HeldLock, control: LockHandleControl) {
    super(lock);
    this.#control = control;
  }
  /** Release the lock. Rejects with `LockLostError` if it was lost meanwhile. Calling it again does nothing. */
  release(): Promise<void> {
    return this.#control.release();
  }
  /** Reset the lease to `leaseMs` (default: the lease it was taken with) from now. */
  extend(leaseMs?: number): Promise<void> {
    return this.#control.extend(leaseMs);
  }
}

/**
 * The handle `acquire()` returns for a lock it took: release once (later calls share the first's
 * outcome), extend by hand.
 */
export function ownedLockHandle(
  lock: HeldLock,
  parts: { readonly releaser: LockReleaser; readonly registry: HeldLockRegistry },
): LockHandle {
  let releasing: Promise<LockLostError | undefined> | undefined;
  return new LockHandle(lock, {
    release: async () => {
      releasing ??= parts.releaser.release(lock, { honorHold: true });
      const lost = await releasing;
      if (lost) throw lost;
    },
    extend: async (leaseMs = lock.leaseMs) => {
      assertDuration('leaseMs', leaseMs);
      if (lock.lostError) throw lock.lostError;
      if (lock.released) throw new LockLostError(lock.key, lock.backend, 'it was already released');
      const sentAt = Date.now();
      let stillOurs: boolean;
      try {
        stillOurs = await lock.backendLock.extend(leaseMs);
      } catch (error) {
        throw withBackendName(
          LockBackendError.wrap(error, { key: lock.key, backend: lock.backend, action: 'extending' }),
          lock.backend,
        );
      }
      if (!stillOurs) {
        if (lock.markLost('it expired before extend() was called')) parts.registry.reportLost(lock);
        throw lock.lostError!;
      }
      lock.extended(sentAt + leaseMs);
    },
  });
}

/** The caller already holds the key higher up its call chain: only the outer scope releases it. */
export function reentrantLockHandle(outer: HeldLock): LockHandle {
  return new LockHandle(outer, { release: async () => {}, extend: async () => {} });
}
