/**
 * Attribute names dlock puts on its spans and metrics. Low-cardinality ones (backend, key template,
 * outcome) go on metrics; the rest only on spans.
 *
 * @example
 * const timedOut = spans.filter((span) => span.attributes[DLOCK_ATTRIBUTES.outcome] === 'timeout');
 */
export const DLOCK_ATTRIBUTES = {
  /** The lock's key, as chosen by the `keyAttribute` option (the template by default). */
  key: 'dlock.lock.key',
  /** Who asked: `Class.method` for decorated methods, the call's `label` option otherwise. */
  label: 'dlock.lock.label',
  /** The manager's name of the backend (`spin`, `pubsub`, `mysql`, ...). */
  backend: 'dlock.backend',
  /** How an acquisition ended: see {@link AcquireOutcome}. */
  outcome: 'dlock.lock.outcome',
  /** Whether the key was taken when the call arrived. */
  contended: 'dlock.lock.contended',
  /** Time from the call to the lock (or to giving up), in ms. */
  waitedMs: 'dlock.lock.waited_ms',
  /** The call's `retry.waitMs`: how long it was allowed to wait (0 = try once). */
  maxWaitMs: 'dlock.lock.max_wait_ms',
  /** The lease asked for, in ms. */
  leaseMs: 'dlock.lock.lease_ms',
  /** The backend's fencing token of this acquisition, when it has one. */
  fencingToken: 'dlock.lock.fencing_token',
  /** How long the lock was held, in ms. */
  heldMs: 'dlock.lock.held_ms',
  /** How a hold ended: see {@link HoldEnd}. */
  holdEnd: 'dlock.lock.hold.end',
  /** Renewals of the lease during the hold. */
  renewals: 'dlock.lock.renewals',
  /** Renewals that did not reach the store during the hold (each retried while the lease lasts). */
  renewalFailures: 'dlock.lock.renewal_failures',
  /** Why a call skipped its work: `held` (try-once) or `timeout`. */
  skipReason: 'dlock.lock.skip.reason',
  /** OTel's general attribute: the `LockError` code of a failed acquisition or a loss. */
  errorType: 'error.type',
} as const;

/**
 * Metric instrument names (OTel semantic-convention style: `dlock.lock.*`, durations in seconds).
 *
 * @example
 * const waits = metrics.find((metric) => metric.descriptor.name === DLOCK_METRICS.waitDuration);
 */
export const DLOCK_METRICS = {
  /** Histogram (s): time from the call to the lock, or to giving up; by outcome. */
  waitDuration: 'dlock.lock.wait.duration',
  /** Histogram (s): time a lock was held; by how the hold ended. */
  holdDuration: 'dlock.lock.hold.duration',
  /** Counter: acquisitions, one per call and key, by outcome. */
  acquisitions: 'dlock.lock.acquisitions',
  /** Counter: held locks that were lost. */
  losses: 'dlock.lock.losses',
  /** Counter: calls that did not run their work because the lock stayed taken. */
  skips: 'dlock.lock.skips',
  /** Counter: lease renewals. */
  renewals: 'dlock.lock.renewals',
  /** Counter: lease renewals that did not reach the store. */
  renewalFailures: 'dlock.lock.renewal_failures',
  /** Histogram (s): event-loop stalls that threatened held leases (the core's `lag` event). */
  stallDuration: 'dlock.event_loop.stall.duration',
  /** UpDownCounter: locks this process holds now. */
  held: 'dlock.lock.held',
  /** UpDownCounter: calls of this process waiting for a lock now (asked, not yet acquired or failed). */
  waiting: 'dlock.lock.waiting',
} as const;

/**
 * How one acquisition ended (`dlock.lock.outcome`): `not_acquired` = a try-once call found the key
 * taken; `aborted` = the caller's signal; `error` = the store failed or the manager closed.
 */
export type AcquireOutcome = 'acquired' | 'not_acquired' | 'timeout' | 'aborted' | 'error';

/**
 * How a hold ended (`dlock.lock.hold.end`): `released`, `lost` (lease ran out, store dropped it), or
 * `unknown` (still open when the instrumentation was removed).
 */
export type HoldEnd = 'released' | 'lost' | 'unknown';
