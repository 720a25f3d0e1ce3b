import { waitOrAbort } from './wait-or-abort.js';

interface LocalWaiter {
  readonly admit: () => void;
}

const TIMED_OUT = Symbol('timed out');

/** Result of asking for a key's local turn. */
export type LocalTurn = 'admitted' | 'busy' | 'timeout';

/**
 * In-process FIFO per key: only the caller at the head talks to the store, so fifty requests
 * waiting for one key in one server cost the store one waiter (and MySQL one connection).
 * An entry exists only while someone is inside, so distinct keys never accumulate.
 */
export class LocalKeyQueue {
  readonly #waiting = new Map<string, LocalWaiter[]>();

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
    if (signal.aborted) return Promise.reject(signal.reason);

    let waiter!: LocalWaiter;
    let handedTheTurn = false;
    const admitted = new Promise<LocalTurn>((resolve) => {
      waiter = {
        admit: () => {
          handedTheTurn = true;
          resolve('admitted');
        },
      };
    });
    queue.push(waiter);
    return waitOrAbort(admitted, {
      signal,
      timeoutMs: waitMs,
      timeoutError: () => TIMED_OUT,
      onAbandoned: () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        // Given the turn in the same tick it gave up: pass it on, or the key stays entered forever.
        else if (handedTheTurn) this.leave(key);
      },
    }).catch((error: unknown) => {
      if (error === TIMED_OUT) return 'timeout';
      throw error;
    });
  }

  /** Give the turn for `key` to the next local waiter, or forget the key. */
  leave(key: string): void {
    const queue = this.#waiting.get(key);
    if (!queue) return;
    const next = queue.shift();
    if (next) next.admit();
    else this.#waiting.delete(key);
  }
}
