import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The work of a critical section was stopped before it committed: the server is shutting down
 * and the grace period is over. Its transaction rolled back, so a retry elsewhere is safe.
 * HTTP 503 `SHUTTING_DOWN`.
 */
export class CriticalSectionAbortedError extends Error {
  override readonly name = 'CriticalSectionAbortedError';
  constructor() {
    super('Stopped before commit: the server is shutting down; the transaction was rolled back.');
  }
}

/**
 * Every critical section of the process (lock → BEGIN → ... → COMMIT) runs through here, so the
 * shutdown can stop them and, above all, know when none is left: a lock may only be released once
 * the transaction under it has settled. Releasing it earlier lets another server enter while this
 * one's COMMIT is still to come (a lost update with a lock in place).
 *
 * @example
 * const sections = new CriticalSections();
 * await sections.run((signal) => dataSource.transaction(async (manager) => {
 *   ...read, work, write...
 *   signal.throwIfAborted(); // last point before COMMIT
 * }));
 * // on shutdown, after the grace period:
 * sections.abort();
 * const allSettled = await sections.settled(5_000);
 */
export class CriticalSections {
  readonly #controller = new AbortController();
  readonly #running = new Set<Promise<unknown>>();

  /** Aborted by {@link abort}; its reason is a {@link CriticalSectionAbortedError}. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** How many critical sections are running now. */
  get count(): number {
    return this.#running.size;
  }

  /**
   * Run one critical section. `work` gets the shutdown signal and must check it before each
   * write and before COMMIT. After {@link abort}, new sections fail at once without running.
   */
  run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    const running = work(this.signal);
    const tracked = running.then(
      () => {},
      () => {},
    );
    this.#running.add(tracked);
    void tracked.then(() => this.#running.delete(tracked));
    return running;
  }

  /** Tell every running section to roll back at its next check, and refuse new ones. */
  abort(): void {
    this.#controller.abort(new CriticalSectionAbortedError());
  }

  /** Resolve `true` once no section runs, or `false` if some still run after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await Promise.race([Promise.all(this.#running), sleep(remaining, undefined, { ref: false })]);
    }
    return true;
  }
}
