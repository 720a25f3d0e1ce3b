import {
  type BackendAcquireRequest,
  type BackendLock,
  type LockBackend,
  LockBackendError,
} from '@dlock/core';
import { abortableDelay } from './abortable-delay.js';
import type { BackendFaults, BackendOperation, CallFailure } from './backend-faults.js';

const FAILURE_FIELD = {
  acquire: 'failAcquire',
  extend: 'failExtend',
  release: 'failRelease',
} as const satisfies Record<BackendOperation, keyof BackendFaults>;

/**
 * A {@link LockBackend} that forwards to another one and injects faults: latency, failing calls,
 * locks lost after a while, swallowed wake-ups. Without faults it behaves exactly like the backend
 * it wraps. For unit tests of code that uses locks; see {@link BackendFaults}.
 *
 * @example
 * const backend = new FaultyBackend(new MemoryLockBackend(), { delayMs: { acquire: 20 } });
 * const manager = new LockManager({ backends: { memory: backend } });
 * backend.faults.failRelease = { times: 1 };
 */
export class FaultyBackend implements LockBackend {
  /** The backend every call is forwarded to. */
  readonly backend: LockBackend;
  /** The current faults; mutate fields or replace the whole object with {@link setFaults}. */
  faults: BackendFaults;
  readonly #closing = new AbortController();
  readonly #lossTimers = new Set<NodeJS.Timeout>();

  constructor(backend: LockBackend, faults: BackendFaults = {}) {
    this.backend = backend;
    this.faults = faults;
  }

  /**
   * Replace every fault at once (`{}` removes them all).
   *
   * @example
   * backend.setFaults({ loseLockAfterMs: 100 });
   */
  setFaults(faults: BackendFaults): void {
    this.faults = faults;
  }

  /**
   * Acquire through the wrapped backend, after the injected delay and failure.
   *
   * @example
   * const lock = await backend.acquire({ key: 'k', token: randomUUID(), leaseMs: 1000, waitMs: 0, signal });
   */
  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    const signal = AbortSignal.any([request.signal, this.#closing.signal]);
    const lock = await this.#call('acquire', signal, () => this.#acquireFromBackend({ ...request, signal }));
    return lock ? this.#wrap(lock) : null;
  }

  /**
   * Stop injected waits and loss timers, then close the wrapped backend.
   *
   * @example
   * await backend.close();
   */
  async close(): Promise<void> {
    this.#closing.abort(
      new LockBackendError('FaultyBackend is closed.', { isRetryable: false, backend: 'faulty' }),
    );
    for (const timer of this.#lossTimers) clearTimeout(timer);
    this.#lossTimers.clear();
    await this.backend.close();
  }

  async #acquireFromBackend(request: BackendAcquireRequest): Promise<BackendLock | null> {
    const swallow = this.faults.swallowWakeups;
    if (!swallow || request.waitMs <= 0) return this.backend.acquire(request);
    // The waiter misses every release: it only polls, every recheckMs or once at its deadline.
    const deadline = Date.now() + request.waitMs;
    const recheckMs = typeof swallow === 'object' ? swallow.recheckMs : Number.POSITIVE_INFINITY;
    const attempt = { ...request, waitMs: 0, onContended: undefined };
    const first = await this.backend.acquire(attempt);
    if (first) return first;
    request.onContended?.();
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) return null;
      await abortableDelay(Math.min(remainingMs, recheckMs), request.signal);
      const lock = await this.backend.acquire(attempt);
      if (lock) return lock;
    }
  }

  #wrap(lock: BackendLock): BackendLock {
    const loseAfterMs = this.faults.loseLockAfterMs;
    const lost = new AbortController();
    let lossTimer: NodeJS.Timeout | undefined;
    if (loseAfterMs !== undefined) {
      lossTimer = setTimeout(() => {
        this.#lossTimers.delete(lossTimer!);
        lost.abort(
          new Error(`Injected fault: lock reported lost after ${loseAfterMs} ms (loseLockAfterMs).`),
        );
        // A real loss lets another caller take the key: free it in the store too.
        lock.release().catch(() => {});
      }, loseAfterMs);
      // Unref'd: a pending loss alone is no reason to keep a process running.
      lossTimer.unref();
      this.#lossTimers.add(lossTimer);
    }
    const stopLossTimer = () => {
      if (lossTimer === undefined) return;
      clearTimeout(lossTimer);
      this.#lossTimers.delete(lossTimer);
    };
    const closing = this.#closing.signal;
    return {
      fencingToken: lock.fencingToken,
      expiresAt: lock.expiresAt,
      lostSignal:
        loseAfterMs === undefined
          ? lock.lostSignal
          : lock.lostSignal
            ? AbortSignal.any([lock.lostSignal, lost.signal])
            : lost.signal,
      extend: (leaseMs) =>
        this.#call('extend', closing, async () => (lost.signal.aborted ? false : lock.extend(leaseMs))),
      release: () =>
        this.#call('release', closing, async () => {
          stopLossTimer();
          return lost.signal.aborted ? false : lock.release();
        }),
    };
  }

  /** Delay, then fail before or after `run` as the faults of `operation` say. */
  async #call<T>(operation: BackendOperation, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    const delayMs = this.faults.delayMs?.[operation] ?? 0;
    if (delayMs > 0) {
      // extend/release take no signal: only close() cuts their delay short.
      await abortableDelay(delayMs, operation === 'acquire' ? signal : this.#closing.signal);
    }
    const failure = this.#takeFailure(operation);
    if (failure && failure.when !== 'after') throw failureError(failure, operation);
    const result = await run();
    if (failure) throw failureError(failure, operation);
    return result;
  }

  /** The failure this call must show, if any, counting down `times`. */
  #takeFailure(operation: BackendOperation): CallFailure | undefined {
    const field = FAILURE_FIELD[operation];
    const failure = this.faults[field];
    if (!failure) return undefined;
    if (failure.times !== undefined) {
      if (failure.times <= 0) return undefined;
      failure.times--;
      if (failure.times === 0) this.faults[field] = undefined;
    }
    return failure;
  }
}

/**
 * Wrap `backend` so tests can inject faults into its calls; shorthand for `new FaultyBackend(...)`.
 *
 * @example
 * const backend = faultyBackend(new MemoryLockBackend(), { failAcquire: { times: 1 } });
 * await expect(manager.withLock('k', {}, work)).rejects.toThrow(LockBackendError);
 */
export function faultyBackend(backend: LockBackend, faults: BackendFaults = {}): FaultyBackend {
  return new FaultyBackend(backend, faults);
}

function failureError(failure: CallFailure, operation: BackendOperation): Error {
  if (typeof failure.error === 'function') return failure.error();
  if (failure.error) return failure.error;
  return new LockBackendError(
    `Injected fault: ${operation} failed (faultyBackend ${FAILURE_FIELD[operation]}).`,
    { isRetryable: true, backend: 'faulty' },
  );
}
