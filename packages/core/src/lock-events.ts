import type { LockError } from './errors.js';

interface LockEventBase {
  /** The key as the caller gave it (before the manager's `keyPrefix`). */
  readonly key: string;
  readonly backend: string;
}

export interface LockAcquiredEvent extends LockEventBase {
  /** Time from the call to the lock being held, local queue included. */
  readonly waitedMs: number;
  readonly fencingToken: number | undefined;
}
export interface LockReleasedEvent extends LockEventBase {
  readonly heldMs: number;
}
export interface LockContendedEvent extends LockEventBase {}
export interface LockTimeoutEvent extends LockEventBase {
  readonly waitedMs: number;
}
export interface LockSkippedEvent extends LockEventBase {
  /** `held`: a try-once call found the key taken; `timeout`: the wait ran out. */
  readonly reason: 'held' | 'timeout';
}
export interface LockLostEvent extends LockEventBase {
  readonly heldMs: number;
  readonly error: LockError;
}

/** Events of a {@link LockManager}, for metrics and logs. Listeners must not throw. */
export interface LockManagerEvents {
  /** A lock was taken in the store (re-entries are not reported). */
  acquired: [LockAcquiredEvent];
  /** A lock was released in the store. */
  released: [LockReleasedEvent];
  /** A caller found the key taken and started to wait. */
  contended: [LockContendedEvent];
  /** A caller gave up after `retry.waitMs`. */
  timeout: [LockTimeoutEvent];
  /** A held lock was lost (lease ran out, store dropped it, connection died). */
  lost: [LockLostEvent];
  /**
   * A `tryWithLock` call, or a method decorated with `onLocked: 'skip'`, did not run because the
   * lock stayed taken (follows the `timeout` event when the wait ran out).
   */
  skipped: [LockSkippedEvent];
}

/** Emits one manager event; never throws (see {@link emitSafely}). */
export type LockEventSink = <E extends keyof LockManagerEvents>(
  event: E,
  ...args: LockManagerEvents[E]
) => void;

/**
 * Emit without letting a throwing listener break lock bookkeeping: the listener's error becomes a
 * process warning (`DLOCK_LISTENER_THREW`).
 *
 * @example
 * const emit: LockEventSink = (event, ...args) => emitSafely(manager, event, ...args);
 */
export function emitSafely<E extends keyof LockManagerEvents>(
  emitter: { emit(event: E, ...args: LockManagerEvents[E]): boolean },
  event: E,
  ...args: LockManagerEvents[E]
): void {
  try {
    emitter.emit(event, ...args);
  } catch (error) {
    process.emitWarning(`A "${String(event)}" listener of LockManager threw: ${String(error)}`, {
      code: 'DLOCK_LISTENER_THREW',
    });
  }
}
