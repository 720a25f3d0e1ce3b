import { LockError, type LockErrorCode } from '@dlock/core';

/**
 * Every `LockError` code, to tell a typed failure from an untyped one at run time.
 *
 * @example
 * LOCK_ERROR_CODES.includes('LOCK_TIMEOUT'); // true
 */
export const LOCK_ERROR_CODES: readonly LockErrorCode[] = Object.keys({
  LOCK_NOT_ACQUIRED: true,
  LOCK_TIMEOUT: true,
  LOCK_LOST: true,
  INVALID_LOCK_KEY: true,
  INVALID_LOCK_OPTIONS: true,
  LOCK_BACKEND_ERROR: true,
  LOCK_CAPACITY_EXCEEDED: true,
  LOCK_ABORTED: true,
  SEMAPHORE_PERMITS_MISMATCH: true,
  LOCK_UPGRADE_REFUSED: true,
  LOCK_KIND_UNSUPPORTED: true,
  LOCK_INSPECTION_UNSUPPORTED: true,
  // A Record over the union makes this list fail to compile when core adds a code.
} satisfies Record<LockErrorCode, true>) as LockErrorCode[];

/**
 * How one critical-section attempt ended: `"ok"`, the code of the `LockError` it failed with, or
 * `"untyped-error"` for anything else (a bug: every lock failure should be a `LockError`).
 *
 * @example
 * const outcome: HistoryOutcome = 'LOCK_TIMEOUT';
 */
export type HistoryOutcome = 'ok' | LockErrorCode | 'untyped-error';

/**
 * One critical-section attempt, as a fault test records it. Times are epoch ms from `Date.now()`,
 * comparable across processes of one machine.
 *
 * @example
 * const record: LockHistoryRecord = {
 *   process: 'worker-1', key: 'stock:42', requestedAt: 1000, acquiredAt: 1004, releasedAt: 1050,
 *   fencingToken: 7, outcome: 'ok', waitMs: 2000,
 * };
 */
export interface LockHistoryRecord {
  /** Who made the attempt, e.g. `"worker-3"`. */
  readonly process: string;
  readonly key: string;
  /** When the lock was asked for. */
  readonly requestedAt: number;
  /** When the lock was held (the critical section began). */
  readonly acquiredAt?: number;
  /** When the critical section ended (before the release call, so it never overstates the hold). */
  readonly releasedAt?: number;
  /** When the attempt failed, for attempts that never got the lock. */
  readonly failedAt?: number;
  readonly fencingToken?: number;
  readonly outcome: HistoryOutcome;
  /** `error.name` of a failed attempt. */
  readonly errorName?: string;
  /** The test injected a fault into this attempt (paused its holder, cut its link): overlaps are expected. */
  readonly faultInjected?: boolean;
  /** The attempt's `retry.waitMs`; 0 or absent for a single try. */
  readonly waitMs?: number;
}

/**
 * The outcome to record for a call that threw `error`.
 *
 * @example
 * try { await work(); } catch (error) { record({ ..., outcome: outcomeOf(error) }); }
 */
export function outcomeOf(error: unknown): HistoryOutcome {
  return LockError.isInstance(error) ? error.code : 'untyped-error';
}
