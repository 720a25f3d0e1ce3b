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

/**
 * How handles release and extend their locks: one per manager, shared by every handle (a handle
 * keeps no closures of its own: heap per held lock, issue #18).
 */
export interface LockHandleControl {
  /** Release `lock`; resolves to its loss, if any. Never rejects. */
  release(lock: HeldLock): Promise<LockLostError | undefined>;
  extend(lock: HeldLock, leaseMs: number): Promise<void>;
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
  readonly #lock: HeldLock;
  /** Undefined for a re-entered lock: the outer scope that took it releases it. */
  readonly #control: LockHandleControl | undefined;
  #releasing: Promise<LockLostError | undefined> | undefined;

  constructor(lock: HeldLock, control: LockHandleControl | undefined) {
    super(lock);
    this.#lock = lock;
    this.#control = control;
  }
  /** Release the lock. Rejects with `LockLostError` if it was lost meanwhile. Calling it again does nothing. */
  async release(): Promise<void> {
    if (!this.#control) return;
    // Later calls share the first one's outcome.
    this.#releasing ??= this.#control.release(this.#lock);
    const lost = await this.#releasing;
    if (lost) throw lost;
  }
  /** Reset the lease to `leaseMs` (default: the lease it was taken with) from now. */
  async extend(leaseMs: number = this.#lock.leaseMs): Promise<void> {
    await this.#control?.extend(this.#lock, leaseMs);
  }
}

/** The {@link LockHandleControl} of a manager: releases through `releaser`, reports losses to `registry`. */
export function lockHandleControl(parts: {
  readonly releaser: LockReleaser;
  readonly registry: HeldLockRegistry;
}): LockHandleControl {
  return {
    release: (lock) => parts.releaser.release(lock, { honorHold: true }),
    extend: async (lock, leaseMs) => {
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
  };
}
