const ERROR_BRAND = Symbol.for('dlock.error');

/** Stable, machine-readable reason of a {@link LockError}. */
export type LockErrorCode =
  | 'LOCK_NOT_ACQUIRED'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'INVALID_LOCK_KEY'
  | 'INVALID_LOCK_OPTIONS'
  | 'LOCK_BACKEND_ERROR'
  | 'LOCK_CAPACITY_EXCEEDED'
  | 'LOCK_ABORTED'
  | 'SEMAPHORE_PERMITS_MISMATCH'
  | 'LOCK_UPGRADE_REFUSED'
  | 'LOCK_KIND_UNSUPPORTED'
  | 'LOCK_INSPECTION_UNSUPPORTED';

/** What every {@link LockError} can carry besides its message. */
export interface LockErrorOptions {
  key?: string | undefined;
  backend?: string | undefined;
  cause?: unknown;
}

/**
 * Base class of every error dlock throws. Check with `LockError.isInstance(error)` rather than
 * `instanceof` when the ESM and CJS builds may both be loaded.
 *
 * @example
 * try { await manager.withLock('stock:42', {}, work); }
 * catch (error) { if (LockError.isInstance(error)) console.log(error.code, error.key); }
 */
export class LockError extends Error {
  override readonly name: string = 'LockError';
  readonly code: LockErrorCode;
  /** The lock key as the caller gave it (after template resolution), if known. */
  readonly key: string | undefined;
  /** The backend name that was asked, if known. */
  readonly backend: string | undefined;
  readonly [ERROR_BRAND] = true;

  constructor(code: LockErrorCode, message: string, options: LockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
    this.backend = options.backend;
  }

  /** True for any dlock error, even one thrown by another copy (ESM/CJS) of this package. */
  static isInstance(value: unknown): value is LockError {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ERROR_BRAND] === true
    );
  }
}

export function hasCode<T extends LockError>(value: unknown, code: LockErrorCode): value is T {
  return LockError.isInstance(value) && value.code === code;
}

/** The lock is held by someone else and the caller asked not to wait (`retry` omitted or `false`). */
export class LockNotAcquiredError extends LockError {
  override readonly name = 'LockNotAcquiredError';
  constructor(key: string, backend: string) {
    super(
      'LOCK_NOT_ACQUIRED',
      `Lock "${key}" is held by another caller (backend "${backend}"); ` +
        'pass retry: { waitMs } to wait for it instead of failing at once.',
      { key, backend },
    );
  }
  static override isInstance(value: unknown): value is LockNotAcquiredError {
    return hasCode(value, 'LOCK_NOT_ACQUIRED');
  }
}

/** The lock was not free within `retry.waitMs`. */
export class LockTimeoutError extends LockError {
  override readonly name = 'LockTimeoutError';
  readonly waitMs: number;
  constructor(key: string, backend: string, waitMs: number) {
    super(
      'LOCK_TIMEOUT',
      `Timed out after ${waitMs} ms waiting for lock "${key}" (backend "${backend}"); ` +
        'raise retry.waitMs or shorten the critical section.',
      { key, backend },
    );
    this.waitMs = waitMs;
  }
  static override isInstance(value: unknown): value is LockTimeoutError {
    return hasCode(value, 'LOCK_TIMEOUT');
  }
}

/**
 * The lock stopped being ours while we thought we held it: its lease ran out, the store lost it,
 * or its connection died. Work done under it may have overlapped with another holder.
 */
export class LockLostError extends LockError {
  override readonly name = 'LockLostError';
  constructor(
    key: string,
    backend: string,
    detail = 'its lease expired or the store dropped it',
    cause?: unknown,
  ) {
    super(
      'LOCK_LOST',
      `Lock "${key}" (backend "${backend}") was lost while held: ${detail}. ` +
        'Raise leaseMs, or check lock.signal inside long critical sections.',
      { key, backend, cause },
    );
  }
  static override isInstance(value: unknown): value is LockLostError {
    return hasCode(value, 'LOCK_LOST');
  }
}

/** The key (or a key template's resolved value) cannot name a lock. Thrown before any store call. */
export class InvalidLockKeyError extends LockError {
  override readonly name = 'InvalidLockKeyError';
  constructor(message: string, key?: string) {
    super('INVALID_LOCK_KEY', message, { key });
  }
  static override isInstance(value: unknown): value is InvalidLockKeyError {
    return hasCode(value, 'INVALID_LOCK_KEY');
  }
}

