import type { HeldLock } from './held-lock.js';
import type { LocalKeyQueue } from './local-key-queue.js';
import type { LockCallPlan } from './lock-call-plan.js';
import type { LockEventSink } from './lock-events.js';

/**
 * The locks a manager holds in its stores, and the bookkeeping every way out of holding shares:
 * the key's local turn goes to the next caller of this process exactly once (at release, or
 * earlier at a loss), and a loss is reported once.
 */
export class HeldLockRegistry {
  readonly #locks = new Set<HeldLock>();
  readonly #localQueue: LocalKeyQueue;
  readonly #emit: LockEventSink;
  readonly #onCountChange: (count: number) => void;

  constructor(localQueue: LocalKeyQueue, emit: LockEventSink, onCountChange: (count: number) => void) {
    this.#localQueue = localQueue;
    this.#emit = emit;
    this.#onCountChange = onCountChange;
  }

  add(lock: HeldLock): void {
    this.#locks.add(lock);
    this.#onCountChange(this.#locks.size);
  }

  /** The locks held now (live: for iterating, not keeping). */
  get locks(): Iterable<HeldLock> {
    return this.#locks;
  }

  /** Every lock still held, for close(). */
  snapshot(): HeldLock[] {
    return [...this.#locks];
  }

  /** The lock is no longer held by this process (released, or given up). */
  forget(lock: HeldLock): void {
    if (this.#locks.delete(lock)) this.#onCountChange(this.#locks.size);
    this.#giveBackTurn(lock);
  }

  /** Call after `lock.markLost()` returned true. */
  reportLost(lock: HeldLock): void {
    // The lock is gone everywhere: this process must not keep its own callers out longer than others.
    this.#giveBackTurn(lock);
    this.#emit('lost', {
      ...lockEventBase(lock),
      heldMs: Date.now() - lock.acquiredAt,
      error: lock.lostError!,
    });
  }

  reportRenewed(lock: HeldLock): void {
    this.#emit('renewed', { ...lockEventBase(lock), expiresAt: lock.expiresAt });
  }

  reportRenewalFailed(lock: HeldLock, error: unknown): void {
    this.#emit('renewalFailed', { ...lockEventBase(lock), error });
  }

  #giveBackTurn(lock: HeldLock): void {
    if (lock.giveBackTurn()) this.#localQueue.leave(lock.key);
  }
}

/** What every event about one acquisition or held lock carries. */
export interface LockEventFields {
  key: string;
  backend: string;
  token: string;
  label: string | undefined;
  keyTemplate: string | undefined;
}

/** The event fields of an attempt of `plan` at `key` under owner token `token`. */
export function eventFields(key: string, plan: LockCallPlan, token: string): LockEventFields {
  return { key, backend: plan.backendName, token, label: plan.label, keyTemplate: plan.keyTemplate };
}

/** The fields every event about `lock` carries. */
export function lockEventBase(lock: HeldLock): LockEventFields {
  return {
    key: lock.key,
    backend: lock.backend,
    token: lock.token,
    label: lock.label,
    keyTemplate: lock.keyTemplate,
  };
}
