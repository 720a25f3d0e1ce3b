import type { LockError } from './errors.js';

/** What every event says about the call it belongs to. */
export interface LockCallEvent {
  /** The key as the caller gave it (before the manager's `keyPrefix`). */
  readonly key: string;
  /** The manager's name of the backend. */
  readonly backend: string;
  /** The `@DistributedLock` key template (`stock:{0}`): a low-cardinality name for telemetry. */
  readonly keyTemplate: string | undefined;
  /** Who asks: `Class.method` for decorated methods, the `label` option of a call. */
  readonly label: string | undefined;
}

/** An event about one acquisition of one key: `token` ties `acquiring` to `released`/`lost`. */
interface LockEventBase extends LockCallEvent {
  /** Owner token of this acquisition, the same in every event about it. */
  readonly token: string;
}

/** Fired synchronously in the caller's async context when it starts to ask for a key. */
export interface LockAcquiringEvent extends LockEventBase {
  /** 0 = a single attempt. */
  readonly waitMs: number;
  readonly leaseMs: number;
}
/** A lock was taken in the store. */
export interface LockAcquiredEvent extends LockEventBase {
  /** Time from the call to the lock being held, local queue included. */
  readonly waitedMs: number;
  readonly fencingToken: number | undefined;
  /** Whether the key was taken when the call arrived (it had to wait). */
  readonly contended: boolean;
}
/** The acquisition ended without the lock (any reason: held, timeout, abort, store failure). */
export interface LockFailedEvent extends LockEventBase {
  readonly waitedMs: number;
  readonly error: LockError;
}
/** This process stopped holding a lock it still owned (released, or left to its lease). */
export interface LockReleasedEvent extends LockEventBase {
  readonly heldMs: number;
  /**
   * `true` when the store frees it only when its lease runs out: `holdAtLeastMs` asked for that,
   * or the release could not reach the store (a `DLOCK_RELEASE_FAILED` warning says why).
   */
  readonly untilLeaseEnd: boolean;
}
/** The key was taken when the caller arrived: it waits (local queue or store). */
export interface LockContendedEvent extends LockEventBase {}
/** A waiting caller gave up after `retry.waitMs`. */
export interface LockTimeoutEvent extends LockEventBase {
  readonly waitedMs: number;
}
/** A held lock's lease was renewed in the store. */
export interface LockRenewedEvent extends LockEventBase {
  /** The new local expiry (epoch ms). */
  readonly expiresAt: number;
}
/** A renewal did not reach the store; the lease watch retries while the lease lasts. */
export interface LockRenewalFailedEvent extends LockEventBase {
  /** Why the store did not answer; the lease watch retries while the lease lasts. */
  readonly error: unknown;
}
/** A call did not run its work because the lock stayed taken. */
export interface LockSkippedEvent extends LockCallEvent {
  /** `held`: a try-once call found the key taken; `timeout`: the wait ran out. */
  readonly reason: 'held' | 'timeout';
}
/** A held lock was lost; `error` says how. */
export interface LockLostEvent extends LockEventBase {
  readonly heldMs: number;
  readonly error: LockError;
}

/**
 * The event loop stalled (synchronous work, a GC pause, a frozen process) for long enough to
 * threaten held leases: no renewal could run meanwhile.
 */
export interface LockLagEvent {
  /** How long the event loop could not run timers, in ms. */
  readonly stalledMs: number;
  /** Keys whose renewal margin the stall ate more than `lagAlarmShare` of; renewed at once if still held. */
  readonly keys: readonly string[];
  /** Those of `keys` whose lease ran out during the stall: another process may hold them now. */
  readonly expiredKeys: readonly string[];
}

/** Events of a {@link LockManager}, for metrics, traces and logs. Listeners must not throw. */
export interface LockManagerEvents {
  /** A caller starts to ask for a key (emitted in the caller's async context). */
  acquiring: [LockAcquiringEvent];
  /** A lock was taken in the store (re-entries are not reported). */
  acquired: [LockAcquiredEvent];
  /** An acquisition ended without the lock; `error` says why. */
  failed: [LockFailedEvent];
  /** A lock was released in the store. */
  released: [LockReleasedEvent];
  /** A caller found the key taken and started to wait. */
  contended: [LockContendedEvent];
  /** A caller gave up after `retry.waitMs` (also reported as `failed`). */
  timeout: [LockTimeoutEvent];
  /** A held lock's lease was renewed. */
  renewed: [LockRenewedEvent];
  /** A renewal failed (store unreachable); it is retried while the lease lasts. */
  renewalFailed: [LockRenewalFailedEvent];
  /** A held lock was lost (lease ran out, store dropped it, connection died). */
  lost: [LockLostEvent];
  /** The event loop stalled long enough to threaten held leases. */
  lag: [LockLagEvent];
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
 * Whether anyone listens to `event`: the hot path builds an event object only then (most managers
 * have no listeners, and three objects per call were a measurable share of the per-call work).
 */
export type LockEventListening = (event: keyof LockManagerEvents) => boolean;

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
