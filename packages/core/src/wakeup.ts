import { waitOrAbort } from './wait-or-abort.js';

const SLEPT = Symbol('slept');

/**
 * A waiter that sleeps until it is woken, its time is up, or its signal aborts. A wake-up that
 * arrives while it is not sleeping (busy re-trying) is kept, so the next sleep returns at once
 * instead of missing it. What a backend needs for "sleep until a release tells me to re-try".
 *
 * @example
 * const wakeup = new Wakeup();
 * store.onRelease(key, () => wakeup.notify());
 * while (!(await tryOnce())) await wakeup.sleep(remainingMs, signal);
 */
export class Wakeup {
  #wake: (() => void) | undefined;
  #pending = false;

  /** Wake the current sleep, or the next one if it is not sleeping now. */
  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Forget a kept wake-up: call right before the re-try it asked for. */
  consume(): void {
    this.#pending = false;
  }

  /** Resolves `true` when woken, `false` after `ms`; rejects with `signal.reason` on abort. */
  async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.#pending) return true;
    const woken = new Promise<true>((resolve) => {
      this.#wake = () => resolve(true);
    });
    try {
      return await waitOrAbort(woken, { signal, timeoutMs: ms, timeoutError: () => SLEPT });
    } catch (error) {
      if (error === SLEPT) return false;
      throw error;
    } finally {
      this.#wake = undefined;
    }
  }
}
