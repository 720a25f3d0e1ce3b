import { LockBackendError, type LockLostError } from './errors.js';
import type { HeldLock } from './held-lock.js';
import { type HeldLockRegistry, lockEventBase } from './held-lock-registry.js';
import type { LockEventListening, LockEventSink } from './lock-events.js';

/** `honorHold: false` (close) frees a lock now even if `holdAtLeastMs` is not over. */
export interface ReleaseMode {
  readonly honorHold: boolean;
}

/** Gives held locks back to their stores: one at a time, or a call's locks in reverse order. */
export class LockReleaser {
  readonly #registry: HeldLockRegistry;
  readonly #emit: LockEventSink;
  readonly #listening: LockEventListening;

  constructor(registry: HeldLockRegistry, emit: LockEventSink, listening: LockEventListening) {
    this.#registry = registry;
    this.#emit = emit;
    this.#listening = listening;
  }

  /** Release in reverse order; resolves to the first loss found, if any. Never rejects. */
  async releaseAll(locks: readonly HeldLock[], mode: ReleaseMode): Promise<LockLostError | undefined> {
    let firstLoss: LockLostError | undefined;
    for (let i = locks.length - 1; i >= 0; i--) {
      const lost = await this.release(locks[i]!, mode);
      firstLoss ??= lost;
    }
    return firstLoss;
  }

  /** Resolves to the lock's loss, if it was lost before or found lost now. Never rejects. */
  async release(lock: HeldLock, mode: ReleaseMode): Promise<LockLostError | undefined> {
    if (lock.released) return lock.lostError;
    lock.retire();
    let stillOurs = true;
    let untilLeaseEnd = false;
    try {
      // holdAtLeastMs: let the store drop it when the time is up instead of deleting it now.
      const holdMs = mode.honorHold ? lock.acquiredAt + lock.holdAtLeastMs - Date.now() : 0;
      untilLeaseEnd = holdMs >= 1;
      const settled = untilLeaseEnd ? lock.backendLock.extend(holdMs) : lock.backendLock.release();
      // After starting the call, not before: unsubscribing from an AbortSignal costs more than
      // starting it, so it overlaps the round trip (the finally covers a call that throws at once).
      lock.stopWatchingStore();
      stillOurs = await settled;
      if (!stillOurs && lock.markLost('another owner holds it now, or it expired')) {
        this.#registry.reportLost(lock);
      }
    } catch (error) {
      // The lease frees the lock eventually; the work under it already happened, so do not fail the call.
      untilLeaseEnd = true;
      const failure = LockBackendError.wrap(error, {
        key: lock.key,
        backend: lock.backend,
        action: 'releasing',
      });
      process.emitWarning(failure.message, { code: 'DLOCK_RELEASE_FAILED', detail: String(failure.cause) });
    } finally {
      lock.stopWatchingStore();
      this.#registry.forget(lock);
    }
    // The event object is built only for listeners: most managers have none.
    if (stillOurs && !lock.lostError && this.#listening('released')) {
      this.#emit('released', { ...lockEventBase(lock), heldMs: Date.now() - lock.acquiredAt, untilLeaseEnd });
    }
    return lock.lostError;
  }
}
