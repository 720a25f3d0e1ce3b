import { addTo, dropExpired, nextFence, removeFrom, type Sleeper } from './memory-store-parts.js';
import { SemaphorePermitsMismatchError } from './shared-lock-errors.js';

interface StoredSemaphore {
  permits: number;
  /** Owner token -> lease end (epoch ms). */
  readonly holders: Map<string, number>;
}

/**
 * The semaphores of a {@link MemoryLockStore} (a namespace of their own, apart from its locks):
 * permits with a lease each, waiters served first come, first served, a release waking as many
 * waiters as permits came free.
 */
export class MemorySemaphores {
  readonly #semaphores = new Map<string, StoredSemaphore>();
  readonly #fences = new Map<string, number>();
  readonly #sleepers = new Map<string, Sleeper[]>();

  /**
   * Take one of `permits` permits of the semaphore `key` for `token`: a permit is free and fewer
   * waiters are queued ahead than permits are free (`sleeper` is the caller's own place in the queue,
   * if it waits). Returns the semaphore's next fencing token, or `undefined`.
   *
   * @throws SemaphorePermitsMismatchError if holders or waiters use other `permits`.
   */
  tryAcquire(
    key: string,
    token: string,
    options: { readonly leaseMs: number; readonly permits: number; readonly sleeper?: Sleeper | undefined },
  ): number | undefined {
    const queue = this.#sleepers.get(key) ?? [];
    const semaphore = this.#liveSemaphore(key);
    if (semaphore && semaphore.permits !== options.permits) {
      if (semaphore.holders.size > 0 || queue.some((waiting) => waiting !== options.sleeper)) {
        throw new SemaphorePermitsMismatchError({
          key,
          backend: 'memory',
          permits: options.permits,
          storedPermits: semaphore.permits,
        });
      }
      semaphore.permits = options.permits;
    }
    const stored = semaphore ?? { permits: options.permits, holders: new Map<string, number>() };
    const free = stored.permits - stored.holders.size;
    const position = options.sleeper ? queue.indexOf(options.sleeper) : -1;
    if ((position >= 0 ? position : queue.length) >= free) return undefined;
    stored.holders.set(token, Date.now() + options.leaseMs);
    this.#semaphores.set(key, stored);
    return nextFence(this.#fences, key);
  }

  /** Reset the lease of `token`'s permit of `key`; false when it holds none. */
  extend(key: string, token: string, leaseMs: number): boolean {
    const holders = this.#liveSemaphore(key)?.holders;
    if (!holders?.has(token)) return false;
    holders.set(token, Date.now() + leaseMs);
    return true;
  }

  /** Give back `token`'s permit of `key`, waking as many waiters as permits are free; false when it holds none. */
  release(key: string, token: string): boolean {
    const semaphore = this.#liveSemaphore(key);
    if (!semaphore?.holders.delete(token)) return false;
    this.wakeWaiters(key);
    return true;
  }

  /** Milliseconds until the first permit of `key` comes free by lease end (0 if one is free). */
  remainingLeaseMs(key: string): number {
    const semaphore = this.#liveSemaphore(key);
    if (!semaphore || semaphore.holders.size < semaphore.permits) return 0;
    return Math.max(0, Math.min(...semaphore.holders.values()) - Date.now());
  }

  /** Queue a sleeper for a permit of the semaphore `key`. */
  addSleeper(key: string, sleeper: Sleeper): void {
    addTo(this.#sleepers, key, sleeper);
  }

  /** Stop waking `sleeper` for a permit of `key`. */
  removeSleeper(key: string, sleeper: Sleeper): void {
    removeFrom(this.#sleepers, key, sleeper);
  }

  /** Wake the first waiters of `key`, as many as permits are free. */
  wakeWaiters(key: string): void {
    const semaphore = this.#liveSemaphore(key);
    const queue = this.#sleepers.get(key);
    if (!semaphore) {
      queue?.[0]?.wake();
      return;
    }
    const free = semaphore.permits - semaphore.holders.size;
    if (semaphore.holders.size === 0 && !queue) this.#semaphores.delete(key);
    for (const sleeper of queue?.slice(0, Math.max(0, free)) ?? []) sleeper.wake();
  }

  #liveSemaphore(key: string): StoredSemaphore | undefined {
    const semaphore = this.#semaphores.get(key);
    if (!semaphore) return undefined;
    dropExpired(semaphore.holders);
    if (semaphore.holders.size === 0 && !this.#sleepers.has(key)) {
      this.#semaphores.delete(key);
      return undefined;
    }
    return semaphore;
  }
}
