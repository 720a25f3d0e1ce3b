import { linkAbortSignals } from './abort-link.js';
import { LockBackendError } from './errors.js';
import type { BackendAcquireRequest, BackendLock, LockBackend } from './lock-backend.js';
import type { BackendForceReleaseResult, BackendListRequest, BackendLockState } from './lock-inspection.js';
import { MemoryLockStore } from './memory-lock-store.js';
import { Wakeup } from './wakeup.js';

/** Options of a {@link MemoryLockBackend}. */
export interface MemoryLockBackendOptions {
  /** Share one store between several backends to simulate several servers. Default: a private store. */
  readonly store?: MemoryLockStore | undefined;
}

/**
 * An in-process backend with the same semantics as the real ones (try-once, waiting with
 * timeout, lease expiry, renewal, fencing tokens, FIFO wake-up). For unit tests and local dev.
 *
 * @example
 * const manager = new LockManager({ backends: { memory: new MemoryLockBackend() } });
 */
export class MemoryLockBackend implements LockBackend {
  readonly store: MemoryLockStore;
  readonly #closing = new AbortController();

  constructor(options: MemoryLockBackendOptions = {}) {
    this.store = options.store ?? new MemoryLockStore();
  }

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    if (this.#closing.signal.aborted) throw closedError();
    const deadline = Date.now() + request.waitMs;
    const first = this.#attempt(request);
    if (first || request.waitMs <= 0) return first;
    request.onContended?.();

    const { signal, dispose } = linkAbortSignals([request.signal, this.#closing.signal]);
    const wakeup = new Wakeup();
    const sleeper = { wake: () => wakeup.notify() };
    this.store.addSleeper(request.key, sleeper);
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        // Sleep until a release wakes us, the holder's lease ends, or our wait is over.
        await wakeup.sleep(
          Math.min(remaining, Math.max(1, this.store.remainingLeaseMs(request.key))),
          signal,
        );
        wakeup.consume();
        const lock = this.#attempt(request);
        if (lock) return lock;
      }
    } finally {
      dispose();
      this.store.removeSleeper(request.key, sleeper);
      this.store.wakeFirstIfFree(request.key);
    }
  }

  async close(): Promise<void> {
    this.#closing.abort(closedError());
  }

  /** The holder's owner record (kept in process), lease, fencing token and sleeping waiters of `key`. */
  async inspect(key: string): Promise<BackendLockState> {
    return this.store.inspect(key);
  }

  /** Exclusive locks of the store held now whose key starts with `request.prefix`. */
  async list(request: BackendListRequest): Promise<BackendLockState[]> {
    return this.store.list(request.prefix, request.limit);
  }

  /** Free `key` whoever holds it (see {@link LockBackend.forceRelease}). */
  async forceRelease(key: string): Promise<BackendForceReleaseResult> {
    return this.store.forceRelease(key);
  }

  #attempt(request: BackendAcquireRequest): BackendLock | null {
    const { key, token } = request;
    const sentAt = Date.now();
    const fencingToken = this.store.tryAcquire(key, token, request.leaseMs, request.owner);
    if (fencingToken === undefined) return null;
    const store = this.store;
    return {
      fencingToken,
      expiresAt: sentAt + request.leaseMs,
      extend: async (leaseMs) => store.extend(key, token, leaseMs),
      release: async () => store.release(key, token),
    };
  }
}

function closedError(): LockBackendError {
  return new LockBackendError('MemoryLockBackend is closed.', { isRetryable: false, backend: 'memory' });
}
