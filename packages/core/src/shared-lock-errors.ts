import { hasCode, LockBackendError, LockError, withBackendName } from './errors.js';

// The errors of semaphores and read-write locks.

/**
 * Callers of one semaphore key disagree on `permits`: the store already holds (or queues for) the
 * semaphore with `storedPermits`. Never a silent second semaphore: make every caller of the key pass
 * the same `permits` (a key function or template that puts the limit in the key works too).
 *
 * @example
 * if (SemaphorePermitsMismatchError.isInstance(error)) console.error(error.permits, error.storedPermits);
 */
export class SemaphorePermitsMismatchError extends LockError {
  override readonly name = 'SemaphorePermitsMismatchError';
  /** What this call asked for. */
  readonly permits: number;
  /** What the semaphore's current holders and waiters use (`undefined` if unknown). */
  readonly storedPermits: number | undefined;
  constructor(options: {
    key: string;
    backend: string;
    permits: number;
    storedPermits: number | undefined;
  }) {
    const stored = options.storedPermits === undefined ? 'other' : String(options.storedPermits);
    super(
      'SEMAPHORE_PERMITS_MISMATCH',
      `Semaphore "${options.key}" (backend "${options.backend}") is in use with permits: ${stored}, ` +
        `but this call passed permits: ${options.permits}; every caller of one semaphore key must pass the same permits.`,
      { key: options.key, backend: options.backend },
    );
    this.permits = options.permits;
    this.storedPermits = options.storedPermits;
  }
  static override isInstance(value: unknown): value is SemaphorePermitsMismatchError {
    return hasCode(value, 'SEMAPHORE_PERMITS_MISMATCH');
  }
}

/**
 * A write lock (or a lock without `mode`) was asked for while the same async call chain holds the
 * read lock of that key: it could only wait for itself. Refused at once, before any store call.
 * Take the write lock first (a read inside a write is allowed), or release the read lock first.
 *
 * @example
 * await manager.withLock('cache', { mode: 'read' }, () =>
 *   manager.withLock('cache', { mode: 'write' }, rebuild)); // rejects with LockUpgradeError
 */
export class LockUpgradeError extends LockError {
  override readonly name = 'LockUpgradeError';
  constructor(key: string, backend: string | undefined) {
    super(
      'LOCK_UPGRADE_REFUSED',
      `Cannot take the write lock "${key}" while this call chain holds its read lock: it would wait for itself forever. ` +
        "Take mode: 'write' in the outer call (reads inside a write are allowed), or release the read lock first.",
      { key, backend },
    );
  }
  static override isInstance(value: unknown): value is LockUpgradeError {
    return hasCode(value, 'LOCK_UPGRADE_REFUSED');
  }
}

/**
 * The chosen backend cannot hold this kind of lock (a semaphore, or a read lock): refused when the
 * call is planned, before any store call. The message names the backends of the manager that can.
 *
 * @example
 * if (LockKindUnsupportedError.isInstance(error)) console.error(error.kind, error.supportedBy);
 */
export class LockKindUnsupportedError extends LockError {
  override readonly name = 'LockKindUnsupportedError';
  /** `'semaphore'` or `'read'`. */
  readonly kind: 'semaphore' | 'read';
  /** Names of this manager's backends that support it. */
  readonly supportedBy: readonly string[];
  constructor(options: {
    kind: 'semaphore' | 'read';
    key?: string | undefined;
    backend: string;
    supportedBy: readonly string[];
  }) {
    const what = options.kind === 'semaphore' ? 'semaphores' : "read-write locks (mode: 'read')";
    const others =
      options.supportedBy.length > 0
        ? `this manager's backends that do: ${options.supportedBy.map((name) => `"${name}"`).join(', ')}`
        : "none of this manager's backends do (MemoryLockBackend, RedisSpinLockBackend and RedisPubSubLockBackend support them)";
    super(
      'LOCK_KIND_UNSUPPORTED',
      `Backend "${options.backend}" does not support ${what}; ${others}. Pass backend: to choose one.`,
      { key: options.key, backend: options.backend },
    );
    this.kind = options.kind;
    this.supportedBy = options.supportedBy;
  }
  static override isInstance(value: unknown): value is LockKindUnsupportedError {
    return hasCode(value, 'LOCK_KIND_UNSUPPORTED');
  }
}

/**
 * What a backend's failed acquire means to the caller, in the manager's words: a permits mismatch
 * keeps its type (with the caller's key, not the stored one), anything else is a `LockBackendError`.
 */
export function acquireFailure(error: unknown, key: string, backend: string): LockError {
  if (SemaphorePermitsMismatchError.isInstance(error)) {
    const { permits, storedPermits } = error;
    return withBackendName(
      new SemaphorePermitsMismatchError({ key, backend, permits, storedPermits }),
      backend,
    );
  }
  return withBackendName(LockBackendError.wrap(error, { key, backend, action: 'acquiring' }), backend);
}