/** An option is out of range or names something that does not exist. Thrown before any store call. */
export class InvalidLockOptionsError extends LockError {
  override readonly name = 'InvalidLockOptionsError';
  constructor(message: string, options: LockErrorOptions = {}) {
    super('INVALID_LOCK_OPTIONS', message, options);
  }
  static override isInstance(value: unknown): value is InvalidLockOptionsError {
    return hasCode(value, 'INVALID_LOCK_OPTIONS');
  }
}

/** The caller's `signal` aborted while waiting for the lock. `cause` is the signal's reason. */
export class LockAbortedError extends LockError {
  override readonly name = 'LockAbortedError';
  constructor(key: string, backend: string, reason: unknown) {
    super('LOCK_ABORTED', `Waiting for lock "${key}" (backend "${backend}") was aborted.`, {
      key,
      backend,
      cause: reason,
    });
  }
  static override isInstance(value: unknown): value is LockAbortedError {
    return hasCode(value, 'LOCK_ABORTED');
  }
}

/** Options of a {@link LockBackendError}. */
export interface LockBackendErrorOptions extends LockErrorOptions {
  /** Whether trying again later can succeed (e.g. a connection drop), as opposed to a misconfiguration. */
  isRetryable?: boolean | undefined;
}

/** The store is unreachable or failed. `cause` keeps the driver's error. */
export class LockBackendError extends LockError {
  override readonly name = 'LockBackendError';
  readonly isRetryable: boolean;
  constructor(message: string, options: LockBackendErrorOptions = {}) {
    super('LOCK_BACKEND_ERROR', message, options);
    this.isRetryable = options.isRetryable ?? true;
  }

  /**
   * `error` as a dlock error: a `LockError` passes through unchanged, anything else becomes a
   * `LockBackendError` that keeps it as `cause` (retryable unless `isRetryable` says otherwise).
   *
   * @example
   * try { await client.query(sql); }
   * catch (error) { throw LockBackendError.wrap(error, { key, backend: 'etcd', action: 'releasing' }); }
   */
  static wrap(
    error: unknown,
    context: {
      readonly key: string;
      readonly backend: string;
      readonly action: string;
      readonly isRetryable?: boolean | undefined;
    },
  ): LockError {
    if (LockError.isInstance(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new LockBackendError(
      `Backend "${context.backend}" failed while ${context.action} lock "${context.key}": ${message}`,
      { key: context.key, backend: context.backend, cause: error, isRetryable: context.isRetryable },
    );
  }
  static override isInstance(value: unknown): value is LockBackendError {
    return hasCode(value, 'LOCK_BACKEND_ERROR');
  }
}

/**
 * A limit of this process, not of the store, stopped the call: the backend already uses every
 * resource it may (e.g. `@dlock/mysql`'s `maxConnections`, one connection per held lock).
 * The store is healthy and the key may well be free; waiting callers wait for capacity within
 * `retry.waitMs`, then get this error. Release locks sooner or raise the named limit.
 *
 * @example
 * if (LockCapacityError.isInstance(error)) response.status(503).set('Retry-After', '1');
 */
export class LockCapacityError extends LockError {
  override readonly name = 'LockCapacityError';
  /** The option that sets the exhausted limit, e.g. `"maxConnections"`. */
  readonly limit: string;
  constructor(message: string, options: LockErrorOptions & { limit: string }) {
    super('LOCK_CAPACITY_EXCEEDED', message, options);
    this.limit = options.limit;
  }
  static override isInstance(value: unknown): value is LockCapacityError {
    return hasCode(value, 'LOCK_CAPACITY_EXCEEDED');
  }
}

/**
 * `error.backend` always means the manager's name for the backend (`"spin"`), never the backend's
 * own label (`"redis-spin"`): metric labels and logs group by it. The manager applies it to
 * errors a backend throws.
 */
export function withBackendName<E extends LockError>(error: E, backend: string): E {
  if (error.backend === backend) return error;
  // A copy: the same error object may reach other callers (a backend's one "closed" reason) or
  // another manager that names the backend differently.
  const copy = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error)) as E;
  Object.defineProperty(copy, 'backend', { value: backend, enumerable: true });
  return copy;
}
