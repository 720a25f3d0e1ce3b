import type { BackendForceReleaseResult, BackendLockState, LockOwnerRecord } from './lock-inspection.js';
interface StoredLock {
  readonly token: string;
  expiresAt: number;
  /** Who took it (kept in process: what `inspect` shows), and when. */
  readonly owner?: LockOwnerRecord | undefined;
  readonly acquiredAt?: number | undefined;
}

interface Sleeper {
  wake(): void;
}

/**
 * The shared state behind {@link MemoryLockBackend}s: what a Redis server is to its clients.
 * Give two backends the same store to play two servers of one app inside a unit test.
 */
export class MemoryLockStore {
  readonly #locks = new Map<string, StoredLock>();
  readonly #fences = new Map<string, number>();
  readonly #sleepers = new Map<string, Sleeper[]>();

  /** Take `key` for `token` if free (or expired). Returns the fencing token, or `undefined` if taken. */
  tryAcquire(key: string, token: string, leaseMs: number, owner?: LockOwnerRecord): number | undefined {
    if (this.#live(key)) return undefined;
    const now = Date.now();
    this.#locks.set(key, { token, expiresAt: now + leaseMs, owner, acquiredAt: now });
    const fence = (this.#fences.get(key) ?? 0) + 1;
    this.#fences.set(key, fence);
    return fence;
  }

  /** What the store knows about the exclusive lock `key`: holder, owner record, lease, fencing token, sleepers. */
  inspect(key: string): BackendLockState {
    const lock = this.#live(key);
    const waiters = this.#sleepers.get(key)?.length ?? 0;
    const fencingToken = this.#fences.get(key);
    if (!lock) return { key, held: false, fencingToken, waiters };
    return {
      key,
      held: true,
      owner: { ...lock.owner, acquiredAt: lock.acquiredAt, leaseEndsAt: lock.expiresAt },
      leaseRemainingMs: Math.max(0, lock.expiresAt - Date.now()),
      fencingToken,
      waiters,
    };
  }

  /** The exclusive locks held now whose key starts with `prefix`, at most `limit`. */
  list(prefix: string, limit: number): BackendLockState[] {
    const states: BackendLockState[] = [];
    for (const key of [...this.#locks.keys()]) {
      if (states.length >= limit) break;
      if (key.startsWith(prefix) && this.#live(key)) states.push(this.inspect(key));
    }
    return states;
  }

  /** Free the exclusive lock `key` whoever holds it, waking the waiters; the next fence is greater. */
  forceRelease(key: string): BackendForceReleaseResult {
    const state = this.inspect(key);
    if (!state.held) return { released: false };
    this.#locks.delete(key);
    this.wakeFirstIfFree(key);
    return { released: true, previousOwner: state.owner, previousFencingToken: state.fencingToken };
  }

  /** Reset the lease of `key` if `token` holds it; false when it does not. */
  extend(key: string, token: string, leaseMs: number): boolean {
    const lock = this.#live(key);
    if (lock?.token !== token) return false;
    lock.expiresAt = Date.now() + leaseMs;
    return true;
  }

  /** Free `key` if `token` holds it (waking the first sleeper); false when it does not. */
  release(key: string, token: string): boolean {
    const lock = this.#live(key);
    if (lock?.token !== token) return false;
    this.#locks.delete(key);
    this.#wakeFirst(key);
    return true;
  }

  /** Milliseconds until the current holder's lease ends (0 if free). */
  remainingLeaseMs(key: string): number {
    const lock = this.#live(key);
    return lock ? Math.max(0, lock.expiresAt - Date.now()) : 0;
  }

  /** Queue a sleeper for `key`; releases wake sleepers one at a time, first come first served. */
  addSleeper(key: string, sleeper: Sleeper): void {
    const queue = this.#sleepers.get(key);
    if (queue) queue.push(sleeper);
    else this.#sleepers.set(key, [sleeper]);
  }

  /** Stop waking `sleeper` for `key` (its wait ended). */
  removeSleeper(key: string, sleeper: Sleeper): void {
    const queue = this.#sleepers.get(key);
    if (!queue) return;
    const index = queue.indexOf(sleeper);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.#sleepers.delete(key);
  }

  /** Wake the first sleeper if the key is free (a sleeper that gave up may have swallowed a wake-up). */
  wakeFirstIfFree(key: string): void {
    if (!this.#live(key)) this.#wakeFirst(key);
  }

  #wakeFirst(key: string): void {
    this.#sleepers.get(key)?.[0]?.wake();
  }

  #live(key: string): StoredLock | undefined {
    const lock = this.#locks.get(key);
    if (lock && lock.expiresAt <= Date.now()) {
      this.#locks.delete(key);
      return undefined;
    }
    return lock;
  }
}
