import type { BackendAcquireRequest, BackendLock, LockBackend } from '../../src/index.js';
import { MemoryLockBackend, MemoryLockStore } from '../../src/index.js';

/**
 * A MemoryLockBackend that records every store call, and can be told to lose locks, so core
 * tests can prove what reaches the store (and what must not).
 */
export class RecordingBackend implements LockBackend {
  readonly inner: MemoryLockBackend;
  readonly calls: { op: 'acquire' | 'extend' | 'release'; key: string; waitMs?: number }[] = [];
  /** When true, extend() reports the lock as gone. */
  loseOnExtend = false;
  /** When set, extend() rejects with it (store unreachable). */
  extendError: Error | undefined;
  /** When set, release() rejects with it (store unreachable). */
  releaseError: Error | undefined;
  /** Aborting it tells the manager, through `lostSignal`, that every lock of this backend is gone. */
  readonly storeLoss = new AbortController();
  /** How often the manager read a lock's `lostSignal`. */
  lostSignalReads = 0;
  /** Called inside release(), before it resolves (to fire a loss while a release is in flight). */
  onRelease: (() => void) | undefined;

  constructor(store = new MemoryLockStore()) {
    this.inner = new MemoryLockBackend({ store });
  }

  count(op: 'acquire' | 'extend' | 'release'): number {
    return this.calls.filter((call) => call.op === op).length;
  }

  async acquire(request: BackendAcquireRequest): Promise<BackendLock | null> {
    this.calls.push({ op: 'acquire', key: request.key, waitMs: request.waitMs });
    const lock = await this.inner.acquire(request);
    if (!lock) return null;
    const backend = this;
    return {
      fencingToken: lock.fencingToken,
      expiresAt: lock.expiresAt,
      get lostSignal() {
        backend.lostSignalReads++;
        return backend.storeLoss.signal;
      },
      extend: async (leaseMs) => {
        this.calls.push({ op: 'extend', key: request.key });
        if (this.extendError) throw this.extendError;
        return this.loseOnExtend ? false : lock.extend(leaseMs);
      },
      release: async () => {
        this.calls.push({ op: 'release', key: request.key });
        if (this.releaseError) throw this.releaseError;
        this.onRelease?.();
        return lock.release();
      },
    };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
