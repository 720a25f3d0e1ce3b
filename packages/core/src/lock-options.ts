import { assertDuration, describeValue } from './duration.js';
import { InvalidLockOptionsError } from './errors.js';

/** Default time to wait for a held lock when `retry` is `true` or `{}`. */
export const DEFAULT_WAIT_MS = 10_000;
/** Default lease: how long the store keeps a lock whose holder died. */
export const DEFAULT_LEASE_MS = 30_000;

/** `false`/omitted: one attempt. `true`: wait up to 10 s. `{ waitMs }`: wait up to `waitMs`. */
export type RetryOption = boolean | { readonly waitMs?: number | undefined };

/**
 * Backend names of the default manager, for type-checking `backend` in decorators that name no
 * `manager`. Empty by default (any string). Augment it once in your app:
 *
 * @example
 * declare module '@dlock/core' {
 *   interface LockBackendNames { spin: true; pubsub: true }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface LockBackendNames {}

/** `keyof LockBackendNames` once augmented, otherwise any string. */
export type DefaultBackendName = [keyof LockBackendNames] extends [never]
  ? string
  : Extract<keyof LockBackendNames, string>;

/** Options shared by the decorator, `withLock` and `acquire`; `B` is the manager's backend names. */
export interface LockOptions<B extends string = string> {
  /** Whether and how long to wait for a held lock. Default: one attempt. */
  readonly retry?: RetryOption | undefined;
  /** Lease in ms; renewed every `leaseMs / 3` while the critical section runs. Default 30 000. */
  readonly leaseMs?: number | undefined;
  /** Backend name from the manager's `backends` (a typo is a compile error). Default: the manager's `route`. */
  readonly backend?: B | undefined;
  /**
   * Keep the lock until at least this many ms after it was taken, even when the work ends sooner
   * (ShedLock's `lockAtLeastFor`): the end of the scope shortens the lease to the time left instead
   * of deleting the lock, so a replica whose clock or schedule runs a little late finds the job's
   * lock still held and skips. Default 0 (release at once).
   */
  readonly holdAtLeastMs?: number | undefined;
}

/**
 * `'write'` (default: an exclusive lock, what every lock without `mode` is) or `'read'`: readers of
 * one key hold it together, a writer excludes readers and writers. A waiting writer keeps readers
 * that come after it out, so a steady stream of readers cannot starve it.
 */
export type LockMode = 'read' | 'write';

/** `mode` of the decorator, `withLock`, `tryWithLock` and `acquire`. */
export interface LockModeOption {
  /** `'write'` (default, exclusive) or `'read'` (shared with other readers of the key). */
  readonly mode?: LockMode | undefined;
}

/** Options of `withSemaphore`, `tryWithSemaphore` and `@DistributedSemaphore`, on top of the lock options. */
export interface SemaphoreLimit {
  /** At most this many holders of the key at once, across all processes (positive integer). Every caller of one key must pass the same value. */
  readonly permits: number;
}

/** Options of `withLock` and `acquire`: the decorator's plus a cancel signal. */
export interface CallLockOptions<B extends string = string> extends LockOptions<B>, LockModeOption {
  /** Aborting it stops waiting for the lock (rejects with `LockAbortedError`). */
  readonly signal?: AbortSignal | undefined;
  /** Who asks, for events, traces and lock inspection (`"nightly-report"`). Decorators set `Class.method`. */
  readonly label?: string | undefined;
  /** The template the keys came from (`"stock:{0}"`), for low-cardinality telemetry. Decorators set it. */
  readonly keyTemplate?: string | undefined;
}

/** Options of `acquire`. */
export interface AcquireOptions<B extends string = string> extends CallLockOptions<B> {
  /** Renew the lease every `leaseMs / 3` until released. Default `false`: a forgotten handle expires. */
  readonly autoRenew?: boolean | undefined;
}

/** Options of `withSemaphore` and `tryWithSemaphore`. */
export interface CallSemaphoreOptions<B extends string = string> extends CallOptionsBase<B>, SemaphoreLimit {}

/** Options of `acquireSemaphore`. */
export interface AcquireSemaphoreOptions<B extends string = string> extends CallSemaphoreOptions<B> {
  /** Renew the lease every `leaseMs / 3` until released. Default `false`: a forgotten handle expires. */
  readonly autoRenew?: boolean | undefined;
}

/** {@link CallLockOptions} without `mode`. */
export type CallOptionsBase<B extends string = string> = Omit<CallLockOptions<B>, 'mode'>;

/** Defaults a manager applies when a call does not say. */
export interface LockDefaults {
  readonly retry?: RetryOption | undefined;
  readonly leaseMs?: number | undefined;
  /** Used for `retry: true` and `retry: {}`. Default 10 000. */
  readonly waitMs?: number | undefined;
}

export interface ResolvedTiming {
  /** 0 = a single attempt. */
  readonly waitMs: number;
  readonly leaseMs: number;
  readonly holdAtLeastMs: number;
}

/** Resolve `retry`/`leaseMs` against manager defaults, rejecting impossible values before any store call. */
export function resolveTiming(options: LockOptions, defaults: LockDefaults = {}): ResolvedTiming {
  const leaseMs = assertDuration('leaseMs', options.leaseMs ?? defaults.leaseMs ?? DEFAULT_LEASE_MS);
  const retry = options.retry ?? defaults.retry ?? false;
  let waitMs = 0;
  if (retry === true) {
    waitMs = defaults.waitMs ?? DEFAULT_WAIT_MS;
  } else if (typeof retry === 'object' && retry !== null) {
    waitMs = retry.waitMs ?? defaults.waitMs ?? DEFAULT_WAIT_MS;
  } else if (retry !== false) {
    throw new InvalidLockOptionsError(`retry must be a boolean or { waitMs }, got ${describeValue(retry)}.`);
  }
  if (retry !== false) assertDuration('retry.waitMs', waitMs);
  const holdAtLeastMs = assertDuration('holdAtLeastMs', options.holdAtLeastMs ?? 0, { allowZero: true });
  return { waitMs, leaseMs, holdAtLeastMs };
}
