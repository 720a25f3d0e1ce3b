import type { BackendForceReleaseResult, BackendLockState, LockOwnerRecord } from './lock-inspection.js';
import { MemorySemaphores } from './memory-semaphores.js';
import { addTo, dropExpired, nextFence, removeFrom, type Sleeper } from './memory-store-parts.js';

interface StoredLock {
  readonly token: string;
  expiresAt: number;
  /** Who took it (kept in process: what `inspect` shows), and when. */
  readonly owner?: LockOwnerRecord | undefined;
  readonly acquiredAt?: number | undefined;
}

/**
 * The shared state behind {@link MemoryLockBackend}s: what a Redis server is to its clients.
 * Give two backends the same store to play two servers of one app inside a unit test.
 *
 * Holds exclusive locks (write locks), read locks of the same keys, and semaphores (a namespace
 * of their own). Waiters ("sleepers") queue first come, first served per key: a waiting writer
 * keeps later readers out, readers queued back to back are woken together, and a semaphore
 * release wakes as many waiters as permits came free.
 */
export class MemoryLockStore {
  readonly #locks = new Map<string, StoredLock>();
  readonly #readers = new Map<string, Map<string, number>>();
  readonly #fences = new Map<string, number>();
  readonly #sleepers = new Map<string, Sleeper[]>();
  readonly #semaphores = new MemorySemaphores();

