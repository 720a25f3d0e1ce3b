import { waitOrAbort } from '@dlock/core';

const NO_SLOT = Symbol('no slot');

/**
 * A counting semaphore with a FIFO queue: caps how many pooled connections one backend holds at
 * once, so held and waiting locks can never take the whole pool away from the work done under them.
 *
 * @example
 * const slots = new ConnectionSlots(4);
 * if (await slots.take(1_000, signal)) { try { ... } finally { slots.give(); } }
 */
export class ConnectionSlots {
  readonly capacity: number;
  #inUse = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /**
   * Take a slot, waiting up to `waitMs` (0: only if one is free now). Resolves false on timeout;
   * rejects with `signal.reason` if `signal` aborts first.
   */
  take(waitMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#inUse < this.capacity && this.#waiters.length === 0) {
      this.#inUse++;
      return Promise.resolve(true);
    }
    if (waitMs <= 0) return Promise.resolve(false);
    let granted = false;
    let grant!: () => void;
    const admitted = new Promise<boolean>((resolve) => {
      grant = () => {
        granted = true;
        this.#inUse++;
        resolve(true);
      };
    });
    this.#waiters.push(grant);
    return waitOrAbort(admitted, {
      signal,
      timeoutMs: waitMs,
      timeoutError: () => NO_SLOT,
      onAbandoned: () => {
        const index = this.#waiters.indexOf(grant);
        if (index >= 0) this.#waiters.splice(index, 1);
        // Granted in the same tick the caller gave up: the slot goes to the next one.
        else if (granted) this.give();
      },
    }).catch((error: unknown) => {
      if (error === NO_SLOT) return false;
      throw error;
    });
  }

  /** Give a slot back; the longest-waiting caller gets it. */
  give(): void {
    this.#inUse--;
    this.#waiters.shift()?.();
  }
}
