interface LocalWaiter {
  readonly admit: () => void;
}

/** Result of asking for a key's local turn. */
export type LocalTurn = 'admitted' | 'busy' | 'timeout';

/**
 * In-process FIFO per key: only the caller at the head talks to the store, so fifty requests
 * waiting for one key in one server cost the store one waiter (and MySQL one connection).
 * An entry exists only while someone is inside, so distinct keys never accumulate.
 */
export class LocalKeyQueue {
  readonly #waiting = new Map<string, LocalWaiter[]>();

  /** Number of keys currently entered (for tests and diagnostics). */
  get size(): number {
    return this.#waiting.size;
  }

  /** Whether some caller of this process currently has the turn for `key`. */
  isEntered(key: string): boolean {
    return this.#waiting.has(key);
  }

  /**
   * Take the local turn for `key`. With `waitMs === 0` it never waits ('busy' if taken).
   * Rejects with `signal.reason` if the signal aborts first.
   */
  enter(key: string, waitMs: number, signal: AbortSignal): Promise<LocalTurn> {
    const queue = this.#waiting.get(key);
    if (!queue) {
      this.#waiting.set(key, []);
      return Promise.resolve('admitted');
    }
    if (waitMs <= 0) return Promise.resolve('busy');
    signal.throwIfAborted();

    return new Promise<LocalTurn>((resolve, reject) => {
      const leaveQueue = () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: LocalWaiter = {
        admit: () => {
          leaveQueue();
          resolve('admitted');
        },
      };
      const onAbort = () => {
        leaveQueue();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        leaveQueue();
        resolve('timeout');
      }, waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  /** Give the turn for `key` to the next local waiter, or forget the key. */
  leave(key: string): void {
    const queue = this.#waiting.get(key);
    if (!queue) return;
    const next = queue[0];
    if (next) next.admit();
    else this.#waiting.delete(key);
  }
}
