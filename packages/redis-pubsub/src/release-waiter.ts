/**
 * One caller of this process waiting for a lock: sleeps until a handoff message names it (or the
 * subscriber reconnected), its fallback timer fires, or its signal aborts. A wake-up that arrives
 * while it is busy re-trying is kept, so the next sleep returns at once instead of missing it.
 */
export class ReleaseWaiter {
  #wake: (() => void) | undefined;
  #pending = false;

  /** Hand one release message to this waiter. */
  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Called right before a re-try: the message handed to this waiter is now used. */
  consumeWake(): void {
    this.#pending = false;
  }

  /** Resolve on a message (true) or after `ms` (false); reject with `signal.reason` on abort. */
  sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.#pending) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#wake = undefined;
        resolve(woken);
      };
      const onAbort = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        reject(signal.reason);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      this.#wake = () => finish(true);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
