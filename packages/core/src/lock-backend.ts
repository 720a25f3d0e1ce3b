import type {
  BackendForceReleaseResult,
  BackendListRequest,
  BackendLockState,
  LockOwnerRecord,
} from './lock-inspection.js';

/**
 * The contract between `@dlock/core` and a store. A backend only talks to its store: it does not
 * validate keys, queue local callers, renew leases or track reentrancy; the {@link LockManager}
 * does all of that the same way for every backend.
 *
 * Waiting lives in the backend because each store waits differently: a spin backend retries with
 * backoff, a pub/sub backend sleeps until a release message, MySQL blocks inside `GET_LOCK`.
 *
 * @example
 * class MyBackend implements LockBackend {
 *   async acquire(request: BackendAcquireRequest) { ... return lock or null ... }
 *   async close() {}
 * }
 */
export interface LockBackend {
  /**
   * Try to take `request.key` for `request.token`.
   *
   * - `waitMs === 0`: exactly one attempt.
   * - `waitMs > 0`: keep trying until the lock is taken or `waitMs` has passed.
   *
   * Resolves to the held lock, or `null` when the lock stayed taken. Rejects when the store
   * fails (ideally with a `LockBackendError`) or when `request.signal` aborts (any reason; the
   * manager reports aborts as `LockAbortedError`).
   */
  acquire(request: BackendAcquireRequest): Promise<BackendLock | null>;
  /**
   * Optional capability: take a shared hold of `request.key`: one of `request.kind.permits` permits
   * of a semaphore, or a read lock that excludes `acquire()` holders (write locks) of the same key
   * but not other readers. Same waiting, lease and result rules as {@link acquire}; waiters are
   * served first come, first served, a waiting writer keeps later readers out, and consecutive
   * waiting readers are admitted together. A backend without it is refused at plan time with a
   * `LockKindUnsupportedError`; a backend that implements only some kinds lists them in
   * {@link sharedLockTypes}.
   *
   * Rejects with `SemaphorePermitsMismatchError` when the semaphore is in use with other `permits`.
   */
  acquireShared?(request: BackendSharedAcquireRequest): Promise<BackendLock | null>;
  /** The kinds `acquireShared` supports. Default (omitted): all of them. */
  readonly sharedLockTypes?: readonly SharedLockType[] | undefined;
  /** Stop waiting callers and free resources the backend created itself (not the client it was given). */
  close(): Promise<void>;
  /**
   * Optional capability: what the store knows about `key` (manager prefix applied, as in
   * {@link BackendAcquireRequest.key}): held or not, the owner the holder recorded, remaining lease,
   * fencing token, waiters. Read-only. Without it `manager.inspect()` throws
   * `LockInspectionUnsupportedError`.
   */
  inspect?(key: string): Promise<BackendLockState>;
  /**
   * Optional capability: the locks held now whose key starts with `request.prefix`, at most
   * `request.limit` of them, read in bounded steps (never a blocking scan of the whole store).
   */
  list?(request: BackendListRequest): Promise<BackendLockState[]>;
  /**
   * Optional capability, an operator's break-glass: free `key` whoever holds it. The old holder's
   * next renewal reports the lock lost, and every later holder gets a greater fencing token.
   */
  forceRelease?(key: string): Promise<BackendForceReleaseResult>;
}

/** What the manager asks a backend for: one key, one owner token, one lease, one wait. */
export interface BackendAcquireRequest {
  /** Validated key, with the manager's `keyPrefix` already applied. The backend may add its own prefix. */
  readonly key: string;
  /** Random owner token (UUID). Only a holder presenting it may extend or release. */
  readonly token: string;
  /** How long the store keeps the lock if its holder stops renewing it. Positive, finite. */
  readonly leaseMs: number;
  /** How long to keep trying; 0 means one attempt. Finite, >= 0. */
  readonly waitMs: number;
  /** Aborts waiting (caller gave up, or the manager is closing). */
  readonly signal: AbortSignal;
  /** Call once when the first attempt found the lock taken and the backend starts waiting. */
  readonly onContended?: (() => void) | undefined;
  /**
   * Who asks (host, pid, app name, label): a backend that can record it beside the lock, in the
   * same store call, returns it (with the acquisition time) from {@link LockBackend.inspect}.
   */
  readonly owner?: LockOwnerRecord | undefined;
}

/** The kinds of shared hold: semaphore permits, read locks. */
export type SharedLockType = 'semaphore' | 'read';

/** What kind of shared hold `acquireShared` is asked for. */
export type SharedLockKind =
  | {
      readonly type: 'semaphore';
      /** At most this many holders at once (positive integer). */
      readonly permits: number;
    }
  | { readonly type: 'read' };

/** An {@link BackendAcquireRequest} for a shared hold. */
export interface BackendSharedAcquireRequest extends BackendAcquireRequest {
  readonly kind: SharedLockKind;
}

/** A lock the backend holds in its store for one owner token. */
export interface BackendLock {
  /**
   * A per-key integer strictly greater than any returned before for that key, or `undefined`
   * when the store cannot provide one.
   */
  readonly fencingToken?: number | undefined;
  /**
   * Epoch ms (local clock) after which the store may have dropped the lock. Compute it from the
   * moment the successful attempt was SENT, so it is never later than the store's real expiry.
   * It may grow while the lock is held when the backend extends the lease by itself (a getter):
   * the manager reads it again before it reports a lease as run out.
   */
  readonly expiresAt: number;
  /**
   * Optional: aborts as soon as the backend learns by itself that the lock is gone (e.g. the
   * database session holding it died), so the manager reports the loss at once instead of at the
   * next renewal. The abort reason, if any, becomes the `LockLostError`'s cause.
   */
  readonly lostSignal?: AbortSignal | undefined;
  /**
   * Reset the lease to `leaseMs` from now. Resolves `true` if the lock was still ours, `false` if it
   * was lost (never touching a lock held under another token). Rejects if the store is unreachable.
   */
  extend(leaseMs: number): Promise<boolean>;
  /**
   * Release the lock. Resolves `true` if it was ours and is now free, `false` if it was already
   * lost (the new holder's lock is left intact). Rejects if the store is unreachable.
   */
  release(): Promise<boolean>;
}