  /** Take `key` for `token` if free (or expired). Returns the fencing token, or `undefined` if taken. */
  tryAcquire(key: string, token: string, leaseMs: number, owner?: LockOwnerRecord): number | undefined {
    if (this.#live(key) || this.#liveReaders(key)) return undefined;
    const now = Date.now();
    this.#locks.set(key, { token, expiresAt: now + leaseMs, owner, acquiredAt: now });
    return nextFence(this.#fences, key);
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

  /** Free `key` if `token` holds it (waking the first sleepers); false when it does not. */
  release(key: string, token: string): boolean {
    const lock = this.#live(key);
    if (lock?.token !== token) return false;
    this.#locks.delete(key);
    this.#wakeHead(key);
    return true;
  }

  /**
   * Take a read lock of `key` for `token`: no writer holds it and no waiting writer is queued ahead
   * (`sleeper` is the caller's own place in the queue, if it waits). Returns the fencing token (the
   * key's counter, shared with writers), or `undefined`.
   */
  tryAcquireRead(key: string, token: string, leaseMs: number, sleeper?: Sleeper): number | undefined {
    if (this.#live(key)) return undefined;
    const queue = this.#sleepers.get(key) ?? [];
    const position = sleeper ? queue.indexOf(sleeper) : -1;
    const ahead = position >= 0 ? queue.slice(0, position) : queue;
    if (ahead.some((waiting) => waiting.kind !== 'read')) return undefined;
    const readers = this.#readers.get(key) ?? new Map<string, number>();
    this.#readers.set(key, readers);
    readers.set(token, Date.now() + leaseMs);
    return nextFence(this.#fences, key);
  }

  /** Reset the lease of `token`'s read lock of `key`; false when it holds none. */
  extendRead(key: string, token: string, leaseMs: number): boolean {
    const readers = this.#liveReaders(key);
    if (!readers?.has(token)) return false;
    readers.set(token, Date.now() + leaseMs);
    return true;
  }

  /** Drop `token`'s read lock of `key` (the last reader out wakes the waiters); false when it holds none. */
  releaseRead(key: string, token: string): boolean {
    const readers = this.#liveReaders(key);
    if (!readers?.delete(token)) return false;
    if (readers.size === 0) {
      this.#readers.delete(key);
      this.#wakeHead(key);
    }
    return true;
  }

  /** Milliseconds until `key` may be free: the writer's remaining lease, else the last reader's (0 if free). */
  remainingLeaseMs(key: string): number {
    const lock = this.#live(key);
    if (lock) return Math.max(0, lock.expiresAt - Date.now());
    const readers = this.#liveReaders(key);
    return readers ? Math.max(0, Math.max(...readers.values()) - Date.now()) : 0;
  }

  /** Queue a sleeper for `key`, first come first served (see the class comment for who is woken). */
  addSleeper(key: string, sleeper: Sleeper): void {
    addTo(this.#sleepers, key, sleeper);
  }

  /** Stop waking `sleeper` for `key` (its wait ended). */
  removeSleeper(key: string, sleeper: Sleeper): void {
    removeFrom(this.#sleepers, key, sleeper);
  }

  /** Wake the first sleepers if the key is free (a sleeper that gave up may have swallowed a wake-up). */
  wakeFirstIfFree(key: string): void {
    if (this.#live(key)) return;
    if (this.#liveReaders(key)) {
      // Readers hold it: readers at the head may join them.
      const queue = this.#sleepers.get(key);
      if (queue?.[0]?.kind === 'read') this.#wakeHead(key);
      return;
    }
    this.#wakeHead(key);
  }

  /**
   * Take one of `permits` permits of the semaphore `key` for `token`: a permit is free and fewer
   * waiters are queued ahead than permits are free (`sleeper` is the caller's own place in the queue,
   * if it waits). Returns the semaphore's next fencing token, or `undefined`.
   *
   * @throws SemaphorePermitsMismatchError if holders or waiters use other `permits`.
   */
  tryAcquirePermit(
    key: string,
    token: string,
    options: { readonly leaseMs: number; readonly permits: number; readonly sleeper?: Sleeper | undefined },
  ): number | undefined {
    return this.#semaphores.tryAcquire(key, token, options);
  }

  /** Reset the lease of `token`'s permit of `key`; false when it holds none. */
  extendPermit(key: string, token: string, leaseMs: number): boolean {
    return this.#semaphores.extend(key, token, leaseMs);
  }

  /** Give back `token`'s permit of `key`, waking as many waiters as permits are free; false when it holds none. */
  releasePermit(key: string, token: string): boolean {
    return this.#semaphores.release(key, token);
  }

  /** Milliseconds until the first permit of `key` comes free by lease end (0 if one is free). */
  remainingPermitLeaseMs(key: string): number {
    return this.#semaphores.remainingLeaseMs(key);
  }

  /** Queue a sleeper for a permit of the semaphore `key`. */
  addPermitSleeper(key: string, sleeper: Sleeper): void {
    this.#semaphores.addSleeper(key, sleeper);
  }

  /** Stop waking `sleeper` for a permit of `key`. */
  removePermitSleeper(key: string, sleeper: Sleeper): void {
    this.#semaphores.removeSleeper(key, sleeper);
  }

  /** Wake the first waiters of `key`, as many as permits are free. */
  wakePermitWaiters(key: string): void {
    this.#semaphores.wakeWaiters(key);
  }

  /** Wake the writer at the head of the queue, or every reader queued back to back at its head. */
  #wakeHead(key: string): void {
    const queue = this.#sleepers.get(key);
    if (!queue?.[0]) return;
    if (queue[0].kind !== 'read') {
      queue[0].wake();
      return;
    }
    for (const sleeper of queue) {
      if (sleeper.kind !== 'read') break;
      sleeper.wake();
    }
  }

  #live(key: string): StoredLock | undefined {
    const lock = this.#locks.get(key);
    if (lock && lock.expiresAt <= Date.now()) {
      this.#locks.delete(key);
      return undefined;
    }
    return lock;
  }

  /** The live readers of `key` (expired ones dropped), or `undefined` when there are none. */
  #liveReaders(key: string): Map<string, number> | undefined {
    const readers = this.#readers.get(key);
    if (!readers) return undefined;
    dropExpired(readers);
    if (readers.size > 0) return readers;
    this.#readers.delete(key);
    return undefined;
  }
}
