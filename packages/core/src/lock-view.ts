import type { LockInfo } from './lock-context.js';

/** The parts of a held lock user code may see; `fencingToken`, `signal` and `expiresAt` stay live. */
interface ViewedLock extends LockInfo {
  readonly token: string;
}

/** A read-only, live view of a held lock: user code sees it without reaching its internals. */
export class LockView implements LockInfo {
  readonly #lock: ViewedLock;

  constructor(lock: ViewedLock) {
    this.#lock = lock;
  }
  get key(): string {
    return this.#lock.key;
  }
  get backend(): string {
    return this.#lock.backend;
  }
  get token(): string {
    return this.#lock.token;
  }
  get fencingToken(): number | undefined {
    return this.#lock.fencingToken;
  }
  get signal(): AbortSignal {
    return this.#lock.signal;
  }
  get expiresAt(): number {
    return this.#lock.expiresAt;
  }
}

export interface LockHandleOperations {
  release(): Promise<void>;
  extend(leaseMs?: number): Promise<void>;
}

/** What `LockManager.acquire()` returns: the view plus release and extend. */
export class LockHandleView extends LockView {
  readonly #operations: LockHandleOperations;

  constructor(lock: ViewedLock, operations: LockHandleOperations) {
    super(lock);
    this.#operations = operations;
  }
  release(): Promise<void> {
    return this.#operations.release();
  }
  extend(leaseMs?: number): Promise<void> {
    return this.#operations.extend(leaseMs);
  }
}
