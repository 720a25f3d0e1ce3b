/** A backend operation {@link faultyBackend} can slow down or fail. */
export type BackendOperation = 'acquire' | 'extend' | 'release';

/**
 * Make calls of one operation fail.
 *
 * @example
 * backend.faults.failAcquire = { times: 2 }; // the next two acquires reject with a LockBackendError
 */
export interface CallFailure {
  /**
   * What the call rejects with; a function makes a fresh error per call.
   * Default: a retryable `LockBackendError` naming the injected fault.
   */
  readonly error?: Error | (() => Error);
  /** Fail only the next `times` calls, then clear this fault. Default: every call until cleared. */
  times?: number;
  /**
   * `"before"` (default): the store never sees the call. `"after"`: the store does it, but the reply
   * is lost, e.g. an acquire that took the lock yet rejects, leaving the lock held until its lease ends.
   */
  readonly when?: 'before' | 'after';
}

/**
 * How a waiting acquire behaves when wake-ups are swallowed: `true` = it notices nothing and tries
 * once more only when its `waitMs` is over; `{ recheckMs }` = it re-tries every `recheckMs`, like a
 * backend whose release messages are lost but whose fallback timer still fires.
 *
 * @example
 * const swallow: SwallowedWakeups = { recheckMs: 500 };
 */
export type SwallowedWakeups = boolean | { readonly recheckMs: number };

/**
 * The faults a {@link FaultyBackend} injects. Mutable: change fields (or call `setFaults`) while a
 * test runs; every call reads them when it starts.
 *
 * @example
 * const faults: BackendFaults = { delayMs: { acquire: 50 }, failRelease: { times: 1 }, loseLockAfterMs: 200 };
 */
export interface BackendFaults {
  /** Added before each call of an operation reaches the backend. Default 0. */
  delayMs?: Partial<Record<BackendOperation, number>>;
  failAcquire?: CallFailure | undefined;
  failExtend?: CallFailure | undefined;
  failRelease?: CallFailure | undefined;
  /**
   * Every lock acquired while this is set is reported lost this many ms after it was acquired:
   * its `lostSignal` aborts, the wrapper releases it in the store (as a real loss would let
   * another caller in), `extend` resolves `false` and `release` resolves `false`.
   */
  loseLockAfterMs?: number | undefined;
  /** A waiting acquire (`waitMs > 0`) does not see releases. See {@link SwallowedWakeups}. */
  swallowWakeups?: SwallowedWakeups | undefined;
}
