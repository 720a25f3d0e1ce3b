interface StoredLock {
  readonly token: string;
  expiresAt: number;
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
  tryAcquire(key: string, token: string, leaseMs: number): number | undefined {
    if (this.#live(key)) return undefined;
    this.#locks.set(key, { token, expiresAt: Date.now() + leaseMs });
    const fence = (this.#fences.get(key) ?? 0) + 1;
    this.#fences.set(key, fence);
    return fence;
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
