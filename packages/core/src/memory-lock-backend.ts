import { linkAbortSignals } from './abort-link.js';
import { LockBackendError } from './errors.js';
import type {
  BackendAcquireRequest,
  BackendLock,
  BackendSharedAcquireRequest,
  LockBackend,
} from './lock-backend.js';
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
 * timeout, lease expiry, renewal, fencing tokens, FIFO wake-up), read-write locks and semaphores
 * included. For unit tests and local dev.
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
    const { store } = this;
    const { key } = request;
    return this.#wait(request, {
      attempt: () => this.#attempt(request),
      addSleeper: (sleeper) => store.addSleeper(key, sleeper),
      removeSleeper: (sleeper) => store.removeSleeper(key, sleeper),
      remainingLeaseMs: () => store.remainingLeaseMs(key),
      wakeIfFree: () => store.wakeFirstIfFree(key),
    });
  }

  /** Read locks of the keys `acquire` locks, and semaphores (a namespace of their own). */
  async acquireShared(request: BackendSharedAcquireRequest): Promise<BackendLock | null> {
    const { store } = this;
    const { key, token, leaseMs, kind } = request;
    if (kind.type === 'read') {
      return this.#wait(request, {
        kind: 'read',
        attempt: (sleeper) =>
          held(store.tryAcquireRead(key, token, leaseMs, sleeper), leaseMs, {
            extend: (ms) => store.extendRead(key, token, ms),
            release: () => store.releaseRead(key, token),
          }),
        addSleeper: (sleeper) => store.addSleeper(key, sleeper),
        removeSleeper: (sleeper) => store.removeSleeper(key, sleeper),
        remainingLeaseMs: () => store.remainingLeaseMs(key),
        wakeIfFree: () => store.wakeFirstIfFree(key),
      });
    }
    return this.#wait(request, {
      attempt: (sleeper) =>
        held(store.tryAcquirePermit(key, token, { leaseMs, permits: kind.permits, sleeper }), leaseMs, {
          extend: (ms) => store.extendPermit(key, token, ms),
          release: () => store.releasePermit(key, token),
        }),
      addSleeper: (sleeper) => store.addPermitSleeper(key, sleeper),
      removeSleeper: (sleeper) => store.removePermitSleeper(key, sleeper),
      remainingLeaseMs: () => store.remainingPermitLeaseMs(key),
      wakeIfFree: () => store.wakePermitWaiters(key),
    });
  }

  async #wait(request: BackendAcquireRequest, queue: MemoryQueue): Promise<BackendLock | null> {
    if (this.#closing.signal.aborted) throw closedError();
    const deadline = Date.now() + request.waitMs;
    const first = queue.attempt(undefined);
    if (first || request.waitMs <= 0) return first;
    request.onContended?.();

    const { signal, dispose } = linkAbortSignals([request.signal, this.#closing.signal]);
    const wakeup = new Wakeup();
    const sleeper = { wake: () => wakeup.notify(), kind: queue.kind };
    queue.addSleeper(sleeper);
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return null;
        // Sleep until a release wakes us, the holder's lease ends, or our wait is over.
        await wakeup.sleep(Math.min(remaining, Math.max(1, queue.remainingLeaseMs())), signal);
        wakeup.consume();
        const lock = queue.attempt(sleeper);
        if (lock) return lock;
      }
    } finally {
      dispose();
      queue.removeSleeper(sleeper);
      queue.wakeIfFree();
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
    const store = this.store;
    return held(store.tryAcquire(key, token, request.leaseMs, request.owner), request.leaseMs, {
      extend: (leaseMs) => store.extend(key, token, leaseMs),
      release: () => store.release(key, token),
    });
  }
}

interface MemorySleeper {
  wake(): void;
  readonly kind?: 'read' | undefined;
}

/** How one kind of hold tries, queues and sleeps in the store. */
interface MemoryQueue {
  readonly kind?: 'read';
  /** One attempt; `sleeper` is the caller's place in the queue once it waits. */
  attempt(sleeper: MemorySleeper | undefined): BackendLock | null;
  addSleeper(sleeper: MemorySleeper): void;
  removeSleeper(sleeper: MemorySleeper): void;
  remainingLeaseMs(): number;
  wakeIfFree(): void;
}

function held(
  fencingToken: number | undefined,
  leaseMs: number,
  control: { extend(leaseMs: number): boolean; release(): boolean },
): BackendLock | null {
  if (fencingToken === undefined) return null;
  return {
    fencingToken,
    expiresAt: Date.now() + leaseMs,
    extend: async (ms) => control.extend(ms),
    release: async () => control.release(),
  };
}

function closedError(): LockBackendError {
  return new LockBackendError('MemoryLockBackend is closed.', { isRetryable: false, backend: 'memory' });
}
